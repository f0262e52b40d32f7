/**
 * Causal language models of the GPT-2 and Llama families ({@link io.distill4j.models.lm.CausalLm} from a
 * {@link io.distill4j.models.lm.CausalLmConfig}), a transformer encoder classifier, tokenizers, generation with a
 * KV cache, answer selection by sentence embeddings, and Hugging Face folders ({@code io.distill4j.models.lm.io}).
 */
package io.distill4j.models.lm;

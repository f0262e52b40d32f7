/**
 * Causal language-model students and their fine-tuning: GPT-2 and Llama families as DJL blocks
 * ({@link io.distill4j.trainer.lm.CausalLm}), a bidirectional transformer encoder classifier over token ids
 * ({@link io.distill4j.trainer.lm.EncoderClassifier}), Hugging Face tokenizers
 * ({@link io.distill4j.trainer.lm.LmTokenizer}), and supervised or token-level distillation fine-tuning on
 * cached teacher responses ({@link io.distill4j.trainer.lm.LmFineTuner}).
 */
package io.distill4j.trainer.lm;

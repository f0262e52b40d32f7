/**
 * Causal language-model students and their fine-tuning: GPT-2 and Llama families as DJL blocks
 * ({@link io.distill4j.trainer.lm.CausalLm}), a bidirectional transformer encoder classifier over token ids
 * ({@link io.distill4j.trainer.lm.EncoderClassifier}), Hugging Face tokenizers
 * ({@link io.distill4j.trainer.lm.LmTokenizer}), supervised or token-level distillation fine-tuning on
 * cached teacher responses ({@link io.distill4j.trainer.lm.LmFineTuner}, on the shared
 * {@link io.distill4j.trainer.TrainingEngine} through {@link io.distill4j.trainer.lm.LmBatchSource}), and
 * decoding with a key/value cache ({@link io.distill4j.trainer.lm.Generation},
 * {@link io.distill4j.trainer.lm.KvCacheDecoder}, shared with the teacher module).
 */
package io.distill4j.trainer.lm;

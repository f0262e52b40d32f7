/**
 * Fine-tuning causal language-model students ({@link io.distill4j.models.lm.CausalLm}) on cached teacher
 * responses: supervised or token-level distillation ({@link io.distill4j.trainer.lm.LmFineTuner}) on the shared
 * {@link io.distill4j.trainer.TrainingEngine} through {@link io.distill4j.trainer.lm.LmBatchSource}, with packing
 * ({@link io.distill4j.trainer.lm.SequencePacker}) and the answer loss ({@link io.distill4j.trainer.lm.AnswerLoss}),
 * from examples in memory or left in the sequence cache and read batch by batch from its shards
 * ({@link io.distill4j.trainer.lm.CachedExamples});
 * on-policy generalised KD from a local teacher ({@link io.distill4j.trainer.lm.OnPolicyDistiller}); the scoring of
 * students' answers against references (similarity, hallucination rate, intra- and inter-student variance,
 * systematic noise) that the {@code llm} experiment and {@code distill4j evaluate} share
 * ({@link io.distill4j.trainer.lm.AnswerMetrics}).
 */
package io.distill4j.trainer.lm;

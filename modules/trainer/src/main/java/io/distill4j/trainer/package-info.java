/**
 * Students, the training engine, metrics and multi-student runs.
 *
 * <ul>
 *   <li>Students: {@link io.distill4j.models.Mlp} (dropout usable at inference for MC dropout), from
 *       {@link io.distill4j.models.MlpPreset}s in {@code models/mlp-*.yaml}; language models and the
 *       encoder classifier live in {@code io.distill4j.trainer.lm}.</li>
 *   <li>Engine: {@link io.distill4j.trainer.TrainingEngine#fit} trains a DJL block on micro-batches of a
 *       {@link io.distill4j.trainer.BatchSource} with a DJL {@link ai.djl.training.loss.Loss}, as a
 *       {@link io.distill4j.trainer.TrainingSpec} says: device, {@link io.distill4j.trainer.AdamW},
 *       {@link io.distill4j.trainer.LrSchedule} with warm-up, {@link io.distill4j.trainer.GradientClipping},
 *       accumulation, fp16 {@link io.distill4j.trainer.Precision}, {@link io.distill4j.trainer.Checkpoint}s
 *       with exact resume, {@link io.distill4j.trainer.EarlyStopping}, logging and a progress bar.
 *       {@link io.distill4j.trainer.TrainingSession} is one step of it;
 *       {@link io.distill4j.trainer.StudentTrainer} is its front for feature rows.</li>
 *   <li>Many students: {@link io.distill4j.trainer.MultiStudentRun} trains one student per seed and
 *       aggregates their {@link io.distill4j.trainer.Evaluators metrics} ({@link io.distill4j.trainer.stats.Summary}: mean, std, Student-t interval);
 *       {@link io.distill4j.trainer.EngineConfig} is the YAML training section.
 *       {@link io.distill4j.models.StackedMlp} trains R small students in one batched pass.</li>
 *   <li>{@link io.distill4j.trainer.Metrics}: accuracy, NLL, ECE, Brier score, entropies, intra- and
 *       inter-student variance, distillation divergence and MSE in plain double precision.</li>
 * </ul>
 */
package io.distill4j.trainer;

/**
 * The training engine, metrics and multi-student runs (the students themselves are blocks of
 * {@code io.distill4j.models}; fine-tuning language models is {@code io.distill4j.trainer.lm}).
 *
 * <ul>
 *   <li>Engine: {@link io.distill4j.trainer.TrainingEngine#fit} trains a DJL block on
 *       {@link io.distill4j.trainer.MicroBatch}es of a {@link io.distill4j.trainer.BatchSource} with a DJL
 *       {@link ai.djl.training.loss.Loss}, as a {@link io.distill4j.trainer.TrainingSpec} says: device,
 *       {@link io.distill4j.trainer.AdamW}, {@link io.distill4j.trainer.LrSchedule} with warm-up,
 *       {@link io.distill4j.trainer.GradientClipping}, accumulation, fp16 {@link io.distill4j.trainer.Precision}.
 *       Everything around the step is a {@link io.distill4j.trainer.FitListener} (told through a
 *       {@link io.distill4j.trainer.FitContext} of each {@link io.distill4j.trainer.StepMetrics} and
 *       {@link io.distill4j.trainer.Validation}): logging, the progress display
 *       ({@link io.distill4j.trainer.ProgressBarListener} on {@link io.distill4j.trainer.ConsoleProgress}), run
 *       {@link io.distill4j.trainer.Tracking} ({@link io.distill4j.trainer.JsonlTracker},
 *       {@link io.distill4j.trainer.TensorBoardTracker}), validation, {@link io.distill4j.trainer.EarlyStopping}
 *       and {@link io.distill4j.trainer.Checkpoint}s with exact resume; it returns a
 *       {@link io.distill4j.trainer.FitResult}. {@link io.distill4j.trainer.TrainingSession} is one step of it; the {@code TrainingSpec} is also the
 *       {@code training:} section of YAML files;
 *       {@link io.distill4j.trainer.StudentTrainer} is its front for feature rows.</li>
 *   <li>Many students: {@link io.distill4j.trainer.MultiStudentRun} trains one student per seed and
 *       aggregates their {@link io.distill4j.trainer.Evaluators metrics} ({@link io.distill4j.trainer.stats.Summary}: mean, std, Student-t interval);
 *       {@link io.distill4j.models.StackedMlp} trains R small students in one batched pass.</li>
 *   <li>{@link io.distill4j.trainer.Metrics}: accuracy, NLL, ECE, Brier score, entropies, intra- and
 *       inter-student variance, distillation divergence and MSE in plain double precision.</li>
 * </ul>
 */
package io.distill4j.trainer;

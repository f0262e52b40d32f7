/**
 * The one distillation pipeline under every entry point: {@link io.distill4j.pipeline.Distillation} (data, a
 * teacher sampled k times per input into a cache, targets and labels for a named loss, M students one at a time,
 * stacked or fitted in closed form ({@code ols}), metrics with Student-t intervals, saved students and a model card; causal-LM students through
 * {@code LmRun}), its teachers ({@link io.distill4j.pipeline.Teachers}: recipes, sample jobs, caches and user-built
 * teachers), where targets that fuse with the student's own estimate get it ({@link
 * io.distill4j.pipeline.StudentEstimates}: MC-dropout passes, a given estimate, a closed-form student's pilot fit),
 * and {@code distill4j sample} jobs: {@link io.distill4j.pipeline.SampleSpec} reads a YAML config naming
 * the data, the teacher and the cache; {@link io.distill4j.pipeline.SampleJob} trains or loads the teacher and fills
 * or resumes the cache.
 */
package io.distill4j.pipeline;

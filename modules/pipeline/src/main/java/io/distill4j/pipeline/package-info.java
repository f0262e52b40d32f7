/**
 * {@code distill4j sample} jobs: {@link io.distill4j.pipeline.SampleSpec} reads a YAML config naming the
 * data, the teacher and the cache; {@link io.distill4j.pipeline.SampleJob} trains or loads the teacher
 * and fills or resumes the cache.
 */
package io.distill4j.pipeline;

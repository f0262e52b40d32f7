/**
 * Datasets, the teacher-output cache and per-item sample statistics.
 *
 * <p>{@link io.distill4j.data.SklearnCsv} reads the small datasets shipped under {@code datasets/};
 * {@link io.distill4j.data.TeacherCacheWriter} and {@link io.distill4j.data.TeacherCache} write and
 * read k teacher samples per input as Apache Arrow IPC shards with a JSON manifest;
 * {@link io.distill4j.data.SampleStatistics} summarises the spread of those samples.
 */
package io.distill4j.data;

/**
 * Datasets, the teacher-output cache (format v1) and per-item sample statistics.
 *
 * <p>Cache: {@link io.distill4j.data.TeacherCacheWriter} (classification, regression) and
 * {@link io.distill4j.data.SequenceCacheWriter} (language-model top-K) append k teacher samples per input
 * as Apache Arrow IPC shards with a JSON manifest, crash-safely and resumably;
 * {@link io.distill4j.data.TeacherCache} opens a cache, verifies it
 * ({@link io.distill4j.data.CacheVerification}) and reads it through memory-mapped
 * {@link io.distill4j.data.DenseCacheReader} or {@link io.distill4j.data.SequenceCacheReader};
 * {@link io.distill4j.data.CacheStatistics} and {@link io.distill4j.data.SequenceStatistics} summarise a
 * cache in one streaming pass, and {@link io.distill4j.data.CacheInspection} formats what
 * {@code distill4j cache inspect/verify} print. The format is documented in
 * {@code modules/data/docs/cache-format.md}.
 *
 * <p>Data: {@link io.distill4j.data.SklearnCsv} and {@link io.distill4j.data.HeaderCsv} read the small
 * datasets shipped under {@code datasets/}; {@link io.distill4j.data.SampleStatistics} summarises the
 * spread of one item's samples. Subpackages: {@code datasets} (MNIST, Fashion-MNIST, ARFF, text),
 * {@code interop} (JSONL, npz, safetensors), {@code djl} (a DJL dataset over a cache).
 */
package io.distill4j.data;

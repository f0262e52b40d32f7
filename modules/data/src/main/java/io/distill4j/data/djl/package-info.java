/**
 * Deep Java Library datasets over teacher-output caches.
 *
 * <p>{@link io.distill4j.data.djl.CacheDataset} serves batches whose labels carry the teacher signal (all k
 * samples, or their mean and variance) straight from memory-mapped shards;
 * {@link io.distill4j.data.djl.SeededSampler} shuffles reproducibly.
 */
package io.distill4j.data.djl;

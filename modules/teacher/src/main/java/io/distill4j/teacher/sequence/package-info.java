/**
 * Language-model teachers into sequence caches: {@link io.distill4j.teacher.sequence.SequenceTeacher} is
 * k sampled responses per prompt with per-position top-K log-probabilities;
 * {@link io.distill4j.teacher.sequence.SequenceTeacherSampler} writes them resumably to a
 * {@link io.distill4j.data.SequenceCacheWriter}; {@link io.distill4j.teacher.sequence.Prompts} reads
 * prompt files.
 */
package io.distill4j.teacher.sequence;

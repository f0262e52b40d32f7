/**
 * Local language-model teachers: {@link io.distill4j.teacher.lm.CausalLmTeacher} samples k responses per
 * prompt from a {@link io.distill4j.models.lm.CausalLm} with a key/value cache, recording per position the
 * model's top-K log-probabilities and tail mass for a sequence cache.
 */
package io.distill4j.teacher.lm;

/**
 * Target builders and distillation losses.
 *
 * <p>A {@link io.distill4j.loss.TargetBuilder} turns the k cached teacher samples of a batch into one
 * target per item (one sample, their mean, or an inverse-variance fusion with the student's own
 * estimate). Losses are DJL {@link ai.djl.training.loss.Loss} subclasses: the teacher signal travels in
 * the labels {@link ai.djl.ndarray.NDList}, the student's logits in the predictions. {@link
 * io.distill4j.loss.Registry} maps the names a YAML config uses to builders and losses.
 */
package io.distill4j.loss;

/**
 * Students, the training loop, metrics and multi-student runs.
 *
 * <p>{@link io.distill4j.trainer.Mlp} builds feed-forward students (dropout usable at inference for MC
 * dropout); {@link io.distill4j.trainer.StudentTrainer} trains a student on per-batch targets with a DJL
 * {@link ai.djl.training.loss.Loss}; {@link io.distill4j.trainer.Metrics} computes accuracy, NLL, ECE,
 * Brier score, entropies and inter-student variance in plain double precision.
 */
package io.distill4j.trainer;

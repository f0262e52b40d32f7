/**
 * Student and teacher architectures as DJL blocks, usable without the training engine: {@link
 * io.distill4j.models.Mlp} (with dropout), {@link io.distill4j.models.StackedMlp} (many seeds as one block),
 * presets from {@code models/*.yaml} ({@link io.distill4j.models.MlpPreset}; {@link io.distill4j.models.OlsPreset}, a
 * linear student fitted in closed form by {@link io.distill4j.models.LeastSquares}) and {@link
 * io.distill4j.models.Inference} (forward passes, MC dropout, probabilities, weight checksums). Causal language
 * models live in {@code io.distill4j.models.lm}.
 */
package io.distill4j.models;

/**
 * Teachers that produce k samples per input into a teacher-output cache.
 *
 * <p>A {@link io.distill4j.teacher.Teacher} maps a batch of inputs to (B, k, width) samples;
 * {@link io.distill4j.teacher.TeacherSampler} runs it over a feature matrix and writes a cache, resumably
 * and reproducibly. The classification and regression teachers:
 * <ul>
 *   <li>{@link io.distill4j.teacher.McDropoutTeacher}: k dropout passes, fused into one forward pass;</li>
 *   <li>{@link io.distill4j.teacher.DeepEnsembleTeacher}: one sample per trained checkpoint;</li>
 *   <li>{@link io.distill4j.teacher.LaplaceTeacher} over a {@link io.distill4j.teacher.LastLayerLaplace}
 *       posterior (diagonal or KFAC GGN of the last layer): one sample per posterior draw;</li>
 *   <li>{@link io.distill4j.teacher.OutputNoiseTeacher}: additive Gaussian output noise (Cui &amp; Pei);</li>
 *   <li>{@link io.distill4j.teacher.DeterministicTeacher}: softmax with a temperature.</li>
 * </ul>
 * {@link io.distill4j.teacher.TeacherOutput} says what a sample holds. Language-model teachers behind an
 * OpenAI-compatible server live in {@code io.distill4j.teacher.http}; YAML-driven jobs in
 * {@code io.distill4j.teacher.job}; GGUF export in {@code io.distill4j.teacher.gguf}.
 */
package io.distill4j.teacher;

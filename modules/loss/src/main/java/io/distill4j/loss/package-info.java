/**
 * Target builders and distillation losses: how the k cached teacher samples of an item become a training
 * signal, and how the student is scored against it.
 *
 * <h2>Target builders</h2>
 * A {@link io.distill4j.loss.TargetBuilder} turns the teacher samples of a batch, shape (B, k, C), into one
 * target per item, shape (B, C):
 * <ul>
 *   <li>{@link io.distill4j.loss.SingleSampleTarget} ({@code single}): one sample, the full teacher noise;</li>
 *   <li>{@link io.distill4j.loss.MeanTarget} ({@code mean}): the mean of k, noise variance sigma^2 / k
 *       (Cui &amp; Pei 2026);</li>
 *   <li>{@link io.distill4j.loss.InverseVarianceTarget} ({@code inverse-variance-paper},
 *       {@code inverse-variance}): the teacher mean fused with a student estimate by inverse-variance
 *       weights, in the paper's form (oracle student, per-item ddof-0 variance) and a practical form
 *       (variance of the k-mean; the student's own estimate from {@link io.distill4j.loss.StudentEstimate#fromPasses
 *       MC-dropout passes} or an {@link io.distill4j.loss.EmaStudentEstimate EMA});</li>
 *   <li>{@link io.distill4j.loss.BayesianMeanTarget} ({@code bayesian-mean}): the posterior-predictive mean of
 *       a Bayesian teacher's draws (Morad et al. 2026);</li>
 *   <li>{@link io.distill4j.loss.WrongMassClipTarget} ({@code wrong-mass-clip}): moves mass from a wrong top-1
 *       class to the label (Kim et al. 2026), on the output of any other builder.</li>
 * </ul>
 *
 * <h2>Losses</h2>
 * Losses are DJL {@link ai.djl.training.loss.Loss} subclasses, {@code evaluate(labels, predictions)}: the
 * teacher signal travels in the labels {@link ai.djl.ndarray.NDList}, the student's outputs in the
 * predictions. All extend {@link io.distill4j.loss.DistillationLoss}, a mean of per-item losses over the
 * unpadded items, so that any of them can be wrapped by {@link io.distill4j.loss.InverseVarianceWeightedLoss}
 * ({@code weighted}) for per-item weights 1 / (teacher variance + eps). Each class's javadoc gives its
 * formula, its source and its label layout:
 * {@link io.distill4j.loss.CrossEntropyLoss} ({@code ce}),
 * {@link io.distill4j.loss.SoftTargetCrossEntropyLoss} ({@code soft-ce}),
 * {@link io.distill4j.loss.HintonKdLoss} ({@code hinton-kd}, and {@code bayesian-kd} with T_T * T_S scaling),
 * {@link io.distill4j.loss.KlDivergenceLoss} ({@code kl}), {@link io.distill4j.loss.ReverseKlLoss}
 * ({@code reverse-kl}), {@link io.distill4j.loss.GeneralizedJsdLoss} ({@code jsd}),
 * {@link io.distill4j.loss.MseLoss} ({@code mse}), {@link io.distill4j.loss.GaussianNllLoss}
 * ({@code gaussian-nll}), {@link io.distill4j.loss.SparseTopKKlLoss} ({@code sparse-topk-kl}) and
 * {@link io.distill4j.loss.FocalEntropyLoss} ({@code focal-entropy}).
 *
 * <h2>Sequences and padding</h2>
 * Items may be rows (B) or positions (B, T): predictions then have shape (B, T, C) and every loss takes an
 * optional padding mask (B, T) after its other labels. Padded positions contribute nothing, to the value or
 * the gradient, whatever the padded labels hold (NaN, infinities, out-of-range ids); the mean is over
 * unpadded positions.
 *
 * <h2>Bad input</h2>
 * Shapes that disagree, k = 0, temperatures &lt;= 0 and other hyperparameters out of range fail at once
 * (these checks read only shapes and are always on). Value checks (probabilities on the simplex within 1e-3,
 * log-probabilities at most 0, non-negative variances, class ids in range) each cost a reduction and a
 * device-to-host copy; they are on by default and can be switched off per loss
 * ({@link io.distill4j.loss.DistillationLoss#setValidate}, YAML {@code validate: false}) or per builder. Every
 * failure is an {@link java.lang.IllegalArgumentException} naming the argument and its value.
 *
 * <h2>Configuration</h2>
 * {@link io.distill4j.loss.Registry} maps the names above, and their options, to builders and losses, so
 * that YAML configs can name them: {@code loss: {name: weighted, base: {name: hinton-kd, temperature: 2},
 * eps: 1e-4}}.
 */
package io.distill4j.loss;

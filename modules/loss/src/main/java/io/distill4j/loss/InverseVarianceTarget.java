package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * Inverse-variance fusion of the teacher's k-sample mean with the student's own estimate.
 *
 * <p>Formula (the minimum-variance unbiased combination of two independent estimates, as used by
 * Cui &amp; Pei 2026, "How Is Uncertainty Propagated in Knowledge Distillation?", arXiv 2601.18909):
 * <pre>
 *   w_T = 1 / (var_T + 1e-8),  w_S = 1 / (var_S + 1e-8),  a_T = w_T / (w_T + w_S),  a_S = 1 - a_T
 *   t   = a_T * (1/k) sum_j y^(j) + a_S * mu_S
 * </pre>
 * elementwise per output. With exact variances the fused target has variance
 * (1/var_T + 1/var_S)^-1, below both inputs'. Two forms:
 * <ul>
 *   <li>{@link Form#PAPER} (registry {@code inverse-variance-paper}): var_T is the per-item sample variance
 *       of the k samples with ddof 0, <em>not</em> divided by k, exactly as the paper's code does; mu_S and
 *       var_S are given by the caller (in the paper an oracle: the noise-free teacher mean and the true
 *       noise variance);</li>
 *   <li>{@link Form#PRACTICAL} (registry {@code inverse-variance}): var_T is the variance of the k-sample
 *       mean, the ddof-1 sample variance divided by k, and mu_S, var_S come from the student itself:
 *       MC-dropout passes ({@link StudentEstimate#fromPasses}) or a running EMA of its predictions
 *       ({@link EmaStudentEstimate}). At k = 1 one sample gives no variance estimate: the teacher side is
 *       taken as exact (var_T = 0, as {@link #teacherVariance} reports) and a_T = 1 exactly, so t is the
 *       teacher's sample whatever var_S is, 0 included (the formula above would give
 *       a_T = (var_S + 1e-8) / (var_S + 2e-8), which is 1/2 at var_S = 0).</li>
 * </ul>
 * For probability targets ({@code renormalise = true}) the fused vector is divided by its sum, since
 * elementwise weights do not keep it on the simplex.
 *
 * <p>ArgumentChecks: samples of rank 3 with k &gt; 0 and a student estimate of the teacher mean's shape (always);
 * a non-negative student variance (when validating, the default).
 */
public final class InverseVarianceTarget implements TargetBuilder {

    /** Fusion weights' guard against zero variance. */
    public static final double EPS = 1e-8;

    /** Which variance the teacher side uses. */
    public enum Form {
        /** Per-item sample variance, ddof 0, as in the paper's code. */
        PAPER,
        /** Variance of the k-sample mean: ddof-1 sample variance / k. */
        PRACTICAL
    }

    private final Form form;
    private final boolean renormalise;
    private final boolean validate;

    /**
     * Creates the builder, validating values.
     *
     * @param form the teacher-variance form
     * @param renormalise whether to project the fused target back onto the simplex (probabilities)
     */
    public InverseVarianceTarget(Form form, boolean renormalise) {
        this(form, renormalise, true);
    }

    /**
     * Creates the builder.
     *
     * @param form the teacher-variance form
     * @param renormalise whether to project the fused target back onto the simplex (probabilities)
     * @param validate whether to check that the student variance is non-negative
     */
    public InverseVarianceTarget(Form form, boolean renormalise, boolean validate) {
        this.form = java.util.Objects.requireNonNull(form, "form");
        this.renormalise = renormalise;
        this.validate = validate;
    }

    @Override
    public NDArray build(NDArray samples, StudentEstimate student) {
        ArgumentChecks.rank("samples", samples, 3);
        long k = ArgumentChecks.samplesK("samples", samples);
        if (student == null) {
            throw new IllegalArgumentException("student estimate is required by inverse-variance fusion, got null");
        }
        NDArray teacherMean = samples.mean(new int[] {1});
        ArgumentChecks.sameShape("student mean", student.mean(), "teacher mean", teacherMean);
        ArgumentChecks.sameShape("student variance", student.variance(), "teacher mean", teacherMean);
        if (validate) {
            ArgumentChecks.nonNegative("student variance", student.variance());
        }
        NDArray t;
        if (form == Form.PRACTICAL && k == 1) {
            t = teacherMean; // a_T = 1: one sample has no variance estimate to weigh it by
        } else {
            NDArray wT = teacherVariance(samples).add(EPS).pow(-1);
            NDArray wS = student.variance().add(EPS).pow(-1);
            NDArray aT = wT.div(wT.add(wS));
            t = aT.mul(teacherMean.sub(student.mean())).add(student.mean());
        }
        if (renormalise) {
            t = t.div(t.sum(new int[] {1}, true));
        }
        return t;
    }

    /**
     * The teacher-side variance var_T this builder uses for a batch of samples (B, k, C): ddof 0 for the paper
     * form, ddof-1 variance / k for the practical form, and 0 for the practical form at k = 1.
     *
     * @param samples teacher samples
     * @return var_T, shape (B, C)
     */
    public NDArray teacherVariance(NDArray samples) {
        ArgumentChecks.rank("samples", samples, 3);
        long k = ArgumentChecks.samplesK("samples", samples);
        NDArray ss = samples.sub(samples.mean(new int[] {1}, true)).square().sum(new int[] {1});
        return ss.div(form == Form.PAPER || k == 1 ? k : (k - 1) * k);
    }

    @Override
    public boolean needsStudentEstimate() {
        return true;
    }

    /** @return the teacher-variance form */
    public Form form() {
        return form;
    }

    /** @return whether the fused target is renormalised onto the simplex */
    public boolean renormalise() {
        return renormalise;
    }

    @Override
    public String name() {
        return form == Form.PAPER ? "inverse-variance-paper" : "inverse-variance";
    }
}

package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * Inverse-variance fusion of the teacher's k-sample mean with the student's own estimate.
 *
 * <p>Formula (the minimum-variance unbiased combination of two independent estimates, as used by
 * Cui &amp; Pei 2026, arXiv 2601.18909):
 * <pre>
 *   w_T = 1 / (var_T + 1e-8),  w_S = 1 / (var_S + 1e-8),  a_T = w_T / (w_T + w_S),  a_S = 1 - a_T
 *   t   = a_T * mean_j y^(j) + a_S * mu_S
 * </pre>
 * elementwise per output. Two forms:
 * <ul>
 *   <li>{@link Form#PAPER}: var_T is the per-item sample variance of the k samples with ddof 0 (not
 *       divided by k), exactly as the paper's code does; mu_S and var_S are given by the caller (in the
 *       paper an oracle: the noise-free teacher mean and the true noise variance);</li>
 *   <li>{@link Form#PRACTICAL}: var_T is the variance of the k-sample mean, the ddof-1 sample variance
 *       divided by k (ddof 0 when k = 1, which gives var_T = 0 and a_T = 1), and mu_S, var_S come from the
 *       student itself (MC-dropout passes or an EMA copy).</li>
 * </ul>
 * For probability targets ({@code renormalise = true}) the fused vector is divided by its sum, since
 * elementwise weights do not keep it on the simplex.
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

    /**
     * Creates the builder.
     *
     * @param form the teacher-variance form
     * @param renormalise whether to project the fused target back onto the simplex (probabilities)
     */
    public InverseVarianceTarget(Form form, boolean renormalise) {
        this.form = java.util.Objects.requireNonNull(form, "form");
        this.renormalise = renormalise;
    }

    @Override
    public NDArray build(NDArray samples, StudentEstimate student) {
        Checks.rank("samples", samples, 3);
        if (student == null) {
            throw new IllegalArgumentException("student estimate is required by inverse-variance fusion, got null");
        }
        long k = samples.getShape().get(1);
        if (k == 0) {
            throw new IllegalArgumentException("k must be positive, got 0");
        }
        NDArray teacherMean = samples.mean(new int[] {1});
        Checks.sameShape("student mean", student.mean(), "teacher mean", teacherMean);
        Checks.sameShape("student variance", student.variance(), "teacher mean", teacherMean);
        Checks.nonNegative("student variance", student.variance());
        NDArray centred = samples.sub(teacherMean.expandDims(1));
        NDArray ss = centred.mul(centred).sum(new int[] {1});
        NDArray varT;
        if (form == Form.PAPER || k == 1) {
            varT = ss.div(k);
            if (form == Form.PRACTICAL) {
                varT = varT.div(k);
            }
        } else {
            varT = ss.div((k - 1) * k);
        }
        NDArray wT = varT.add(EPS).pow(-1);
        NDArray wS = student.variance().add(EPS).pow(-1);
        NDArray aT = wT.div(wT.add(wS));
        NDArray t = aT.mul(teacherMean).add(aT.neg().add(1).mul(student.mean()));
        if (renormalise) {
            t = t.div(t.sum(new int[] {1}, true));
        }
        return t;
    }

    @Override
    public boolean needsStudentEstimate() {
        return true;
    }

    /** @return the teacher-variance form */
    public Form form() {
        return form;
    }

    @Override
    public String name() {
        return form == Form.PAPER ? "inverse-variance-paper" : "inverse-variance";
    }
}

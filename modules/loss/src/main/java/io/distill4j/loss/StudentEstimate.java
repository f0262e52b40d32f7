package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * The student's own estimate of an item's target and the variance of that estimate, used by
 * {@link InverseVarianceTarget}.
 *
 * @param mean the estimate, shape (B, C)
 * @param variance its variance, shape (B, C), non-negative (may be +infinity: "no estimate yet")
 */
public record StudentEstimate(NDArray mean, NDArray variance) {

    /**
     * The estimate from m stochastic forward passes of the student (MC dropout, Gal &amp; Ghahramani 2016):
     * mu_S = (1/m) sum_r f_r, var_S = s^2 / m with s^2 the ddof-1 sample variance, the variance of the
     * m-pass mean.
     *
     * @param passes the student's outputs (B, m, C) (probabilities for classification), m at least 2
     * @return the estimate
     */
    public static StudentEstimate fromPasses(NDArray passes) {
        ArgumentChecks.rank("student passes", passes, 3);
        long m = passes.getShape().get(1);
        if (m < 2) {
            throw new IllegalArgumentException("student passes: m (axis 1 of " + passes.getShape()
                    + ") must be at least 2 to estimate a variance, got " + m);
        }
        NDArray mean = passes.mean(new int[] {1});
        NDArray var = passes.sub(mean.expandDims(1)).square().sum(new int[] {1}).div((m - 1) * m);
        return new StudentEstimate(mean.stopGradient(), var.stopGradient());
    }
}

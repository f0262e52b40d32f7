package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * The mean of the k teacher samples: t_i = (1/k) sum_j y_i^(j).
 *
 * <p>Cui &amp; Pei 2026 (arXiv 2601.18909): averaging k independent samples divides the teacher-noise
 * variance of the target by k (sigma_T^2 / k).
 */
public final class MeanTarget implements TargetBuilder {

    @Override
    public NDArray build(NDArray samples, StudentEstimate student) {
        Checks.rank("samples", samples, 3);
        if (samples.getShape().get(1) == 0) {
            throw new IllegalArgumentException("k must be positive, got 0");
        }
        return samples.mean(new int[] {1});
    }

    @Override
    public String name() {
        return "mean";
    }
}

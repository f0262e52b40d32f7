package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * The mean of the k teacher samples: t_i = (1/k) sum_j y_i^(j).
 *
 * <p>Cui &amp; Pei 2026 ("How Is Uncertainty Propagated in Knowledge Distillation?", arXiv 2601.18909):
 * with additive teacher noise y^(j) = mu_T(x) + eps_j, eps_j independent with variance sigma_T^2, the mean
 * of k samples has noise variance sigma_T^2 / k, so averaging shrinks the noise the student inherits by a
 * factor k. The mean of k identical samples is that sample. Registry name {@code mean}.
 */
public final class MeanTarget implements TargetBuilder {

    @Override
    public NDArray build(NDArray samples, StudentEstimate student) {
        ArgumentChecks.rank("samples", samples, 3);
        ArgumentChecks.samplesK("samples", samples);
        return samples.mean(new int[] {1});
    }

    @Override
    public String name() {
        return "mean";
    }
}

package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * The share of the k teacher samples that vote for each class: t_ic = (1/k) #{j : argmax_c' y_ic'^(j) = c}.
 *
 * <p>Cui &amp; Pei 2026 ("How Is Uncertainty Propagated in Knowledge Distillation?", arXiv 2601.18909), the
 * "multi-sample" student: trained on each of the k sampled answers as a hard label. With a cross-entropy loss that
 * is linear in the target (soft-ce), sum_j CE(onehot(argmax y^(j)), p) / k = CE(t, p), so training on the k hard
 * labels is training on this target. Ties within a sample go to the lowest class index. Needs probabilities or
 * logits (argmax is the same for both). Registry name {@code multi-sample}.
 */
public final class MultiSampleTarget implements TargetBuilder {

    @Override
    public NDArray build(NDArray samples, StudentEstimate student) {
        ArgumentChecks.rank("samples", samples, 3);
        long k = ArgumentChecks.samplesK("samples", samples);
        int c = (int) samples.getShape().get(2);
        return samples.argMax(2).oneHot(c).toType(DataType.FLOAT32, false).sum(new int[] {1}).div(k);
    }

    /** Votes of probability or logit draws (the arg-max is the same); regression values have no vote. */
    @Override
    public String outputSignal(String samples) {
        return "values".equals(samples) ? null : "probabilities";
    }

    @Override
    public String name() {
        return "multi-sample";
    }
}

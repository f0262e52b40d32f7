package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * One teacher sample as the target: t_i = y_i^(j) for a fixed sample index j.
 *
 * <p>The k = 1 baseline of Cui &amp; Pei 2026 (arXiv 2601.18909): the target carries the teacher's full
 * sampling noise sigma_T^2. Registry name {@code single}, option {@code index} (default 0).
 */
public final class SingleSampleTarget implements TargetBuilder {
    private final int index;

    /**
     * Creates the builder.
     *
     * @param index which of the k samples to use, non-negative
     */
    public SingleSampleTarget(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("index must be non-negative, got " + index);
        }
        this.index = index;
    }

    @Override
    public NDArray build(NDArray samples, StudentEstimate student) {
        ArgumentChecks.rank("samples", samples, 3);
        long k = ArgumentChecks.samplesK("samples", samples);
        if (index >= k) {
            throw new IllegalArgumentException("index " + index + " is out of range for k=" + k);
        }
        return samples.get(":, {}, :", index);
    }

    /** @return the sample index j */
    public int index() {
        return index;
    }

    @Override
    public String name() {
        return "single";
    }
}

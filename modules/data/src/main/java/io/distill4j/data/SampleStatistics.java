package io.distill4j.data;

/**
 * Statistics of one item's k teacher samples, accumulated one sample at a time in O(width) memory.
 *
 * <p>Per output c: the sample mean and variance (Welford's update; ddof 0 divides by k, ddof 1 by k-1).
 * For probability vectors also: the entropy of the mean H(mean p) (total uncertainty), the mean entropy
 * (1/k) sum_j H(p_j) (aleatoric part), and their difference, the mutual information (epistemic part).
 * Entropies use the natural logarithm and 0 log 0 = 0.
 */
public final class SampleStatistics {

    private final double[] mean;
    private final double[] m2;
    private double entropySum;
    private int count;

    /**
     * Creates an empty accumulator.
     *
     * @param width the number of outputs per sample
     */
    public SampleStatistics(int width) {
        if (width <= 0) {
            throw new IllegalArgumentException("width must be positive, got " + width);
        }
        mean = new double[width];
        m2 = new double[width];
    }

    /**
     * Computes the statistics of one item's samples.
     *
     * @param samples k rows of equal width
     * @return the filled accumulator
     */
    public static SampleStatistics of(float[][] samples) {
        SampleStatistics s = new SampleStatistics(samples[0].length);
        for (float[] row : samples) {
            s.add(row);
        }
        return s;
    }

    /**
     * Adds one sample.
     *
     * @param sample the sample's outputs
     */
    public void add(float[] sample) {
        if (sample.length != mean.length) {
            throw new IllegalArgumentException("sample has width " + sample.length + ", expected " + mean.length);
        }
        count++;
        double h = 0;
        for (int c = 0; c < mean.length; c++) {
            double x = sample[c];
            double d = x - mean[c];
            mean[c] += d / count;
            m2[c] += d * (x - mean[c]);
            if (x > 0) {
                h -= x * Math.log(x);
            }
        }
        entropySum += h;
    }

    /** @return the number of samples added */
    public int count() {
        return count;
    }

    /** @return a copy of the per-output sample mean */
    public double[] mean() {
        return mean.clone();
    }

    /**
     * The per-output sample variance.
     *
     * @param ddof 0 (divide by k) or 1 (divide by k-1; needs k at least 2)
     * @return a new array of variances
     */
    public double[] variance(int ddof) {
        if (ddof != 0 && ddof != 1) {
            throw new IllegalArgumentException("ddof must be 0 or 1, got " + ddof);
        }
        if (count - ddof <= 0) {
            throw new IllegalStateException("variance with ddof=" + ddof + " needs more than " + ddof + " samples, have " + count);
        }
        double[] v = new double[mean.length];
        for (int c = 0; c < v.length; c++) {
            v[c] = Math.max(0, m2[c] / (count - ddof));
        }
        return v;
    }

    /** @return the entropy of the mean probability vector, H(mean p) */
    public double entropyOfMean() {
        double h = 0;
        for (double p : mean) {
            if (p > 0) {
                h -= p * Math.log(p);
            }
        }
        return h;
    }

    /** @return the mean of the samples' entropies, (1/k) sum_j H(p_j) */
    public double meanEntropy() {
        return count == 0 ? 0 : entropySum / count;
    }

    /** @return the mutual information H(mean p) - mean_j H(p_j), clamped at 0 against rounding */
    public double mutualInformation() {
        return Math.max(0, entropyOfMean() - meanEntropy());
    }
}

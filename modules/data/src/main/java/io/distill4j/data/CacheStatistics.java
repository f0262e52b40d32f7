package io.distill4j.data;

import java.nio.FloatBuffer;
import java.util.function.ObjLongConsumer;

/**
 * Summary statistics of a whole classification or regression cache, computed in one streaming pass in
 * O(k * width) memory, whatever the number of items.
 *
 * <p>Per item, {@link SampleStatistics} gives the mean and variance of the k samples per output and, for
 * classification, the entropy of the mean, the mean entropy and the mutual information (caches of logits
 * are turned into probabilities with a softmax first, so every statistic is on the probability scale).
 * This record holds their averages over items; variances are also averaged over outputs.
 *
 * @param items the number of items
 * @param k samples per item
 * @param width outputs per sample
 * @param meanVariance0 the average per-output variance, ddof 0
 * @param meanVariance1 the average per-output variance, ddof 1 (NaN when k = 1)
 * @param meanEntropyOfMean average H(mean p) over items (classification; NaN for regression)
 * @param meanMeanEntropy average (1/k) sum_j H(p_j) over items (classification; NaN for regression)
 * @param meanMutualInformation average mutual information over items (classification; NaN for regression)
 * @param maxMutualInformation the largest per-item mutual information (classification; NaN for regression)
 */
public record CacheStatistics(long items, int k, int width, double meanVariance0, double meanVariance1,
        double meanEntropyOfMean, double meanMeanEntropy, double meanMutualInformation, double maxMutualInformation) {

    /**
     * Streams over the items of a cache, handing each item's statistics to a consumer.
     *
     * @param cache the cache (classification or regression)
     * @param consumer receives each item's statistics and its index; the object is reused, copy what you keep
     */
    public static void forEachItem(TeacherCache cache, ObjLongConsumer<SampleStatistics> consumer) {
        CacheManifest m = cache.manifest();
        DenseCacheReader r = cache.dense(false);
        boolean logits = "logits".equals(m.signal());
        float[] row = new float[m.width()];
        for (long i = 0; i < r.items(); i++) {
            SampleStatistics s = new SampleStatistics(m.width());
            FloatBuffer fb = r.itemBytes(i).asFloatBuffer();
            for (int j = 0; j < m.k(); j++) {
                fb.get(row);
                if (logits) {
                    softmaxInPlace(row);
                }
                s.add(row);
            }
            consumer.accept(s, i);
        }
    }

    /**
     * Computes the summary of a cache in one pass.
     *
     * @param cache the cache (classification or regression)
     * @return the summary
     */
    public static CacheStatistics of(TeacherCache cache) {
        CacheManifest m = cache.manifest();
        if (m.sequenceTask()) {
            throw new IllegalArgumentException(cache.dir() + ": sequence caches are summarised by SequenceStatistics");
        }
        boolean cls = CacheManifest.CLASSIFICATION.equals(m.task());
        double[] acc = new double[6];
        acc[5] = Double.NEGATIVE_INFINITY;
        forEachItem(cache, (s, i) -> {
            double v0 = 0;
            for (double v : s.variance(0)) {
                v0 += v;
            }
            acc[0] += v0 / m.width();
            if (m.k() > 1) {
                acc[1] += v0 / m.width() * m.k() / (m.k() - 1);
            }
            if (cls) {
                acc[2] += s.entropyOfMean();
                acc[3] += s.meanEntropy();
                acc[4] += s.mutualInformation();
                acc[5] = Math.max(acc[5], s.mutualInformation());
            }
        });
        double n = m.items();
        double nan = Double.NaN;
        return new CacheStatistics(m.items(), m.k(), m.width(), acc[0] / n, m.k() > 1 ? acc[1] / n : nan,
                cls ? acc[2] / n : nan, cls ? acc[3] / n : nan, cls ? acc[4] / n : nan, cls ? acc[5] : nan);
    }

    /**
     * Replaces logits by their softmax (max-shifted for stability).
     *
     * @param x the logits, overwritten with probabilities
     */
    public static void softmaxInPlace(float[] x) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] e = new double[x.length];
        for (int c = 0; c < x.length; c++) {
            e[c] = Math.exp(x[c] - max);
            sum += e[c];
        }
        for (int c = 0; c < x.length; c++) {
            x[c] = (float) (e[c] / sum);
        }
    }
}

package io.distill4j.data.djl;

import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Sampler;
import java.util.Iterator;
import java.util.SplittableRandom;

/**
 * Shuffles reproducibly: epoch e (counting from 0, one per call of {@link #sample}) visits the items in
 * the Fisher-Yates permutation drawn by {@code SplittableRandom(seed + e)}. Two samplers with the same seed
 * give the same sequence of epochs, unlike DJL's {@code RandomSampler}.
 */
public final class SeededSampler implements Sampler.SubSampler {
    private final long seed;
    private long epoch;

    /**
     * Creates the sampler.
     *
     * @param seed the seed of epoch 0
     */
    public SeededSampler(long seed) {
        this.seed = seed;
    }

    /**
     * The permutation of one epoch.
     *
     * @param n the dataset size
     * @param seed the sampler's seed
     * @param epoch the epoch
     * @return the item order
     */
    public static long[] permutation(int n, long seed, long epoch) {
        long[] p = new long[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed + epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            long t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Override
    public synchronized Iterator<Long> sample(RandomAccessDataset dataset) {
        long[] p = permutation(Math.toIntExact(dataset.size()), seed, epoch++);
        return new Iterator<>() {
            private int i;

            @Override
            public boolean hasNext() {
                return i < p.length;
            }

            @Override
            public Long next() {
                return p[i++];
            }
        };
    }
}

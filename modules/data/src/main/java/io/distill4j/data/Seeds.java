package io.distill4j.data;

/**
 * Seed arithmetic shared by every random stream of the project, so that a stream depends only on (seed,
 * index) and never on how work was split into batches, chunks, partitions or threads.
 */
public final class Seeds {

    private Seeds() {
    }

    /**
     * Mixes a seed with an index (SplitMix64's finaliser), so that neighbouring indices get unrelated streams.
     *
     * @param seed the run's seed
     * @param index an item, sample or batch index
     * @return a well-mixed 64-bit value
     */
    public static long mix(long seed, long index) {
        long z = seed + 0x9E3779B97F4A7C15L * (index + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

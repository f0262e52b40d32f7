package io.distill4j.data;

/**
 * How a cache writer commits and validates.
 *
 * @param fsync force every shard, the manifest and the directory to disk at each commit, so that a
 *     committed shard survives a power loss; without it a commit still survives a crash or SIGKILL of the
 *     process (the rename is atomic and the page cache outlives the process), and writing is faster
 * @param simplexTolerance for probability vectors: the largest accepted |sum - 1|; for sequence caches:
 *     the largest accepted |log(sum of top-K probabilities + tail mass)|
 */
public record CacheWriteOptions(boolean fsync, double simplexTolerance) {

    /** The default tolerance of probability sums, {@value}. */
    public static final double DEFAULT_TOLERANCE = 1e-3;

    /** Defaults: fsync on, tolerance {@value #DEFAULT_TOLERANCE}. */
    public static final CacheWriteOptions DEFAULT = new CacheWriteOptions(true, DEFAULT_TOLERANCE);

    /** Validates the tolerance. */
    public CacheWriteOptions {
        if (!(simplexTolerance >= 0 && simplexTolerance < 1)) {
            throw new IllegalArgumentException("simplexTolerance must be in [0, 1), got " + simplexTolerance);
        }
    }

    /**
     * Returns a copy with fsync on or off.
     *
     * @param on whether to force commits to disk
     * @return the new options
     */
    public CacheWriteOptions withFsync(boolean on) {
        return new CacheWriteOptions(on, simplexTolerance);
    }
}

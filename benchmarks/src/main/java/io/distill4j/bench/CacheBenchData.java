package io.distill4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** Shared fixtures of the cache benchmarks: deterministic teacher outputs and temporary folders in /tmp. */
final class CacheBenchData {
    static final int K = 16;
    static final int C = 100;
    static final int ROW_FLOATS = K * C;
    static final long ROW_BYTES = ROW_FLOATS * 4L;

    private CacheBenchData() {
    }

    /** Items in a cache of the given size in MiB (k = 16, C = 100: 6,400 bytes per item). */
    static int items(int mebibytes) {
        return (int) ((mebibytes * 1024L * 1024L) / ROW_BYTES);
    }

    /**
     * A block of items' probability vectors (item-major), each vector on the simplex.
     *
     * @param items how many items
     * @param seed the seed
     * @return the flat values
     */
    static float[] probabilities(int items, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[items * ROW_FLOATS];
        for (int s = 0; s < items * K; s++) {
            double sum = 0;
            for (int c = 0; c < C; c++) {
                double x = Math.exp(2 * r.nextGaussian());
                v[s * C + c] = (float) x;
                sum += x;
            }
            for (int c = 0; c < C; c++) {
                v[s * C + c] = (float) (v[s * C + c] / sum);
            }
        }
        return v;
    }

    /** A new folder under /tmp (the shared machine's large disk). */
    static Path tempDir(String prefix) throws IOException {
        return Files.createTempDirectory(Path.of("/tmp"), prefix);
    }

    static void delete(Path p) throws IOException {
        if (p == null || !Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(q);
            }
        }
    }

    /** The peak heap use so far, summed over the heap pools, in MiB. */
    static double peakHeapMiB() {
        long peak = 0;
        for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak / 1048576.0;
    }
}

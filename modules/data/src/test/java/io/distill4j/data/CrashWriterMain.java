package io.distill4j.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Child process of {@link CrashResumeTest}: opens (or resumes) a cache and writes items up to N, where
 * item i's content is a pure function of i. Usage: {@code CrashWriterMain dense|sequence DIR N}.
 */
public final class CrashWriterMain {
    static final int K = 3;
    static final int C = 8;
    static final int V = 300;
    static final int TOP = 5;

    private CrashWriterMain() {
    }

    /** Item i's dense samples: k probability vectors. */
    static float[][] dense(long i) {
        SplittableRandom r = new SplittableRandom(i * 7919 + 1);
        float[][] s = new float[K][C];
        for (float[] row : s) {
            double sum = 0;
            for (int c = 0; c < C; c++) {
                row[c] = (float) (r.nextDouble() + 0.01);
                sum += row[c];
            }
            for (int c = 0; c < C; c++) {
                row[c] /= sum;
            }
        }
        return s;
    }

    /** Item i's prompt. */
    static int[] prompt(long i) {
        return new int[] {(int) (i % V), (int) ((i * 7) % V), 1};
    }

    /** Item i's k sequence samples. */
    static List<SequenceSample> sequence(long i) {
        SplittableRandom r = new SplittableRandom(i * 31 + 5);
        List<SequenceSample> out = new ArrayList<>();
        for (int j = 0; j < K; j++) {
            int len = 1 + r.nextInt(6);
            int[] tokens = new int[len];
            int[] ids = new int[len * TOP];
            float[] lp = new float[len * TOP];
            for (int t = 0; t < len; t++) {
                int start = r.nextInt(V - TOP);
                double mass = 0.5 + 0.4 * r.nextDouble();
                for (int q = 0; q < TOP; q++) {
                    ids[t * TOP + q] = start + q;
                    lp[t * TOP + q] = (float) Math.log(mass / (1 << (q + 1)));
                }
                tokens[t] = ids[t * TOP];
            }
            out.add(new SequenceSample(tokens, ids, lp, null));
        }
        return out;
    }

    /**
     * Runs the writer.
     *
     * @param args mode, directory, item count
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        long n = Long.parseLong(args[2]);
        CacheWriteOptions opts = CacheWriteOptions.DEFAULT.withFsync(false);
        if (args[0].equals("dense")) {
            try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir, "classification", K, C, "probabilities",
                    Map.of("name", "crash-test"), "fp", 7, opts)) {
                System.out.println("ready " + w.nextItem());
                System.out.flush();
                for (long i = w.nextItem(); i < n; i++) {
                    w.append(dense(i));
                }
            }
        } else {
            try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, K, V, TOP, Map.of("name", "crash-test"),
                    "fp", 5, opts)) {
                System.out.println("ready " + w.nextItem());
                System.out.flush();
                for (long i = w.nextItem(); i < n; i++) {
                    w.append(prompt(i), sequence(i));
                }
            }
        }
    }
}

package io.distill4j.bench;

import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Writes a sequence cache of a synthetic language-model teacher (V = 50,257 as GPT-2, top-K = 64) and reports
 * the bytes the shards take per response token (target: at most 200) next to the write time.
 *
 * <p>The teacher: a Zipf-shaped base distribution over a random permutation of the vocabulary,
 * {@code base_r = -1.1 log(rank)}, plus independent N(0, 2^2) noise on the logits of the 4,096 most frequent
 * tokens at every position (the rest keep their base logit, folded into the normaliser with the noise's
 * mean factor exp(2)). Every position is drawn afresh, so nothing repeats that the compressor could exploit
 * beyond what such a teacher has. The twin is the naive layout: int32 ids and float32 log-probabilities
 * uncompressed, 8 K + 8 bytes per token (tokens and tail), i.e. 520 bytes at K = 64.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g", "--add-opens=java.base/java.nio=ALL-UNNAMED"})
public class CacheSequenceBenchmark {
    static final int V = 50257;
    static final int M = 4096;
    static final double SIGMA = 2.0;

    /** Top tokens kept per position. */
    @Param({"64"})
    public int topK;

    /** Responses per prompt. */
    @Param({"4"})
    public int k;

    /** Prompts. */
    @Param({"16"})
    public int items;

    /** Tokens per response. */
    @Param({"256"})
    public int length;

    private List<List<SequenceSample>> data;
    private Path dir;

    /** The size counters reported beside the time (JMH sums them over iterations: divide bytes by tokens). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Size {
        /** Shard bytes written. */
        public long shardBytes;
        /** Response tokens written. */
        public long responseTokens;
    }

    /** Draws the teacher's outputs. */
    @Setup(Level.Trial)
    public void teacher() {
        SplittableRandom r = new SplittableRandom(11);
        int[] perm = new int[V];
        for (int i = 0; i < V; i++) {
            perm[i] = i;
        }
        for (int i = V - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        double[] base = new double[V];
        double restMass = 0;
        for (int rank = 0; rank < V; rank++) {
            base[rank] = -1.1 * Math.log(rank + 1);
            if (rank >= M) {
                restMass += Math.exp(base[rank]);
            }
        }
        double rest = restMass * Math.exp(SIGMA * SIGMA / 2);
        data = new ArrayList<>();
        double[] z = new double[M];
        Integer[] order = new Integer[M];
        for (int it = 0; it < items; it++) {
            List<SequenceSample> samples = new ArrayList<>();
            for (int j = 0; j < k; j++) {
                int[] tokens = new int[length];
                int[] ids = new int[length * topK];
                float[] lp = new float[length * topK];
                for (int t = 0; t < length; t++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int m = 0; m < M; m++) {
                        z[m] = base[m] + SIGMA * r.nextGaussian();
                        max = Math.max(max, z[m]);
                        order[m] = m;
                    }
                    double sum = rest * Math.exp(-max);
                    for (int m = 0; m < M; m++) {
                        sum += Math.exp(z[m] - max);
                    }
                    double logZ = max + Math.log(sum);
                    Arrays.sort(order, (a, b) -> Double.compare(z[b], z[a]));
                    double u = r.nextDouble();
                    tokens[t] = perm[order[0]];
                    double acc = 0;
                    for (int q = 0; q < topK; q++) {
                        ids[t * topK + q] = perm[order[q]];
                        lp[t * topK + q] = (float) (z[order[q]] - logZ);
                        acc += Math.exp(lp[t * topK + q]);
                        if (u < acc && tokens[t] == perm[order[0]] && q > 0) {
                            tokens[t] = perm[order[q]];
                        }
                    }
                }
                samples.add(new SequenceSample(tokens, ids, lp, null));
            }
            data.add(samples);
        }
    }

    /** A fresh folder per iteration. */
    @Setup(Level.Iteration)
    public void folder() throws IOException {
        dir = CacheBenchData.tempDir("d4j-bench-seq-");
    }

    /** Deletes the iteration's files. */
    @TearDown(Level.Iteration)
    public void clean() throws IOException {
        CacheBenchData.delete(dir);
    }

    /**
     * Writes the cache and measures its size.
     *
     * @param size the counters
     * @return tokens written
     * @throws IOException on failure
     */
    @Benchmark
    public long writeSequenceCache(Size size) throws IOException {
        Path cacheDir = dir.resolve("cache");
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(cacheDir, k, V, topK, Map.of("name", "zipf"), "bench",
                items, CacheWriteOptions.DEFAULT.withFsync(false))) {
            for (int it = 0; it < items; it++) {
                w.append(new int[] {1, 2, 3}, data.get(it));
            }
        }
        long bytes = 0;
        for (var s : TeacherCache.open(cacheDir).manifest().shards()) {
            bytes += Files.size(cacheDir.resolve(s.file()));
        }
        long tokens = (long) items * k * length;
        size.shardBytes += bytes;
        size.responseTokens += tokens;
        double perToken = bytes / (double) tokens;
        System.out.printf("%n[%d tokens, %d bytes, %.1f bytes/token, naive layout / ours = %.2f]%n", tokens, bytes,
                perToken, (8.0 * topK + 8) / perToken);
        return tokens;
    }
}

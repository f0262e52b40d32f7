package io.distill4j.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The ratios of {@link LossSparseBenchmark}, measured paired and interleaved: each round evaluates every
 * kind once in a fresh random order, and each dense kind's time is divided by the sparse loss's time of
 * the same round. Reports median times and the median ratio with its 2.5-97.5% bootstrap interval.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar io.distill4j.bench.LossSparsePairedBenchmark
 * [rounds] [forward|backward] [threads]}.
 */
public final class LossSparsePairedBenchmark {

    private LossSparsePairedBenchmark() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        String pass = args.length > 1 ? args[1] : "forward";
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        String[] names = {"sparse", "sparse-notail", "dense-logprobs", "dense-probs", "dense-chunked"};
        List<LossSparseBenchmark> kinds = new ArrayList<>();
        for (String n : names) {
            LossSparseBenchmark b = new LossSparseBenchmark();
            b.kind = n;
            b.pass = pass;
            b.threads = threads;
            b.setUp();
            kinds.add(b);
        }
        float sink = 0;
        for (int w = 0; w < 2; w++) {
            for (LossSparseBenchmark b : kinds) {
                sink += b.loss();
            }
        }
        double[][] ms = new double[names.length][rounds];
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            order.add(i);
        }
        Random rnd = new Random(3);
        for (int r = 0; r < rounds; r++) {
            Collections.shuffle(order, rnd);
            for (int i : order) {
                long t0 = System.nanoTime();
                sink += kinds.get(i).loss();
                ms[i][r] = (System.nanoTime() - t0) / 1e6;
            }
        }
        System.out.printf(Locale.ROOT, "paired rounds: %d, pass %s; ratio = kind time / sparse time of the same round%n",
                rounds, pass);
        System.out.printf(Locale.ROOT, "%-16s %10s %10s %24s%n", "kind", "median ms", "min ms", "ratio median [95% CI]");
        for (int i = 0; i < names.length; i++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratio[r] = ms[i][r] / ms[0][r];
            }
            double[] ci = LossStepPairedBenchmark.bootstrapMedian(ratio, new Random(7));
            System.out.printf(Locale.ROOT, "%-16s %10.1f %10.1f %10.2f [%.2f, %.2f]%n", names[i],
                    LossStepPairedBenchmark.median(ms[i]), java.util.Arrays.stream(ms[i]).min().orElse(Double.NaN),
                    LossStepPairedBenchmark.median(ratio), ci[0], ci[1]);
        }
        System.out.println("(sink " + (sink != 0) + ")");
        for (LossSparseBenchmark b : kinds) {
            b.tearDown();
        }
    }
}

package io.distill4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The ratios of {@link LossStepBenchmark}, measured paired and interleaved so that a shared, noisy machine
 * slows every loss kind alike: each round runs a block of steps of every kind, in a fresh random order, and
 * the ratio of each kind to cross-entropy is taken within the round. Reports the median ratio over rounds
 * with its 2.5-97.5% bootstrap interval.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar io.distill4j.bench.LossStepPairedBenchmark
 * [rounds] [steps per block] [djl|engine] [threads]} (with the JVM flags of benchmarks/RESULTS.md).
 */
public final class LossStepPairedBenchmark {

    private LossStepPairedBenchmark() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        String trainerKind = args.length > 2 ? args[2] : "djl";
        String threads = args.length > 3 ? args[3] : "1";
        System.setProperty("ai.djl.pytorch.num_threads", threads);
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        String[] names = {"ce-djl", "ce", "kd", "weighted-given", "weighted-samples", "weighted-given-validated",
            "weighted-samples-validated"};
        // one model, batch and teacher for all kinds: only the loss differs between them
        LossStepBenchmark.Shared shared = new LossStepBenchmark.Shared(trainerKind);
        List<LossStepBenchmark.Step> kinds = new ArrayList<>();
        for (String n : names) {
            kinds.add(new LossStepBenchmark.Step(n, shared));
        }
        float sink = 0;
        for (int w = 0; w < 3; w++) {
            for (LossStepBenchmark.Step k : kinds) {
                for (int i = 0; i < 50; i++) {
                    sink += k.step();
                }
            }
        }
        double[][] ms = new double[names.length][rounds];
        double[][] cpu = new double[names.length][rounds];
        Random order = new Random(1);
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            idx.add(i);
        }
        for (int r = 0; r < rounds; r++) {
            Collections.shuffle(idx, order);
            for (int i : idx) {
                LossStepBenchmark.Step k = kinds.get(i);
                long c0 = LossStepBenchmark.Cpu.now();
                long t0 = System.nanoTime();
                for (int s = 0; s < steps; s++) {
                    sink += k.step();
                }
                ms[i][r] = (System.nanoTime() - t0) / 1e6 / steps;
                cpu[i][r] = (LossStepBenchmark.Cpu.now() - c0) / 1e6 / steps;
            }
        }
        System.out.printf(Locale.ROOT, "paired rounds: %d x %d steps per kind, trainer %s, %s thread(s); ratios to the "
                + "faster cross-entropy of each round (min of ce-djl, ce)%n", rounds, steps, trainerKind, threads);
        System.out.printf(Locale.ROOT, "%-28s %10s %10s %22s %22s %14s%n", "kind", "median ms", "min ms",
                "ratio median [95% CI]", "vs ce-djl [95% CI]", "p10/p10 ce");
        for (int i = 0; i < names.length; i++) {
            double[] ratio = new double[rounds];
            double[] ratioDjl = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratio[r] = ms[i][r] / Math.min(ms[0][r], ms[1][r]);
                ratioDjl[r] = ms[i][r] / ms[0][r];
            }
            double[] ci = bootstrapMedian(ratio, new Random(7));
            double[] ciDjl = bootstrapMedian(ratioDjl, new Random(7));
            double p10ce = Math.min(quantile(ms[0], 0.1), quantile(ms[1], 0.1));
            System.out.printf(Locale.ROOT, "%-28s %10.3f %10.3f %8.3f [%.3f, %.3f] %8.3f [%.3f, %.3f] %14.3f%n",
                    names[i], median(ms[i]), Arrays.stream(ms[i]).min().orElse(Double.NaN), median(ratio), ci[0],
                    ci[1], median(ratioDjl), ciDjl[0], ciDjl[1], quantile(ms[i], 0.1) / p10ce);
        }
        System.out.println("CPU time of the stepping thread per step (excludes time other processes hold the cores; the whole step with 1 intra-op thread):");
        table(names, cpu, "cpu");
        System.out.println("Wall time per step, the same ratios:");
        table(names, ms, "wall");
        System.out.println("(sink " + (sink != 0) + ")");
        for (LossStepBenchmark.Step k : kinds) {
            k.close();
        }
        shared.close();
    }

    /**
     * Median per-round ratios of each kind to the cross-entropy kinds: to the faster of the two (biased
     * against the other kinds: the minimum of two noisy times is low by about half their noise), to each,
     * and to their mean (the unbiased reference).
     */
    static void table(String[] names, double[][] t, String what) {
        System.out.printf(Locale.ROOT, "%-28s %12s %24s %24s %24s %24s%n", "kind", "median " + what + " ms",
                "vs min(ce-djl, ce)", "vs ce-djl", "vs ce", "vs mean(ce-djl, ce)");
        int rounds = t[0].length;
        for (int i = 0; i < names.length; i++) {
            double[][] r = new double[4][rounds];
            for (int k = 0; k < rounds; k++) {
                r[0][k] = t[i][k] / Math.min(t[0][k], t[1][k]);
                r[1][k] = t[i][k] / t[0][k];
                r[2][k] = t[i][k] / t[1][k];
                r[3][k] = t[i][k] / (0.5 * (t[0][k] + t[1][k]));
            }
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-28s %12.3f", names[i], median(t[i])));
            for (double[] ratio : r) {
                double[] ci = bootstrapMedian(ratio, new Random(7));
                line.append(String.format(Locale.ROOT, " %8.3f [%.3f, %.3f]", median(ratio), ci[0], ci[1]));
            }
            System.out.println(line);
        }
    }

    static double quantile(double[] v, double q) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[(int) Math.floor(q * (c.length - 1))];
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : 0.5 * (c[c.length / 2 - 1] + c[c.length / 2]);
    }

    static double[] bootstrapMedian(double[] v, Random rnd) {
        int b = 2000;
        double[] meds = new double[b];
        double[] s = new double[v.length];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < v.length; j++) {
                s[j] = v[rnd.nextInt(v.length)];
            }
            meds[i] = median(s);
        }
        Arrays.sort(meds);
        return new double[] {meds[(int) (0.025 * b)], meds[(int) (0.975 * b)]};
    }
}

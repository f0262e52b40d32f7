package io.distill4j.bench;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.distill4j.loss.MeanTarget;
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
 * [rounds] [steps per block]} (with the env and JVM flags of benchmarks/RESULTS.md).
 */
public final class LossStepPairedBenchmark {

    private LossStepPairedBenchmark() {
    }

    /** One kind: its own model, trainer, loss and labels (same seed, same data). */
    static final class Kind implements AutoCloseable {
        final String name;
        final Model model;
        final Trainer trainer;
        final Loss loss;
        final NDList data;
        final NDList labels;
        final boolean buildTarget;

        Kind(String name) {
            this.name = name;
            model = Model.newInstance("mlp-" + name, Device.cpu(), "PyTorch");
            model.setBlock(LossStepBenchmark.mlp());
            loss = LossStepBenchmark.lossOf(name);
            trainer = model.newTrainer(new DefaultTrainingConfig(loss)
                    .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).build())
                    .optDevices(new Device[] {Device.cpu()}));
            trainer.initialize(new Shape(LossStepBenchmark.BATCH, 784));
            LossStepBenchmark setup = new LossStepBenchmark();
            setup.loss = name;
            NDManager m = trainer.getManager();
            Random rnd = new Random(42);
            float[] xs = new float[LossStepBenchmark.BATCH * 784];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) rnd.nextGaussian();
            }
            long[] ys = new long[LossStepBenchmark.BATCH];
            for (int i = 0; i < ys.length; i++) {
                ys[i] = rnd.nextInt(LossStepBenchmark.C);
            }
            NDArray x = m.create(xs, new Shape(LossStepBenchmark.BATCH, 784));
            NDArray y = m.create(ys, new Shape(LossStepBenchmark.BATCH));
            NDArray samples = LossStepBenchmark.teacherSamples(m, rnd);
            NDArray mean = new MeanTarget().build(samples, null);
            NDArray var = samples.sub(mean.expandDims(1)).square().sum(new int[] {1, 2})
                    .div((LossStepBenchmark.K - 1) * LossStepBenchmark.C);
            data = new NDList(x);
            buildTarget = name.startsWith("weighted-samples");
            if (name.startsWith("ce")) {
                labels = new NDList(y);
            } else if (name.equals("kd")) {
                labels = new NDList(y, mean);
            } else if (buildTarget) {
                labels = new NDList(y, samples);
            } else {
                labels = new NDList(y, mean, var);
            }
        }

        float step() {
            try (NDManager sub = trainer.getManager().newSubManager()) {
                data.tempAttach(sub);
                labels.tempAttach(sub);
                NDList l = labels;
                if (buildTarget) {
                    NDArray mean = new MeanTarget().build(labels.get(1), null);
                    l = new NDList(labels.get(0), mean, labels.get(1));
                }
                NDArray value;
                try (GradientCollector gc = trainer.newGradientCollector()) {
                    NDList pred = trainer.forward(data);
                    value = loss.evaluate(l, pred);
                    gc.backward(value);
                }
                trainer.step();
                return value.getFloat();
            }
        }

        @Override
        public void close() {
            trainer.close();
            model.close();
        }
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        String[] names = {"ce-djl", "ce", "kd", "weighted-given", "weighted-samples", "weighted-given-validated",
            "weighted-samples-validated"};
        List<Kind> kinds = new ArrayList<>();
        for (String n : names) {
            kinds.add(new Kind(n));
        }
        float sink = 0;
        for (int w = 0; w < 3; w++) {
            for (Kind k : kinds) {
                for (int i = 0; i < 50; i++) {
                    sink += k.step();
                }
            }
        }
        double[][] ms = new double[names.length][rounds];
        Random order = new Random(1);
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            idx.add(i);
        }
        for (int r = 0; r < rounds; r++) {
            Collections.shuffle(idx, order);
            for (int i : idx) {
                Kind k = kinds.get(i);
                long t0 = System.nanoTime();
                for (int s = 0; s < steps; s++) {
                    sink += k.step();
                }
                ms[i][r] = (System.nanoTime() - t0) / 1e6 / steps;
            }
        }
        System.out.printf(Locale.ROOT, "paired rounds: %d x %d steps per kind; ratios to the faster cross-entropy "
                + "of each round (min of ce-djl, ce)%n", rounds, steps);
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
        System.out.println("(sink " + (sink != 0) + ")");
        for (Kind k : kinds) {
            k.close();
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

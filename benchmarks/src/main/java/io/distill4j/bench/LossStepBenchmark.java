package io.distill4j.bench;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.distill4j.loss.CrossEntropyLoss;
import io.distill4j.loss.HintonKdLoss;
import io.distill4j.loss.InverseVarianceWeightedLoss;
import io.distill4j.loss.InverseVarianceWeightedLoss.VarianceSource;
import io.distill4j.loss.MeanTarget;
import io.distill4j.models.Mlp;
import io.distill4j.trainer.TrainingSession;
import io.distill4j.trainer.TrainingSpec;
import java.lang.management.ManagementFactory;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One training step (forward, loss, backward, Adam update) of an MLP 784-512-256-10 at batch 256 on the
 * CPU, with plain cross-entropy against the inverse-variance-weighted KD loss (issue 4: the weighted step
 * must cost at most 1.05x the cross-entropy step). Teacher: k = 16 samples of C = 10 class probabilities
 * per item.
 *
 * <p>{@code loss}:
 * <ul>
 *   <li>{@code ce-djl}: DJL's own {@code SoftmaxCrossEntropyLoss} (the baseline a DJL user has);</li>
 *   <li>{@code ce}: distill4j's {@link CrossEntropyLoss};</li>
 *   <li>{@code kd}: Hinton KD (T = 4, alpha = 0.5) on the precomputed mean of the 16 samples;</li>
 *   <li>{@code weighted-given}: that KD loss with per-item inverse-variance weights, the target and the
 *       per-item variance precomputed (as the cache pipeline stores them), value checks off;</li>
 *   <li>{@code weighted-samples}: the same, with the target (mean of k) and the per-item variance computed
 *       in the step from the (256, 16, 10) samples, value checks off;</li>
 *   <li>{@code weighted-given-validated} / {@code weighted-samples-validated}: as above with the value
 *       checks on (simplex, non-negative variance, label range: one device-to-host copy each).</li>
 * </ul>
 * {@code trainer}: {@code djl} (DJL's stock {@code Trainer} with Adam) or {@code engine} (distill4j's
 * {@link TrainingSession}, AdamW with weight decay 0). {@code threads}: PyTorch intra-op threads.
 *
 * <p>Two benchmarks: {@code step}, the whole step, and {@code lossOnly}, the loss's forward and backward on
 * fixed logits (256, 10) with no network, whose differences between kinds are the whole differences
 * between their steps. Both report the calling thread's CPU time per call next to the wall time (on a shared machine
 * the wall time includes the time other processes hold the cores). {@link LossStepPairedBenchmark} measures
 * the same steps paired and interleaved.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 10, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--add-opens=java.base/java.nio=ALL-UNNAMED", "-Dai.djl.offline=true", "-Xmx4g"})
public class LossStepBenchmark {

    static final int BATCH = 256;
    static final int K = 16;
    static final int C = 10;

    @Param({"ce-djl", "ce", "kd", "weighted-given", "weighted-samples", "weighted-given-validated",
        "weighted-samples-validated"})
    public String loss;

    @Param({"djl", "engine"})
    public String trainer;

    @Param({"1"})
    public int threads;

    Shared shared;
    Step step;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        shared = new Shared(trainer);
        step = new Step(loss, shared);
    }

    /** What all kinds share: the model (and DJL trainer), the batch and the teacher samples. */
    static final class Shared implements AutoCloseable {
        final String trainerKind;
        final Model model;
        final Trainer djl;
        final NDManager data;
        final NDList x;
        final NDArray y;
        final NDArray samples;
        final NDArray mean;
        final NDArray var;
        final NDArray logits;

        Shared(String trainerKind) {
            this.trainerKind = trainerKind;
            Engine.getInstance().setRandomSeed(0);
            model = Model.newInstance("mlp", Device.cpu(), "PyTorch");
            if (trainerKind.equals("djl")) {
                model.setBlock(mlp());
                djl = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                        .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).build())
                        .optDevices(new Device[] {Device.cpu()}));
                djl.initialize(new Shape(BATCH, 784));
            } else if (trainerKind.equals("engine")) {
                model.setBlock(Mlp.builder().setInputs(784).setHidden(512, 256).setOutputs(C).build());
                model.getBlock().initialize(model.getNDManager(), DataType.FLOAT32, new Shape(BATCH, 784));
                djl = null;
            } else {
                throw new IllegalArgumentException("trainer must be djl or engine, got " + trainerKind);
            }
            data = NDManager.newBaseManager();
            Random rnd = new Random(42);
            float[] xs = new float[BATCH * 784];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) rnd.nextGaussian();
            }
            long[] ys = new long[BATCH];
            for (int i = 0; i < BATCH; i++) {
                ys[i] = rnd.nextInt(C);
            }
            x = new NDList(data.create(xs, new Shape(BATCH, 784)));
            y = data.create(ys, new Shape(BATCH));
            samples = teacherSamples(data, rnd);
            mean = new MeanTarget().build(samples, null);
            var = samples.sub(mean.expandDims(1)).square().sum(new int[] {1, 2}).div((K - 1) * C);
            logits = data.randomNormal(0, 2, new Shape(BATCH, C), DataType.FLOAT32);
            logits.setRequiresGradient(true);
        }

        @Override
        public void close() {
            if (djl != null) {
                djl.close();
            }
            model.close();
            data.close();
        }
    }

    /** One kind of step on the shared model: its loss, its labels and (engine) its training session. */
    static final class Step implements AutoCloseable {
        final String kind;
        final Shared shared;
        final TrainingSession engine;
        final Loss lossFn;
        final NDList labels;
        final boolean buildTarget;

        Step(String kind, Shared shared) {
            this.kind = kind;
            this.shared = shared;
            lossFn = lossOf(kind);
            engine = shared.djl == null
                    ? new TrainingSession(shared.model, lossFn, TrainingSpec.builder().setLearningRate(1e-3f).build())
                    : null;
            buildTarget = kind.startsWith("weighted-samples");
            if (kind.startsWith("ce")) {
                labels = new NDList(shared.y);
            } else if (kind.equals("kd")) {
                labels = new NDList(shared.y, shared.mean);
            } else if (buildTarget) {
                labels = new NDList(shared.y, shared.samples);
            } else {
                labels = new NDList(shared.y, shared.mean, shared.var);
            }
        }

        /** The labels of one step; for weighted-samples the target builder runs here, in the step. */
        NDList stepLabels() {
            if (!buildTarget) {
                return labels;
            }
            NDArray mean = new MeanTarget().build(labels.get(1), null);
            return new NDList(labels.get(0), mean, labels.get(1));
        }

        float step() {
            if (engine != null) {
                try (NDManager sub = shared.data.newSubManager()) {
                    sub.tempAttachAll(shared.x, labels);
                    float v = engine.forwardBackward(shared.x, stepLabels(), 1f);
                    engine.update(1e-3f);
                    return v;
                }
            }
            Trainer djl = shared.djl;
            try (NDManager sub = djl.getManager().newSubManager()) {
                sub.tempAttachAll(shared.x, labels);
                NDList l = stepLabels();
                NDArray value;
                try (GradientCollector gc = djl.newGradientCollector()) {
                    value = lossFn.evaluate(l, djl.forward(shared.x));
                    gc.backward(value);
                }
                djl.step();
                return value.getFloat();
            }
        }

        float lossOnly() {
            try (NDManager sub = shared.data.newSubManager()) {
                sub.tempAttachAll(new NDList(shared.logits), labels);
                NDList l = stepLabels();
                NDArray value;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    value = lossFn.evaluate(l, new NDList(shared.logits));
                    gc.backward(value);
                }
                return value.getFloat();
            }
        }

        @Override
        public void close() {
            if (engine != null) {
                engine.close();
            }
        }
    }

    static SequentialBlock mlp() {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(512).build()).add(Activation::relu)
                .add(Linear.builder().setUnits(256).build()).add(Activation::relu)
                .add(Linear.builder().setUnits(C).build());
    }

    /** k = 16 noisy probability vectors per item: softmax of (item logits + noise of item-specific scale). */
    static NDArray teacherSamples(NDManager m, Random rnd) {
        float[] s = new float[BATCH * K * C];
        for (int b = 0; b < BATCH; b++) {
            double[] base = new double[C];
            for (int c = 0; c < C; c++) {
                base[c] = 2 * rnd.nextGaussian();
            }
            double noise = 0.1 + rnd.nextDouble();
            for (int j = 0; j < K; j++) {
                double[] z = new double[C];
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < C; c++) {
                    z[c] = base[c] + noise * rnd.nextGaussian();
                    max = Math.max(max, z[c]);
                }
                double sum = 0;
                for (int c = 0; c < C; c++) {
                    z[c] = Math.exp(z[c] - max);
                    sum += z[c];
                }
                for (int c = 0; c < C; c++) {
                    s[(b * K + j) * C + c] = (float) (z[c] / sum);
                }
            }
        }
        return m.create(s, new Shape(BATCH, K, C));
    }

    static Loss lossOf(String kind) {
        switch (kind) {
            case "ce-djl":
                return Loss.softmaxCrossEntropyLoss();
            case "ce":
                return new CrossEntropyLoss().setValidate(false);
            case "kd":
                return new HintonKdLoss(4, 0.5).setValidate(false);
            case "weighted-given":
            case "weighted-given-validated":
                return new InverseVarianceWeightedLoss(new HintonKdLoss(4, 0.5), 1e-6, VarianceSource.GIVEN)
                        .setValidate(kind.endsWith("validated"));
            case "weighted-samples":
            case "weighted-samples-validated":
                return new InverseVarianceWeightedLoss(new HintonKdLoss(4, 0.5), 1e-6, VarianceSource.SAMPLES)
                        .setValidate(kind.endsWith("validated"));
            default:
                throw new IllegalArgumentException("unknown loss kind " + kind);
        }
    }

    /**
     * CPU milliseconds of the calling thread and calls per iteration; their ratio is CPU ms per call. With one
     * intra-op thread PyTorch runs every op on the calling thread, so this is the step's whole CPU time.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Cpu {
        static final java.lang.management.ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        /** CPU milliseconds spent in the measured calls. */
        public double cpuMs;
        /** Measured calls. */
        public long calls;
        private long start;

        /** Resets the counters at the start of an iteration. */
        @Setup(Level.Iteration)
        public void reset() {
            cpuMs = 0;
            calls = 0;
        }

        static long now() {
            return THREADS.getCurrentThreadCpuTime();
        }

        void begin() {
            start = now();
        }

        void end() {
            cpuMs += (now() - start) / 1e6;
            calls++;
        }
    }

    /**
     * One training step.
     *
     * @param cpu CPU-time counters
     * @return the loss
     */
    @Benchmark
    public float step(Cpu cpu) {
        cpu.begin();
        float v = step.step();
        cpu.end();
        return v;
    }

    /**
     * The loss alone: forward and backward of the loss (and, for {@code weighted-samples}, the target
     * builder) on fixed logits (256, 10) that require a gradient.
     *
     * @param cpu CPU-time counters
     * @return the loss
     */
    @Benchmark
    public float lossOnly(Cpu cpu) {
        cpu.begin();
        float v = step.lossOnly();
        cpu.end();
        return v;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        step.close();
        shared.close();
    }
}

package io.distill4j.bench;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
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
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
 * must cost at most 1.05x the cross-entropy step). Teacher: k = 16 samples of C = 10 class probabilities.
 *
 * <p>Loss kinds:
 * <ul>
 *   <li>{@code ce-djl}: DJL's own {@code SoftmaxCrossEntropyLoss} (the baseline a DJL user has);</li>
 *   <li>{@code ce}: distill4j's {@link CrossEntropyLoss};</li>
 *   <li>{@code kd}: Hinton KD (T = 4, alpha = 0.5) on the precomputed mean of the 16 samples;</li>
 *   <li>{@code weighted-given}: that KD loss with per-item inverse-variance weights, target and per-item
 *       variance precomputed (as the cache pipeline stores them), value checks off;</li>
 *   <li>{@code weighted-samples}: the same, with the target (mean of k) and the per-item variance computed
 *       in the step from the (256, 16, 10) samples, value checks off;</li>
 *   <li>{@code weighted-given-validated} / {@code weighted-samples-validated}: as above with the value
 *       checks on (simplex, non-negative variance, label range: one device-to-host copy each).</li>
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar LossStepBenchmark} (with the env and JVM
 * flags of benchmarks/RESULTS.md).
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

    Model model;
    Trainer trainer;
    NDList data;
    NDList labels;
    NDArray logits;
    Loss lossFn;
    boolean buildTarget;

    static SequentialBlock mlp() {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(512).build()).add(Activation::relu)
                .add(Linear.builder().setUnits(256).build()).add(Activation::relu)
                .add(Linear.builder().setUnits(C).build());
    }

    @Setup(Level.Trial)
    public void setUp() {
        model = Model.newInstance("mlp", Device.cpu(), "PyTorch");
        model.setBlock(mlp());
        lossFn = lossOf(loss);
        DefaultTrainingConfig cfg = new DefaultTrainingConfig(lossFn)
                .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).build())
                .optDevices(new Device[] {Device.cpu()});
        trainer = model.newTrainer(cfg);
        trainer.initialize(new Shape(BATCH, 784));
        NDManager m = trainer.getManager();
        Random rnd = new Random(42);
        float[] xs = new float[BATCH * 784];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) rnd.nextGaussian();
        }
        long[] ys = new long[BATCH];
        for (int i = 0; i < BATCH; i++) {
            ys[i] = rnd.nextInt(C);
        }
        NDArray x = m.create(xs, new Shape(BATCH, 784));
        NDArray y = m.create(ys, new Shape(BATCH));
        NDArray samples = teacherSamples(m, rnd);
        NDArray mean = new MeanTarget().build(samples, null);
        NDArray var = samples.sub(mean.expandDims(1)).square().sum(new int[] {1, 2}).div((K - 1) * C);
        data = new NDList(x);
        logits = m.randomNormal(0, 2, new Shape(BATCH, C), ai.djl.ndarray.types.DataType.FLOAT32);
        logits.setRequiresGradient(true);
        buildTarget = loss.startsWith("weighted-samples");
        if (loss.startsWith("ce")) {
            labels = new NDList(y);
        } else if (loss.equals("kd")) {
            labels = new NDList(y, mean);
        } else if (buildTarget) {
            labels = new NDList(y, samples);
        } else {
            labels = new NDList(y, mean, var);
        }
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

    @Benchmark
    public float step() {
        try (NDManager sub = trainer.getManager().newSubManager()) {
            data.tempAttach(sub);
            labels.tempAttach(sub);
            NDList l = labels;
            if (buildTarget) {
                // the target builder runs in the step: labels (y, samples) -> (y, mean of k, samples)
                NDArray mean = new MeanTarget().build(labels.get(1), null);
                l = new NDList(labels.get(0), mean, labels.get(1));
            }
            NDArray value;
            try (GradientCollector gc = trainer.newGradientCollector()) {
                NDList pred = trainer.forward(data);
                value = lossFn.evaluate(l, pred);
                gc.backward(value);
            }
            trainer.step();
            return value.getFloat();
        }
    }

    /**
     * The loss alone: forward and backward of the loss (and, for {@code weighted-samples}, the target
     * builder) on fixed logits (256, 10) that require a gradient, no network. The difference between two
     * kinds here is the whole difference between their training steps.
     */
    @Benchmark
    public float lossOnly() {
        try (NDManager sub = trainer.getManager().newSubManager()) {
            logits.tempAttach(sub);
            labels.tempAttach(sub);
            NDList l = labels;
            if (buildTarget) {
                NDArray mean = new MeanTarget().build(labels.get(1), null);
                l = new NDList(labels.get(0), mean, labels.get(1));
            }
            NDArray value;
            try (GradientCollector gc = trainer.newGradientCollector()) {
                value = lossFn.evaluate(l, new NDList(logits));
                gc.backward(value);
            }
            return value.getFloat();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        trainer.close();
        model.close();
    }
}

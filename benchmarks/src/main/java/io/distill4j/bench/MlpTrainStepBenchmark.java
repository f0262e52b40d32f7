package io.distill4j.bench;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.distill4j.models.Mlp;
import io.distill4j.trainer.TrainingSession;
import io.distill4j.trainer.TrainingSpec;
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
 * One training step of the MLP 784-512-256-10 (ReLU, no dropout) at batch 256: forward, softmax
 * cross-entropy on integer labels, reading the loss, backward and an AdamW update (lr 1e-3, weight decay
 * 0.01), on the CPU with {@code threads} intra-op threads. {@code benchmarks/pytorch/mlp_step.py} does
 * exactly the same in PyTorch eager; {@code benchmarks/run-mlp-bench.sh} runs both and prints the ratio.
 *
 * <ul>
 *   <li>{@code engine}: distill4j's {@link TrainingSession} (fused AdamW per parameter, no parameter copies).</li>
 *   <li>{@code djlTrainer}: DJL's stock {@link Trainer} with {@code Optimizer.adamW}, for reference.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.nio=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MlpTrainStepBenchmark {

    /** Batch size. */
    public static final int BATCH = 256;
    /** Input width. */
    public static final int INPUTS = 784;
    /** Classes. */
    public static final int CLASSES = 10;

    /** Intra-op threads of the PyTorch engine (set before the engine starts). */
    @Param({"1"})
    public int threads;

    private NDManager data;
    private NDList x;
    private NDList y;
    private Model engineModel;
    private TrainingSession session;
    private Model trainerModel;
    private Trainer trainer;
    private Loss loss;

    /** Starts the engine with the thread count and builds both students and the batch. */
    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        Engine.getInstance().setRandomSeed(0);
        data = NDManager.newBaseManager();
        Random r = new Random(0);
        float[] xs = new float[BATCH * INPUTS];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = r.nextFloat();
        }
        int[] ys = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            ys[i] = r.nextInt(CLASSES);
        }
        x = new NDList(data.create(xs, new Shape(BATCH, INPUTS)));
        y = new NDList(data.create(ys).toType(DataType.INT64, false));
        loss = Loss.softmaxCrossEntropyLoss();

        engineModel = newModel();
        TrainingSpec spec = TrainingSpec.builder().setLearningRate(1e-3f).optWeightDecay(0.01f).build();
        session = new TrainingSession(engineModel, loss, spec);

        trainerModel = newModel();
        trainer = trainerModel.newTrainer(new DefaultTrainingConfig(loss).optOptimizer(Optimizer.adamW()
                .optLearningRateTracker(Tracker.fixed(1e-3f)).optWeightDecays(0.01f).build()));
    }

    private static Model newModel() {
        Model m = Model.newInstance("mlp");
        m.setBlock(Mlp.builder().setInputs(INPUTS).setHidden(512, 256).setOutputs(CLASSES).build());
        m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(BATCH, INPUTS));
        return m;
    }

    /**
     * One step through the distill4j engine.
     *
     * @param cpu CPU-time counters
     * @return the loss
     */
    @Benchmark
    public float engine(CpuTime cpu) {
        cpu.begin();
        float l = session.forwardBackward(x, y, 1f);
        session.update(1e-3f);
        cpu.end();
        return l;
    }

    /**
     * One step through DJL's stock Trainer.
     *
     * @param cpu CPU-time counters
     * @return the loss
     */
    @Benchmark
    public float djlTrainer(CpuTime cpu) {
        cpu.begin();
        try (NDManager sub = trainer.getManager().newSubManager()) {
            sub.tempAttachAll(x, y);
            float l;
            try (GradientCollector gc = trainer.newGradientCollector()) {
                NDArray value = loss.evaluate(y, trainer.forward(x));
                l = value.getFloat();
                gc.backward(value);
            }
            trainer.step();
            cpu.end();
            return l;
        }
    }

    /** Frees everything. */
    @TearDown(Level.Trial)
    public void tearDown() {
        session.close();
        engineModel.close();
        trainer.close();
        trainerModel.close();
        data.close();
    }
}

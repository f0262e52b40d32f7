package io.distill4j.bench;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.distill4j.trainer.TrainingSession;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.lm.AnswerLoss;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.trainer.lm.LmFineTuner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
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
 * One training step of a causal-LM student (forward in training mode with dropout, next-token
 * cross-entropy on every position, backward, AdamW update of every parameter: the engine's
 * {@code TrainingSession}, as {@code LmFineTuner} runs it through {@code TrainingEngine}), timed per step
 * (single-shot) as its PyTorch twin {@code benchmarks/pytorch/lm_train_step.py} times it. Tokens per
 * second = batch * context / step time. Run both with {@code benchmarks/run-lm-bench.sh}.
 *
 * <p>Parameters: {@code preset} (a models/*.yaml file, relative to the repository root given by the
 * system property {@code distill4j.root}, default the working directory), {@code vocab} (0 = the preset's
 * vocabulary, otherwise an override), {@code batch}, and {@code phase}: {@code step} (the whole step),
 * {@code fwdbwd} (no optimiser update) or {@code fwd} (forward and loss only, with the graph recorded).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "--add-opens=java.base/java.nio=ALL-UNNAMED"})
public class LmTrainStepBenchmark {

    /** The student preset. */
    @Param({"models/gpt2-student-4x256.yaml"})
    public String preset;

    /** Vocabulary override; 0 keeps the preset's. */
    @Param({"0"})
    public int vocab;

    /** Rows per step. */
    @Param({"16"})
    public int batch;

    /** What is timed: step, fwdbwd or fwd. */
    @Param({"step"})
    public String phase;

    private Model djlModel;
    private NDManager manager;
    private CausalLm model;
    private TrainingSession session;
    private AnswerLoss loss;
    private long[] ids;
    private long[] targets;
    private float[] weights;
    private Shape shape;

    /** Builds the student and a fixed random batch.
     * @throws IOException if the preset cannot be read */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path root = Path.of(System.getProperty("distill4j.root", "."));
        @SuppressWarnings("unchecked")
        Map<String, Object> map = new ObjectMapper(new YAMLFactory()).readValue(root.resolve(preset).toFile(), Map.class);
        CausalLmConfig c = CausalLmConfig.fromPreset(map, preset);
        if (vocab > 0) {
            c = c.toBuilder().vocabSize(vocab).bosTokenId(-1).eosTokenId(-1).build();
        }
        djlModel = Model.newInstance("lm-bench");
        manager = djlModel.getNDManager();
        Engine.getInstance().setRandomSeed(0);
        model = new CausalLm(c);
        djlModel.setBlock(model);
        model.initialize(manager);
        int t = c.maxPositions();
        Random r = new Random(0);
        long[] tokens = new long[batch * (t + 1)];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(c.vocabSize());
        }
        long[] in = new long[batch * t];
        long[] next = new long[batch * t];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(tokens, b * (t + 1), in, b * t, t);
            System.arraycopy(tokens, b * (t + 1) + 1, next, b * t, t);
        }
        float[] ones = new float[batch * t];
        Arrays.fill(ones, 1f);
        shape = new Shape(batch, t);
        ids = in;
        targets = next;
        weights = ones;
        loss = new AnswerLoss(0);
        session = new TrainingSession(djlModel, loss, TrainingSpec.builder().setLearningRate(1e-4f)
                .optWeightDecay(0.01f).optNoDecay(LmFineTuner.vectorParameters(model)).build());
        System.out.println("# " + model + ": " + model.parameterCount() + " parameters, torch intra-op threads "
                + ai.djl.pytorch.jni.JniUtils.getNumThreads());
    }

    /** Frees the native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        session.close();
        djlModel.close();
    }

    /**
     * One step.
     *
     * @return the loss (read back, so the step has finished)
     */
    @Benchmark
    public float trainStep() {
        try (NDManager sub = manager.newSubManager()) {
            NDList x = new NDList(sub.create(ids, shape));
            NDList labels = new NDList(sub.create(targets, shape), sub.create(weights, shape));
            if ("fwd".equals(phase)) {
                try (ai.djl.training.GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    return loss.evaluate(labels, model.forward(new ai.djl.training.ParameterStore(sub, false), x,
                            true)).getFloat();
                }
            }
            float value = session.forwardBackward(x, labels, 1f);
            if ("step".equals(phase)) {
                session.update(1e-4f);
            } else {
                session.optimizer().discardGradients();
            }
            return value;
        }
    }
}

package io.distill4j.bench;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.distill4j.trainer.AdamW;
import io.distill4j.models.Mlp;
import io.distill4j.trainer.Precision;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.trainer.lm.LmFineTuner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
 * One AdamW update of every parameter (lr 1e-3, weight decay 0.01 on matrices, no clipping), CPU time per
 * update: distill4j's {@link AdamW} with its tensor pass (what runs on accelerators, forced on the CPU with
 * {@code hostPass=false}), its host pass (the CPU default), and DJL's {@code Optimizer.adamW()} called per
 * parameter as DJL's parameter server calls it ({@code update(id, weight, gradient)}: DJL's fused
 * {@code adamUpdate} kernel, then the gradient zeroed). Models: {@code mlp} = MLP 784-512-256-10 (535,818
 * parameters in 6 tensors), {@code gpt2} = the preset {@code models/gpt2-student-4x256.yaml} (V = 50,257,
 * 16.1 M parameters in 52 tensors). Before each update (not timed) a backward of sum(w * c) over all
 * parameters leaves a gradient: in one flat gradient through {@link AdamW#trainingStore} for distill4j, on each
 * parameter for DJL. One intra-op thread; the counters ({@link CpuTime}) record the calling thread's CPU time (libtorch runs
 * every op on it with one thread; the host pass runs on it when the common pool has fewer than two threads,
 * else the process CPU time is the one to read) and the process's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.nio=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class OptimizerUpdateBenchmark {

    /** The model: mlp or gpt2. */
    @Param({"mlp", "gpt2"})
    public String model;

    /** The optimiser: tensor (distill4j, accelerator path), host (distill4j, CPU default), djl. */
    @Param({"tensor", "host", "djl"})
    public String impl;

    private Model m;
    private AdamW adamw;
    private Optimizer djl;
    private List<Parameter> parameters;
    private NDArray[] pattern;

    /** Builds the model and its optimiser.
     * @throws IOException if the GPT preset cannot be read */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        System.setProperty("ai.djl.pytorch.num_threads", "1");
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        Engine.getInstance().setRandomSeed(0);
        m = Model.newInstance("update-" + model);
        List<String> noDecay;
        if ("mlp".equals(model)) {
            Block b = Mlp.builder().setInputs(784).setHidden(512, 256).setOutputs(10).build();
            m.setBlock(b);
            b.initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, 784));
            noDecay = List.of("bias");
        } else if ("gpt2".equals(model)) {
            Path root = Path.of(System.getProperty("distill4j.root", "."));
            String preset = "models/gpt2-student-4x256.yaml";
            @SuppressWarnings("unchecked")
            Map<String, Object> map = new ObjectMapper(new YAMLFactory()).readValue(root.resolve(preset).toFile(),
                    Map.class);
            CausalLm lm = new CausalLm(CausalLmConfig.fromPreset(map, preset));
            m.setBlock(lm);
            lm.initialize(m.getNDManager());
            noDecay = LmFineTuner.vectorParameters(lm);
        } else {
            throw new IllegalArgumentException("model " + model);
        }
        for (Parameter p : m.getBlock().getParameters().values()) {
            p.getArray().setRequiresGradient(true);
        }
        if ("djl".equals(impl)) {
            djl = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(1e-3f)).optWeightDecays(0.01f).build();
        } else {
            if (!"host".equals(impl) && !"tensor".equals(impl)) {
                throw new IllegalArgumentException("impl " + impl);
            }
            // the tensor pass is what runs on accelerators; on the CPU the property turns the host pass off
            System.setProperty(AdamW.HOST_PASS_PROPERTY, Boolean.toString("host".equals(impl)));
            adamw = new AdamW(m.getNDManager(), m.getBlock().getParameters(), 0.01f, noDecay, 0.9f, 0.999f, 1e-8f);
        }
        parameters = m.getBlock().getParameters().values();
        pattern = new NDArray[parameters.size()];
        for (int i = 0; i < pattern.length; i++) {
            // a fixed gradient pattern in (-1, 1), different per element
            Shape s = parameters.get(i).getArray().getShape();
            pattern[i] = m.getNDManager().arange(0f, (float) s.size(), 1f, DataType.FLOAT32).mul(0.7f).sin().reshape(s);
        }
    }

    /** Leaves a gradient for the next update (not timed). */
    @Setup(Level.Invocation)
    public void gradients() {
        try (NDManager sub = m.getNDManager().newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            ParameterStore ps = adamw != null ? adamw.trainingStore(sub, Precision.FP32) : new ParameterStore(sub, false);
            NDArray total = null;
            for (int i = 0; i < pattern.length; i++) {
                Parameter p = parameters.get(i);
                NDArray term = ps.getValue(p, p.getArray().getDevice(), true).mul(pattern[i]).sum();
                total = total == null ? term : total.add(term);
            }
            gc.backward(total);
        }
    }

    /**
     * One update.
     *
     * @param cpu the CPU-time counters
     */
    @Benchmark
    public void update(CpuTime cpu) {
        cpu.begin();
        if (adamw != null) {
            adamw.update(1e-3f, 1f);
        } else {
            for (Parameter p : parameters) {
                NDArray w = p.getArray();
                try (NDArray g = w.getGradient()) {
                    djl.update(p.getId(), w, g);
                }
            }
        }
        cpu.end();
    }

    /** Frees the model and the optimiser state. */
    @TearDown(Level.Trial)
    public void tearDown() {
        System.clearProperty(AdamW.HOST_PASS_PROPERTY);
        if (adamw != null) {
            adamw.close();
        }
        m.close();
    }
}

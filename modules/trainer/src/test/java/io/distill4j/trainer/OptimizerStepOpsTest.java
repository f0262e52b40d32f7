package io.distill4j.trainer;


import io.distill4j.models.Mlp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The optimiser step issues a fixed number of native operations whatever the number of parameter tensors:
 * {@link TrainingSession#update} on MLPs of 4 and 16 parameter tensors, counted by libtorch's profiler
 * ({@link NativeOps}), for the tensor pass (what runs on accelerators, forced here on the CPU) and the host
 * pass, fp32 and fp16, with and without clipping.
 */
class OptimizerStepOpsTest {

    /** An MLP 8 -> 16 x hidden -> 2: 2 * (hidden + 1) parameter tensors. */
    static Model mlp(int hidden) {
        int[] widths = new int[hidden];
        Arrays.fill(widths, 16);
        Model m = Model.newInstance("mlp" + hidden);
        m.setBlock(Mlp.builder().setInputs(8).setHidden(widths).setOutputs(2).build());
        Engine.getInstance().setRandomSeed(3);
        m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(4, 8));
        return m;
    }

    static NDList batch(NDManager m) {
        float[] x = new float[4 * 8];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i);
        }
        return new NDList(m.create(x, new Shape(4, 8)));
    }

    static NDList labels(NDManager m) {
        return new NDList(m.create(new float[] {1, 0, 0, 1, 1, 0, 0, 1}, new Shape(4, 2)));
    }

    /** The operations of the third update of a session (the first two warm up lazily built state). */
    static List<String> updateOps(int hidden, boolean hostPass, Precision precision, float clip) {
        try (Model m = mlp(hidden); NDManager data = m.getNDManager().newSubManager()) {
            TrainingSpec.Builder b = TrainingSpec.builder().setLearningRate(1e-2f).optWeightDecay(0.1f)
                    .optNoDecay(List.of("bias")).optMaxGradNorm(clip).optPrecision(precision);
            if (precision == Precision.FP16) {
                b.allowFp16OnCpu();
            }
            TrainingSpec spec = b.build();
            try (TrainingSession s = new TrainingSession(m, Loss.l2Loss(), spec)) {
                s.optimizer().hostPass(hostPass);
                for (int step = 0; step < 2; step++) {
                    s.forwardBackward(batch(data), labels(data), 1f);
                    s.update(1e-2f);
                }
                s.forwardBackward(batch(data), labels(data), 1f);
                List<String> ops = NativeOps.of(() -> assertTrue(s.update(1e-2f)));
                assertEquals(hostPass ? 3 : 0, s.optimizer().hostUpdates());
                return ops;
            }
        }
    }

    @ParameterizedTest(name = "host pass {0}, {1}, clip {2}")
    @CsvSource({"false, FP32, 0", "false, FP32, 0.001", "false, FP16, 0", "false, FP16, 0.001", "true, FP32, 0",
        "true, FP32, 0.001", "true, FP16, 0.001"})
    void anUpdateIssuesTheSameOperationsForFourAndSixteenParameterTensors(boolean hostPass, Precision precision,
            float clip) {
        List<String> few = updateOps(1, hostPass, precision, clip);
        List<String> many = updateOps(7, hostPass, precision, clip);
        assertEquals(few, many, "the same operations, in the same order");
        boolean norm = clip > 0 || precision == Precision.FP16;
        // the gradient norm (square, sum and its one read-back) only when clipping or fp16 overflow checks need it
        assertEquals(norm, few.contains("aten::square"), few.toString());
        // measured with DJL 0.35.1 / libtorch 2.7.1, nested operations included: tensor pass 25 (13 on the
        // whole buffers, four 0-d fills of 3 each), host pass 7 (the view check of the fresh gradient), norm 11,
        // fp16 gradient cast 4
        int bound = (hostPass ? 7 : 25) + (norm ? 11 : 0) + (precision == Precision.FP16 ? 4 : 0);
        assertTrue(few.size() <= bound, few.size() + " operations: " + few);
        if (!hostPass) {
            assertEquals(1, few.stream().filter("aten::sqrt"::equals).count(), few.toString());
            assertEquals(1, few.stream().filter("aten::div"::equals).count(), few.toString());
        }
    }

    @Test
    void theCounterSeesPerParameterWork() {
        // control: gradients collected on the parameters' own arrays are gathered per parameter, and the counter
        // must show that (so the equality above is not an artefact of a counter that misses operations)
        int[] counts = new int[2];
        int k = 0;
        for (int hidden : new int[] {1, 7}) {
            try (Model m = mlp(hidden);
                    AdamW opt = new AdamW(m.getNDManager(), m.getBlock().getParameters(), 0f, List.of(), 0.9f, 0.999f,
                            1e-8f)) {
                opt.hostPass(false);
                try (NDManager sub = m.getNDManager().newSubManager();
                        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray out = m.getBlock().forward(new ParameterStore(sub, false), batch(sub), true).head();
                    gc.backward(out.sum());
                }
                counts[k++] = NativeOps.of(() -> opt.update(1e-2f, 1f)).size();
            }
        }
        assertTrue(counts[1] >= counts[0] + 12 * 3, Arrays.toString(counts));
    }
}

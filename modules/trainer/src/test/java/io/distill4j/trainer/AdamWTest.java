package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** AdamW and gradient clipping against a plain double-precision implementation of torch.optim.AdamW. */
class AdamWTest {
    static final float LR = 0.01f;
    static final float WD = 0.1f;
    static final float B1 = 0.9f;
    static final float B2 = 0.99f;
    static final float EPS = 1e-3f;

    /** A 3 -> 2 Linear block: parameters "weight" (2, 3) and "bias" (2). */
    static Model linear() {
        Model m = Model.newInstance("lin");
        Block b = Linear.builder().setUnits(2).build();
        m.setBlock(b);
        Engine.getInstance().setRandomSeed(11);
        b.initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, 3));
        for (Parameter p : b.getParameters().values()) {
            p.getArray().setRequiresGradient(true);
        }
        return m;
    }

    /** The gradient of step t for element j of parameter p (a fixed, sign-changing pattern). */
    static double grad(int p, int j, int t) {
        return Math.sin(1.3 * j + 0.7 * t + 2.1 * p) * (1 + p);
    }

    /** Sets every parameter's gradient to grad(p, j, t) by back-propagating sum(w * c). */
    static void setGradients(Model m, int t) {
        setGradients(m, null, t);
    }

    /** As {@link #setGradients(Model, int)}, but through the optimiser's training store (one flat gradient). */
    static void setGradientsThroughStore(Model m, AdamW opt, int t) {
        setGradients(m, opt, t);
    }

    private static void setGradients(Model m, AdamW opt, int t) {
        List<Parameter> ps = m.getBlock().getParameters().values();
        try (NDManager sub = m.getNDManager().newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            ParameterStore store = opt == null ? null : opt.trainingStore(sub, Precision.FP32);
            NDArray total = null;
            for (int p = 0; p < ps.size(); p++) {
                Parameter q = ps.get(p);
                NDArray w = store == null ? q.getArray() : store.getValue(q, q.getArray().getDevice(), true);
                float[] c = new float[(int) w.size()];
                for (int j = 0; j < c.length; j++) {
                    c[j] = (float) grad(p, j, t);
                }
                NDArray term = w.mul(sub.create(c, w.getShape())).sum();
                total = total == null ? term : total.add(term);
            }
            gc.backward(total);
        }
    }

    static float[][] values(Model m) {
        List<Parameter> ps = m.getBlock().getParameters().values();
        float[][] out = new float[ps.size()][];
        for (int p = 0; p < ps.size(); p++) {
            out[p] = ps.get(p).getArray().toFloatArray();
        }
        return out;
    }

    /** torch.optim.AdamW in double precision; decay[p] is the weight decay of parameter p. */
    static double[][] reference(float[][] w0, double[] decay, double[] lrs, double[] rescale) {
        double[][] w = new double[w0.length][];
        double[][] m = new double[w0.length][];
        double[][] v = new double[w0.length][];
        for (int p = 0; p < w0.length; p++) {
            w[p] = new double[w0[p].length];
            for (int j = 0; j < w0[p].length; j++) {
                w[p][j] = w0[p][j];
            }
            m[p] = new double[w0[p].length];
            v[p] = new double[w0[p].length];
        }
        for (int t = 1; t <= lrs.length; t++) {
            double lr = lrs[t - 1];
            double bc1 = 1 - Math.pow(B1, t);
            double bc2 = 1 - Math.pow(B2, t);
            for (int p = 0; p < w.length; p++) {
                for (int j = 0; j < w[p].length; j++) {
                    double g = grad(p, j, t) * rescale[t - 1];
                    w[p][j] *= 1 - lr * decay[p];
                    m[p][j] = B1 * m[p][j] + (1 - B1) * g;
                    v[p][j] = B2 * v[p][j] + (1 - B2) * g * g;
                    w[p][j] -= lr / bc1 * m[p][j] / (Math.sqrt(v[p][j]) / Math.sqrt(bc2) + EPS);
                }
            }
        }
        return w;
    }

    /**
     * Three updates of {@link #linear()} against the double-precision reference, with the gradients set on the
     * parameters' own arrays (gathered by the update) or through the optimiser's training store.
     */
    static void threeUpdatesMatchTheReference(boolean hostPass, boolean throughStore) {
        double[] lrs = {LR, LR / 2, LR * 3};
        double[] rescale = {1, 0.25, 2};
        try (Model m = linear()) {
            float[][] w0 = values(m);
            try (AdamW opt = new AdamW(m.getNDManager(), m.getBlock().getParameters(), WD, List.of("bias"), B1, B2, EPS)) {
                opt.hostPass(hostPass);
                assertEquals(List.of("weight", "bias"), opt.names());
                for (int t = 1; t <= 3; t++) {
                    if (throughStore) {
                        setGradientsThroughStore(m, opt, t);
                    } else {
                        setGradients(m, t);
                    }
                    opt.update((float) lrs[t - 1], (float) rescale[t - 1]);
                }
                assertEquals(3, opt.count(0));
                assertEquals(hostPass ? 3 : 0, opt.hostUpdates());
            }
            double[][] ref = reference(w0, new double[] {WD, 0}, lrs, rescale);
            float[][] got = values(m);
            for (int p = 0; p < ref.length; p++) {
                for (int j = 0; j < ref[p].length; j++) {
                    assertEquals(ref[p][j], got[p][j], 2e-6, "parameter " + p + " element " + j);
                }
            }
            // the parameters' own gradients are zero: zeroed by the update, or never set (the store's views got them)
            for (Parameter p : m.getBlock().getParameters().values()) {
                try (NDArray g = p.getArray().getGradient()) {
                    assertEquals(0f, g.abs().sum().getFloat(), 0f);
                }
            }
        }
    }

    @ParameterizedTest(name = "host pass {0}")
    @ValueSource(booleans = {true, false})
    void updatesMatchTorchAdamWInDoublePrecision(boolean hostPass) {
        threeUpdatesMatchTheReference(hostPass, false);
    }

    @Test
    void hostAndTensorPassesGiveTheSameParameters() {
        double[] lrs = {LR, LR / 2, LR * 3, LR, LR / 5, LR};
        double[] rescale = {1, 0.25, 2, 1, 0.5, 1};
        try (Model a = linear(); Model b = linear();
                AdamW host = new AdamW(a.getNDManager(), a.getBlock().getParameters(), WD, List.of("bias"), B1, B2, EPS);
                AdamW tensor = new AdamW(b.getNDManager(), b.getBlock().getParameters(), WD, List.of("bias"), B1, B2,
                        EPS)) {
            tensor.hostPass(false);
            for (int t = 1; t <= lrs.length; t++) {
                setGradients(a, t);
                host.update((float) lrs[t - 1], (float) rescale[t - 1]);
                setGradients(b, t);
                tensor.update((float) lrs[t - 1], (float) rescale[t - 1]);
            }
            assertEquals(lrs.length, host.hostUpdates(), "every update of the CPU float32 parameters ran on the host");
            assertEquals(0L, tensor.hostUpdates());
            float[][] va = values(a);
            float[][] vb = values(b);
            for (int p = 0; p < va.length; p++) {
                // the same float operations in the same order: equal to the last bit, or within one ulp
                for (int j = 0; j < va[p].length; j++) {
                    assertEquals(vb[p][j], va[p][j], Math.ulp(vb[p][j]), "parameter " + p + " element " + j);
                }
            }
            ByteArrayOutputStream sa = new ByteArrayOutputStream();
            ByteArrayOutputStream sb = new ByteArrayOutputStream();
            try {
                host.save(new DataOutputStream(sa));
                tensor.save(new DataOutputStream(sb));
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            assertEquals(sb.size(), sa.size(), "saved moments have the same layout");
        }
    }

    @Test
    void savedStateResumesBitForBit() throws Exception {
        try (Model a = linear(); Model b = linear();
                AdamW optA = new AdamW(a.getNDManager(), a.getBlock().getParameters(), WD, List.of(), B1, B2, EPS);
                AdamW optB = new AdamW(b.getNDManager(), b.getBlock().getParameters(), WD, List.of(), B1, B2, EPS)) {
            for (int t = 1; t <= 2; t++) {
                setGradients(a, t);
                optA.update(LR, 1f);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            optA.save(new DataOutputStream(bytes));
            Checkpoint.loadParameters(Checkpoint.parameterBytes(a.getBlock()), b.getNDManager(), b.getBlock());
            optB.load(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), "test");
            assertEquals(2, optB.count(0));
            setGradients(a, 3);
            optA.update(LR, 1f);
            setGradients(b, 3);
            optB.update(LR, 1f);
            float[][] va = values(a);
            float[][] vb = values(b);
            for (int p = 0; p < va.length; p++) {
                assertArrayEquals(va[p], vb[p], 0f);
            }
        }
    }

    @Test
    void stateOfAnotherModelIsRejected() throws Exception {
        try (Model a = linear(); Model c = Model.newInstance("other")) {
            Block other = Linear.builder().setUnits(4).build();
            c.setBlock(other);
            other.initialize(c.getNDManager(), DataType.FLOAT32, new Shape(1, 3));
            try (AdamW optA = new AdamW(a.getNDManager(), a.getBlock().getParameters(), WD, List.of(), B1, B2, EPS);
                    AdamW optC = new AdamW(c.getNDManager(), other.getParameters(), WD, List.of(), B1, B2, EPS)) {
                setGradients(a, 1);
                optA.update(LR, 1f);
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                optA.save(new DataOutputStream(bytes));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> optC.load(
                        new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), "ckpt/optimizer.bin"));
                assertTrue(e.getMessage().contains("ckpt/optimizer.bin: optimiser moment of 'weight' has shape (2, 3),"
                        + " the parameter has (4, 3)"), e.getMessage());
            }
        }
    }

    @ParameterizedTest(name = "host pass {0}")
    @ValueSource(booleans = {true, false})
    void updatesThroughTheTrainingStoreMatchTorchAdamWInDoublePrecision(boolean hostPass) {
        threeUpdatesMatchTheReference(hostPass, true);
    }

    static byte[] resource(String name) throws java.io.IOException {
        try (java.io.InputStream in = AdamWTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest(name = "{0} pass")
    @ValueSource(strings = {"host", "tensor"})
    void writesTheBytesOfThePerParameterAdamW(String pass) throws Exception {
        // golden files written by the AdamW that kept one moment pair per parameter (AdamWStateFixture)
        try (Model m = linear();
                AdamW opt = new AdamW(m.getNDManager(), m.getBlock().getParameters(), WD, List.of("bias"), B1, B2, EPS)) {
            opt.hostPass("host".equals(pass));
            for (int t = 1; t <= 2; t++) {
                setGradientsThroughStore(m, opt, t);
                opt.update(AdamWStateFixture.LRS[t - 1], AdamWStateFixture.RESCALE[t - 1]);
            }
            ByteArrayOutputStream state = new ByteArrayOutputStream();
            opt.save(new DataOutputStream(state));
            assertArrayEquals(resource("adamw-v1-" + pass + "-state2.bin"), state.toByteArray());
            assertArrayEquals(resource("adamw-v1-" + pass + "-params2.bin"), Checkpoint.parameterBytes(m.getBlock()));
        }
    }

    @ParameterizedTest(name = "{0} pass")
    @ValueSource(strings = {"host", "tensor"})
    void resumesExactlyFromAStateOfThePerParameterAdamW(String pass) throws Exception {
        try (Model m = linear();
                AdamW opt = new AdamW(m.getNDManager(), m.getBlock().getParameters(), WD, List.of("bias"), B1, B2, EPS)) {
            opt.hostPass("host".equals(pass));
            Checkpoint.loadParameters(resource("adamw-v1-" + pass + "-params2.bin"), m.getNDManager(), m.getBlock());
            opt.load(new DataInputStream(new ByteArrayInputStream(resource("adamw-v1-" + pass + "-state2.bin"))), "v1");
            assertEquals(2, opt.count(1));
            setGradientsThroughStore(m, opt, 3);
            opt.update(AdamWStateFixture.LRS[2], AdamWStateFixture.RESCALE[2]);
            String[] lines = new String(resource("adamw-v1-" + pass + "-params3.txt"),
                    java.nio.charset.StandardCharsets.US_ASCII).split("\n");
            float[][] got = values(m);
            for (int p = 0; p < got.length; p++) {
                String[] bits = lines[p].trim().split(" ");
                assertEquals(bits.length, got[p].length);
                for (int j = 0; j < bits.length; j++) {
                    assertEquals(Integer.parseUnsignedInt(bits[j], 16), Float.floatToRawIntBits(got[p][j]),
                            "parameter " + p + " element " + j);
                }
            }
        }
    }

    @Test
    void stateWithDifferentUpdateCountsIsRejected() throws Exception {
        try (Model a = linear();
                AdamW opt = new AdamW(a.getNDManager(), a.getBlock().getParameters(), WD, List.of(), B1, B2, EPS)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(1);
            out.writeInt(2);
            out.writeUTF("weight");
            out.writeLong(0);
            out.writeBoolean(false);
            out.writeUTF("bias");
            out.writeLong(3);
            out.writeBoolean(false);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> opt.load(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), "old.bin"));
            assertTrue(e.getMessage().contains("old.bin: optimiser state counts 0 updates for 'weight' and 3 for 'bias'"),
                    e.getMessage());
        }
    }

    @Test
    void parametersBecomeViewsOfTheOptimisersBufferAndKeepTheirValues() {
        try (Model m = linear()) {
            float[][] before = values(m);
            try (AdamW opt = new AdamW(m.getNDManager(), m.getBlock().getParameters(), WD, List.of("bias"), B1, B2,
                    EPS)) {
                float[][] after = values(m);
                for (int p = 0; p < before.length; p++) {
                    assertArrayEquals(before[p], after[p], 0f);
                }
                // a write into one parameter's array is a write into the optimiser's buffer: the update sees it
                Parameter bias = m.getBlock().getParameters().get("bias");
                bias.getArray().muli(0);
                setGradientsThroughStore(m, opt, 1);
                opt.update(0f, 1f);
                assertArrayEquals(new float[] {0, 0}, bias.getArray().toFloatArray(), 0f);
            }
            // after close the parameters still hold their values
            assertArrayEquals(before[0], values(m)[0], 0f);
        }
    }

    @Test
    void globalNormAndClippingCoefficientMatchPyTorchsDefinition() {
        try (Model m = linear(); NDManager sub = m.getNDManager().newSubManager()) {
            setGradients(m, 5);
            double sq = 0;
            List<Parameter> ps = m.getBlock().getParameters().values();
            for (int p = 0; p < ps.size(); p++) {
                for (int j = 0; j < ps.get(p).getArray().size(); j++) {
                    double g = grad(p, j, 5);
                    sq += g * g;
                }
            }
            double norm = Math.sqrt(sq);
            assertEquals(norm, GradientClipping.globalNorm(sub, ps, 1f), 1e-6 * norm);
            assertEquals(norm * 0.5, GradientClipping.globalNorm(sub, ps, 0.5f), 1e-6 * norm);
            assertEquals(1.0 / (norm + 1e-6), GradientClipping.coefficient(norm, 1.0), 1e-15);
            assertEquals(1.0, GradientClipping.coefficient(0.5, 1.0), 0);
            GradientClipping.zero(sub, ps);
            assertEquals(0, GradientClipping.globalNorm(sub, ps, 1f), 0);
        }
    }
}

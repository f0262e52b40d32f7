package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.LmFamily;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * AdamW's flat layout: the training store's one flat gradient equals the gradients a plain forward gives each
 * parameter (tied weights included), the host and tensor passes train identically through
 * {@link TrainingSession}, and parameters replaced during a session are taken in.
 */
class FlatParametersTest {

    static Model lm(LmFamily family) {
        CausalLmConfig.Builder b = CausalLmConfig.builder(family).vocabSize(61).hiddenSize(32).numLayers(2).numHeads(4)
                .maxPositions(16).dropout(0);
        if (family == LmFamily.LLAMA) {
            b.numKvHeads(2).intermediateSize(48);
        }
        Model m = Model.newInstance("lm");
        CausalLm block = new CausalLm(b.build());
        m.setBlock(block);
        Engine.getInstance().setRandomSeed(5);
        block.initialize(m.getNDManager());
        for (Parameter p : block.getParameters().values()) {
            p.getArray().setRequiresGradient(true);
        }
        return m;
    }

    /** sum(logits * c) for fixed ids and a fixed pattern c, differentiated through the given store. */
    static void backward(Model m, NDManager sub, ParameterStore ps) {
        long[] ids = new long[2 * 16];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 7 + 3) % 61;
        }
        float[] c = new float[2 * 16 * 61];
        for (int i = 0; i < c.length; i++) {
            c[i] = (float) Math.sin(0.37 * i);
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray z = ((CausalLm) m.getBlock()).logits(ps, sub.create(ids, new Shape(2, 16)), null, null, true);
            gc.backward(z.mul(sub.create(c, z.getShape())).sum());
        }
    }

    @ParameterizedTest
    @EnumSource(LmFamily.class)
    void theStoresFlatGradientIsThePlainForwardsGradient(LmFamily family) {
        try (Model plain = lm(family); Model flat = lm(family);
                AdamW opt = new AdamW(flat.getNDManager(), flat.getBlock().getParameters(), 0f, List.of(), 0.9f, 0.99f,
                        1e-8f);
                NDManager a = plain.getNDManager().newSubManager(); NDManager b = flat.getNDManager().newSubManager()) {
            backward(plain, a, new ParameterStore(a, false));
            backward(flat, b, opt.trainingStore(b, Precision.FP32));
            List<NDArray> grads = opt.gradients(b);
            List<String> names = opt.names();
            for (int i = 0; i < names.size(); i++) {
                float[] want = plain.getBlock().getParameters().get(names.get(i)).getArray().getGradient().toFloatArray();
                // the same backward ops in the same order, then one copy into the flat gradient: bit for bit
                assertArrayEquals(want, grads.get(i).toFloatArray(), 0f, names.get(i));
            }
        }
    }

    static float[] train(boolean hostPass) {
        float[][] x = EngineFixtures.features(32, 1);
        int[] y = EngineFixtures.labels(x);
        try (Model m = EngineFixtures.mlp("m", 16, 0f); NDManager data = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(2);
            m.getBlock().initialize(m.getNDManager(), ai.djl.ndarray.types.DataType.FLOAT32, new Shape(8, 8));
            TrainingSpec spec = TrainingSpec.builder().setLearningRate(1e-2f).optWeightDecay(0.1f)
                    .optNoDecay(List.of("bias")).optMaxGradNorm(0.5f).build();
            try (TrainingSession s = new TrainingSession(m, Loss.softmaxCrossEntropyLoss(), spec)) {
                s.optimizer().hostPass(hostPass);
                for (int step = 0; step < 4; step++) {
                    for (int micro = 0; micro < 2; micro++) {
                        int from = (step * 2 + micro) % 4 * 8;
                        float[] xs = new float[8 * 8];
                        float[] ys = new float[8];
                        for (int r = 0; r < 8; r++) {
                            System.arraycopy(x[from + r], 0, xs, r * 8, 8);
                            ys[r] = y[from + r];
                        }
                        s.forwardBackward(new NDList(data.create(xs, new Shape(8, 8))), new NDList(data.create(ys)), 0.5f);
                    }
                    s.update(1e-2f);
                }
                assertEquals(hostPass ? 4 : 0, s.optimizer().hostUpdates());
            }
            return EngineFixtures.flat(m);
        }
    }

    @Test
    void hostAndTensorPassesTrainTheSameThroughTheSession() {
        float[] host = train(true);
        float[] tensor = train(false);
        for (int j = 0; j < host.length; j++) {
            // per update the passes agree within one ulp (AdamWTest); here the next gradients depend on the
            // parameters, so a one-ulp difference can grow over the four updates, but only by a few ulps
            assertEquals(tensor[j], host[j], 8 * Math.ulp(tensor[j]), "element " + j);
        }
    }

    @Test
    void parametersLoadedDuringASessionAreTakenIn() {
        try (Model m = EngineFixtures.mlp("m", 16, 0f); NDManager data = NDManager.newBaseManager()) {
            m.getBlock().initialize(m.getNDManager(), ai.djl.ndarray.types.DataType.FLOAT32, new Shape(8, 8));
            byte[] start = Checkpoint.parameterBytes(m.getBlock());
            NDList x = new NDList(data.create(new float[64], new Shape(8, 8)).add(0.5f));
            NDList y = new NDList(data.create(new float[] {0, 1, 0, 1, 0, 1, 0, 1}));
            TrainingSpec spec = TrainingSpec.builder().setLearningRate(1e-1f).build();
            try (TrainingSession s = new TrainingSession(m, Loss.softmaxCrossEntropyLoss(), spec)) {
                float first = s.forwardBackward(x, y, 1f);
                s.update(1e-1f);
                assertNotEquals(first, s.evaluate(x, y));
                Checkpoint.loadParameters(start, m.getNDManager(), m.getBlock());
                float[] loaded = EngineFixtures.flat(m);
                // the training forward reads the loaded values, not the buffer's trained ones
                assertEquals(first, s.forwardBackward(x, y, 1f), 0f);
                s.update(1e-1f);
                // and the update reaches the parameters' (new) arrays
                assertNotEquals(loaded[0], EngineFixtures.flat(m)[0]);
            }
        }
    }
}

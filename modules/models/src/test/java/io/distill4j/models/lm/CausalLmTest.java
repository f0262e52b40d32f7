package io.distill4j.models.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Causal masking of both families, in inference and in training mode (dropout on), and packing. */
class CausalLmTest {
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static CausalLmConfig small(LmFamily family) {
        CausalLmConfig.Builder b = CausalLmConfig.builder(family).vocabSize(61).hiddenSize(32).numLayers(2)
                .numHeads(4).maxPositions(32).initializerRange(0.2);
        if (family == LmFamily.LLAMA) {
            b.numKvHeads(2).intermediateSize(48).attnDropout(0.2);
        } else {
            b.dropout(0.2);
        }
        return b.build();
    }

    static CausalLm model(LmFamily family, int seed) {
        return model(small(family), seed);
    }

    static CausalLm model(CausalLmConfig c, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        CausalLm m = new CausalLm(c);
        m.initialize(manager);
        return m;
    }

    /** Logits of one pass; in training mode the RNG is reseeded so that both passes draw the same dropout. */
    static float[] logits(CausalLm m, long[][] ids, long[][] segments, long[][] positions, boolean training) {
        try (NDManager sub = manager.newSubManager()) {
            Engine.getInstance().setRandomSeed(7);
            NDArray s = segments == null ? null : sub.create(segments);
            NDArray p = positions == null ? null : sub.create(positions);
            return m.logits(new ParameterStore(sub, false), sub.create(ids), s, p, training).toFloatArray();
        }
    }

    static long[][] randomIds(int b, int t, int vocab, long seed) {
        java.util.Random r = new java.util.Random(seed);
        long[][] ids = new long[b][t];
        for (long[] row : ids) {
            for (int i = 0; i < t; i++) {
                row[i] = r.nextInt(vocab);
            }
        }
        return ids;
    }

    @ParameterizedTest
    @EnumSource(LmFamily.class)
    void changingTokenTLeavesEarlierLogitsBitIdentical(LmFamily family) {
        CausalLm m = model(family, 1);
        int b = 2;
        int t = 16;
        int v = m.config().vocabSize();
        for (boolean training : new boolean[] {false, true}) {
            for (int changed : new int[] {0, 5, 15}) {
                long[][] ids = randomIds(b, t, v, 3);
                long[][] other = Arrays.stream(ids).map(long[]::clone).toArray(long[][]::new);
                for (long[] row : other) {
                    row[changed] = (row[changed] + 17) % v;
                }
                float[] a = logits(m, ids, null, null, training);
                float[] c = logits(m, other, null, null, training);
                for (int row = 0; row < b; row++) {
                    int from = row * t * v;
                    int to = from + changed * v;
                    assertArrayEquals(Arrays.copyOfRange(a, from, to), Arrays.copyOfRange(c, from, to),
                            family + " training=" + training + ": logits before " + changed + " changed");
                    assertFalse(Arrays.equals(Arrays.copyOfRange(a, to, to + v), Arrays.copyOfRange(c, to, to + v)),
                            family + ": the changed position itself must see its token");
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(LmFamily.class)
    void gradientOfEarlyLogitsIgnoresLaterTokensInTraining(LmFamily family) {
        // d(sum of logits at positions < 6) / d(token embedding rows used only at positions >= 6) must be zero
        // (head untied, so that the embedding rows get gradient only through the input side)
        CausalLm m = model(small(family).toBuilder().tieWordEmbeddings(false).build(), 2);
        long[][] ids = {{1, 2, 3, 4, 5, 6, 40, 41, 42, 43}};
        try (NDManager sub = manager.newSubManager()) {
            Engine.getInstance().setRandomSeed(9);
            NDArray wte = m.namedParameters().values().iterator().next().getArray();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray z = m.logits(new ParameterStore(sub, false), sub.create(ids), null, null, true);
                gc.backward(z.get(":, 0:6, :").sum());
            }
            NDArray g = wte.getGradient();
            float[] grad = g.toFloatArray();
            int d = m.config().hiddenSize();
            for (int token = 40; token <= 43; token++) {
                for (int k = 0; k < d; k++) {
                    assertEquals(0f, grad[token * d + k], "embedding row of future token " + token);
                }
            }
            double early = 0;
            for (int k = 0; k < d; k++) {
                early += Math.abs(grad[3 * d + k]);
            }
            assertTrue(early > 0, "an early token must get a gradient");
            g.close();
            wte.getGradient().subi(wte.getGradient());
        }
    }

    @ParameterizedTest
    @EnumSource(LmFamily.class)
    void packedDocumentsSeeOnlyThemselves(LmFamily family) {
        CausalLm m = model(family, 3);
        int v = m.config().vocabSize();
        long[] docA = {3, 14, 15, 9, 2, 6};
        long[] docB = {5, 35, 8, 9, 7};
        // one packed row [A B pad pad], segments 1 1 .. 2 2 .. 0 0, positions restart per document
        int t = docA.length + docB.length + 2;
        long[][] ids = new long[1][t];
        long[][] seg = new long[1][t];
        long[][] pos = new long[1][t];
        for (int i = 0; i < docA.length; i++) {
            ids[0][i] = docA[i];
            seg[0][i] = 1;
            pos[0][i] = i;
        }
        for (int i = 0; i < docB.length; i++) {
            ids[0][docA.length + i] = docB[i];
            seg[0][docA.length + i] = 2;
            pos[0][docA.length + i] = i;
        }
        float[] packed = logits(m, ids, seg, pos, false);
        float[] alone = logits(m, new long[][] {docB}, null, null, false);
        for (int i = 0; i < docB.length; i++) {
            for (int k = 0; k < v; k++) {
                assertEquals(alone[i * v + k], packed[(docA.length + i) * v + k], 1e-5,
                        family + ": document B token " + i);
            }
        }
        // changing a token of B leaves A bit-identical even in training mode
        long[][] other = {ids[0].clone()};
        other[0][docA.length + 1] = 50;
        float[] a1 = logits(m, ids, seg, pos, true);
        float[] a2 = logits(m, other, seg, pos, true);
        assertArrayEquals(Arrays.copyOfRange(a1, 0, docA.length * v), Arrays.copyOfRange(a2, 0, docA.length * v));
        // and the pads produce finite logits (no NaN from fully blocked rows)
        for (float x : packed) {
            assertTrue(Float.isFinite(x));
        }
    }

    @Test
    void shapesAndParameterCount() {
        for (LmFamily f : LmFamily.values()) {
            CausalLm m = model(f, 4);
            assertEquals(m.config().parameterCount(), m.parameterCount(), f.toString());
            assertEquals(new Shape(2, 7, 61), m.getOutputShapes(new Shape[] {new Shape(2, 7)})[0]);
            try (NDManager sub = manager.newSubManager()) {
                NDList out = m.forward(new ParameterStore(sub, false), new NDList(sub.create(randomIds(2, 7, 61, 1))),
                        false);
                assertEquals(new Shape(2, 7, 61), out.head().getShape());
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(
                        new ParameterStore(sub, false), new NDList(sub.zeros(new Shape(1, 33), ai.djl.ndarray.types.DataType.INT64)),
                        false));
                assertTrue(e.getMessage().contains("33") && e.getMessage().contains("32"), e.getMessage());
            }
        }
        // GPT-2 small: 124,439,808 parameters (tied head)
        assertEquals(124_439_808L, CausalLmConfig.builder(LmFamily.GPT2).vocabSize(50257).hiddenSize(768)
                .numLayers(12).numHeads(12).maxPositions(1024).build().parameterCount());
    }

    @Test
    void djlParameterFilesRoundTrip() throws java.io.IOException, ai.djl.MalformedModelException {
        for (LmFamily f : LmFamily.values()) {
            CausalLm a = model(f, 5);
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            a.saveParameters(new java.io.DataOutputStream(bytes));
            CausalLm b = model(f, 6);
            long[][] ids = randomIds(2, 9, 61, 4);
            assertFalse(Arrays.equals(logits(a, ids, null, null, false), logits(b, ids, null, null, false)));
            b.loadParameters(manager, new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
            assertArrayEquals(logits(a, ids, null, null, false), logits(b, ids, null, null, false), f.toString());
        }
    }

    @Test
    void builderRejectsInconsistentShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CausalLmConfig
                .builder(LmFamily.LLAMA).vocabSize(10).hiddenSize(32).numLayers(1).numHeads(4).numKvHeads(3)
                .intermediateSize(8).maxPositions(8).build());
        assertTrue(e.getMessage().contains("num_key_value_heads (3)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CausalLmConfig.builder(LmFamily.GPT2).vocabSize(10)
                .hiddenSize(30).numLayers(1).numHeads(4).maxPositions(8).build());
        assertTrue(e.getMessage().contains("n_embd (30)"), e.getMessage());
    }
}

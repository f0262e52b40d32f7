package io.distill4j.trainer.lm;

import io.distill4j.models.lm.EncoderClassifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;
import ai.djl.nn.Parameter;
import io.distill4j.data.BadInputException;
import io.distill4j.trainer.AdamW;
import io.distill4j.trainer.GradientClipping;
import io.distill4j.trainer.LrSchedule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The bidirectional encoder classifier: padding, bidirectionality, and learning an order-dependent task. */
class EncoderClassifierTest {
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static EncoderClassifier model(EncoderClassifier.Pooling pooling, double dropout, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        EncoderClassifier m = new EncoderClassifier(new EncoderClassifier.Config(24, 32, 2, 4, 64, 16, 2, dropout,
                pooling, 0.1));
        m.initialize(manager);
        return m;
    }

    static float[] logits(EncoderClassifier m, long[][] ids, long[][] mask, boolean training) {
        try (NDManager sub = manager.newSubManager()) {
            return m.logits(new ParameterStore(sub, false), sub.create(ids), mask == null ? null : sub.create(mask),
                    training).toFloatArray();
        }
    }

    @Test
    void paddingDoesNotChangeTheLogits() {
        for (EncoderClassifier.Pooling p : EncoderClassifier.Pooling.values()) {
            EncoderClassifier m = model(p, 0.1, 1);
            float[] alone = logits(m, new long[][] {{5, 6, 1, 7, 2}}, null, false);
            float[] padded = logits(m, new long[][] {{5, 6, 1, 7, 2, 0, 0, 0}, {3, 4, 5, 6, 7, 8, 9, 10}},
                    new long[][] {{1, 1, 1, 1, 1, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1}}, false);
            assertEquals(alone[0], padded[0], 1e-5);
            assertEquals(alone[1], padded[1], 1e-5);
        }
    }

    @Test
    void attentionIsBidirectional() {
        EncoderClassifier m = model(EncoderClassifier.Pooling.FIRST, 0, 2);
        float[] a = logits(m, new long[][] {{5, 6, 7, 8}}, null, false);
        float[] b = logits(m, new long[][] {{5, 6, 7, 9}}, null, false);
        assertFalse(a[0] == b[0] && a[1] == b[1], "the first position must see the last token");
    }

    @Test
    void dropoutIsActiveInTrainingModeOnly() {
        EncoderClassifier m = model(EncoderClassifier.Pooling.MEAN, 0.3, 3);
        long[][] x = {{5, 6, 7, 8}};
        assertEquals(logits(m, x, null, false)[0], logits(m, x, null, false)[0]);
        assertTrue(logits(m, x, null, true)[0] != logits(m, x, null, true)[0], "MC dropout draws differ");
    }

    /** Sequences of fillers with one A (1) and one B (2); label 1 when A comes before B. Bags of words cannot tell. */
    static long[][][] orderTask(int n, long seed) {
        Random r = new Random(seed);
        long[][] ids = new long[n][10];
        long[][] mask = new long[n][10];
        long[][] labels = new long[n][1];
        for (int i = 0; i < n; i++) {
            int len = 6 + r.nextInt(5);
            for (int t = 0; t < len; t++) {
                ids[i][t] = 3 + r.nextInt(21);
                mask[i][t] = 1;
            }
            int a = r.nextInt(len);
            int b;
            do {
                b = r.nextInt(len);
            } while (b == a);
            ids[i][a] = 1;
            ids[i][b] = 2;
            labels[i][0] = a < b ? 1 : 0;
        }
        return new long[][][] {ids, mask, labels};
    }

    @Test
    void learnsATaskThatNeedsAttentionAcrossPositions() {
        EncoderClassifier m = model(EncoderClassifier.Pooling.MEAN, 0.0, 4);
        long[][][] train = orderTask(512, 1);
        long[][][] test = orderTask(256, 2);
        int steps = 300;
        LrSchedule schedule = new LrSchedule(LrSchedule.Kind.COSINE, 3e-3, 20, steps);
        AdamW optimizer = new AdamW(manager, m.getParameters(), 0.01f, List.of(), 0.9f, 0.999f, 1e-8f);
        List<Parameter> params = new ArrayList<>();
        for (Parameter p : m.getParameters().values()) {
            if (p.requiresGradient()) {
                params.add(p);
            }
        }
        Loss ce = Loss.softmaxCrossEntropyLoss();
        Random r = new Random(3);
        for (int s = 0; s < steps; s++) {
            long[][] x = new long[32][];
            long[][] mk = new long[32][];
            long[] y = new long[32];
            for (int i = 0; i < 32; i++) {
                int j = r.nextInt(train[0].length);
                x[i] = train[0][j];
                mk[i] = train[1][j];
                y[i] = train[2][j][0];
            }
            try (NDManager sub = manager.newSubManager()) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray z = m.logits(new ParameterStore(sub, false), sub.create(x), sub.create(mk), true);
                    gc.backward(ce.evaluate(new NDList(sub.create(y)), new NDList(z)));
                }
                double norm = GradientClipping.globalNorm(sub, params, 1f);
                optimizer.update((float) schedule.rate(s), (float) GradientClipping.coefficient(norm, 1.0));
            }
        }
        optimizer.close();
        float[] z = logits(m, test[0], test[1], false);
        int correct = 0;
        for (int i = 0; i < test[0].length; i++) {
            int pred = z[2 * i + 1] > z[2 * i] ? 1 : 0;
            correct += pred == test[2][i][0] ? 1 : 0;
        }
        assertTrue(correct >= 0.9 * test[0].length, "held-out accuracy " + correct + "/" + test[0].length);
    }

    @Test
    void presetsAreCheckedKeyByKey() {
        Map<String, Object> p = new HashMap<>(Map.of("model_type", "encoder-classifier", "vocab_size", 100,
                "hidden_size", 32, "num_heads", 4, "num_classes", 3));
        EncoderClassifier.Config c = EncoderClassifier.Config.fromPreset(p, "encoder.yaml");
        assertEquals(128, c.intermediateSize());
        assertEquals(EncoderClassifier.Pooling.MEAN, c.pooling());
        p.put("hiden_size", 64);
        BadInputException e = assertThrows(BadInputException.class,
                () -> EncoderClassifier.Config.fromPreset(p, "encoder.yaml"));
        assertTrue(e.getMessage().startsWith("encoder.yaml: field hiden_size: unknown key 'hiden_size'; known keys: dropout, hidden_size"),
                e.getMessage());
        p.remove("hiden_size");
        p.put("num_heads", 5);
        e = assertThrows(BadInputException.class, () -> EncoderClassifier.Config.fromPreset(p, "encoder.yaml"));
        assertTrue(e.getMessage().equals("encoder.yaml: hidden_size (32) must be a positive multiple of num_heads (5)"), e.getMessage());
        p.put("num_heads", 4);
        p.put("pooling", "last");
        e = assertThrows(BadInputException.class, () -> EncoderClassifier.Config.fromPreset(p, "encoder.yaml"));
        assertEquals("encoder.yaml: field pooling: expected one of: mean, first, got 'last'", e.getMessage());
        p.put("pooling", "first");
        p.remove("num_classes");
        e = assertThrows(BadInputException.class, () -> EncoderClassifier.Config.fromPreset(p, "encoder.yaml"));
        assertEquals("encoder.yaml: field num_classes is missing", e.getMessage());
    }
}

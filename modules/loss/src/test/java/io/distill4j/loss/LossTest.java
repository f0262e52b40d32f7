package io.distill4j.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.djl.training.loss.Loss;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LossTest {
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static final float[][] LOGITS = {{1.0f, -0.5f, 0.25f}, {0.1f, 2.0f, -1.0f}};
    static final float[][] TARGET = {{0.7f, 0.1f, 0.2f}, {0.05f, 0.9f, 0.05f}};

    static double[] logSoftmax(float[] z, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v / t);
        }
        double sum = 0;
        for (float v : z) {
            sum += Math.exp(v / t - max);
        }
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = z[i] / t - max - Math.log(sum);
        }
        return out;
    }

    static double softCe(float[][] z, float[][] t) {
        double l = 0;
        for (int i = 0; i < z.length; i++) {
            double[] lp = logSoftmax(z[i], 1);
            for (int c = 0; c < z[i].length; c++) {
                l -= t[i][c] * lp[c];
            }
        }
        return l / z.length;
    }

    @Test
    void softCrossEntropyMatchesDoubleReference() {
        Loss loss = new SoftTargetCrossEntropyLoss();
        float got = loss.evaluate(new NDList(manager.create(TARGET)), new NDList(manager.create(LOGITS))).getFloat();
        assertEquals(softCe(LOGITS, TARGET), got, 1e-6);
        // hand check of item 0: -(0.7*log p0 + 0.1*log p1 + 0.2*log p2)
    }

    @Test
    void softCrossEntropyGradientMatchesFiniteDifferences() {
        NDArray z = manager.create(LOGITS);
        z.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray l = new SoftTargetCrossEntropyLoss().evaluate(new NDList(manager.create(TARGET)), new NDList(z));
            gc.backward(l);
        }
        float[] grad = z.getGradient().toFloatArray();
        double h = 1e-4;
        int idx = 0;
        for (int i = 0; i < LOGITS.length; i++) {
            for (int c = 0; c < LOGITS[i].length; c++, idx++) {
                float[][] plus = deepCopy(LOGITS);
                float[][] minus = deepCopy(LOGITS);
                plus[i][c] += h;
                minus[i][c] -= h;
                double fd = (softCe(plus, TARGET) - softCe(minus, TARGET)) / (2 * h);
                assertEquals(fd, grad[idx], 1e-3, "d/dz[" + i + "][" + c + "]");
            }
        }
    }

    @Test
    void hintonKdMatchesDoubleReference() {
        double t = 2.0;
        double alpha = 0.3;
        int[] y = {0, 2};
        double ref = 0;
        for (int i = 0; i < 2; i++) {
            double ce = -logSoftmax(LOGITS[i], 1)[y[i]];
            double[] lq = logSoftmax(LOGITS[i], t);
            double kl = 0;
            for (int c = 0; c < 3; c++) {
                kl += TARGET[i][c] * (Math.log(TARGET[i][c]) - lq[c]);
            }
            ref += (1 - alpha) * ce + alpha * t * t * kl;
        }
        ref /= 2;
        Loss loss = new HintonKdLoss(t, alpha);
        float got = loss.evaluate(new NDList(manager.create(new long[] {0, 2}), manager.create(TARGET)),
                new NDList(manager.create(LOGITS))).getFloat();
        assertEquals(ref, got, 1e-5);
    }

    @Test
    void targetBuildersMatchHandValues() {
        // B=1, k=2, C=2 samples (0.6,0.4) and (0.8,0.2)
        NDArray s = manager.create(new float[] {0.6f, 0.4f, 0.8f, 0.2f}, new ai.djl.ndarray.types.Shape(1, 2, 2));
        assertArrayEquals(new float[] {0.6f, 0.4f}, new SingleSampleTarget(0).build(s, null).toFloatArray(), 1e-7f);
        assertArrayEquals(new float[] {0.7f, 0.3f}, new MeanTarget().build(s, null).toFloatArray(), 1e-6f);
        // practical: var_T = ddof1 var / k = (0.02)/2 = 0.01 per class; student mean (0.5,0.5) var 0.03
        // a_T = (1/0.01) / (1/0.01 + 1/0.03) = 0.75 -> t = 0.75*0.7 + 0.25*0.5 = 0.65, 0.35
        StudentEstimate est = new StudentEstimate(manager.create(new float[][] {{0.5f, 0.5f}}),
                manager.create(new float[][] {{0.03f, 0.03f}}));
        float[] iv = new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL, true).build(s, est).toFloatArray();
        assertArrayEquals(new float[] {0.65f, 0.35f}, iv, 1e-5f);
        // paper: var_T = ddof0 var = 0.01 (not divided by k), same weights here by construction of numbers
        float[] paper = new InverseVarianceTarget(InverseVarianceTarget.Form.PAPER, false).build(s, est).toFloatArray();
        assertArrayEquals(new float[] {0.65f, 0.35f}, paper, 1e-5f);
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class, () -> new HintonKdLoss(0, 0.5));
        assertTrue(t.getMessage().contains("temperature must be positive and finite, got 0.0"), t.getMessage());
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> Registry.loss("nope", Map.of()));
        assertTrue(u.getMessage().contains("unknown loss 'nope'"), u.getMessage());
        IllegalArgumentException o = assertThrows(IllegalArgumentException.class,
                () -> Registry.loss("hinton-kd", Map.of("temprature", 2.0)));
        assertTrue(o.getMessage().contains("unknown key 'temprature'"), o.getMessage());
        NDArray s = manager.zeros(new ai.djl.ndarray.types.Shape(2, 3, 4));
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> new SoftTargetCrossEntropyLoss().evaluate(new NDList(manager.zeros(new ai.djl.ndarray.types.Shape(2, 4))),
                        new NDList(manager.zeros(new ai.djl.ndarray.types.Shape(2, 3)))));
        assertTrue(shape.getMessage().contains("targets has shape (2, 4) but predictions has shape (2, 3)"), shape.getMessage());
        assertEquals(3, s.getShape().dimension());
    }

    private static float[][] deepCopy(float[][] a) {
        float[][] b = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i].clone();
        }
        return b;
    }
}

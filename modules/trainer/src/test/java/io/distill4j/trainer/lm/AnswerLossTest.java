package io.distill4j.trainer.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link AnswerLoss} against a plain double-precision reference, including its gradient. */
class AnswerLossTest {
    static final int B = 2;
    static final int T = 4;
    static final int V = 6;
    static final int K = 3;
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    /** Random logits, targets, weights and a valid teacher top-K + tail per position. */
    static final class Case {
        final float[] z = new float[B * T * V];
        final long[] targets = new long[B * T];
        final float[] weights = {0, 1, 1, 0, 1, 0, 1, 1};
        final long[] topIds = new long[B * T * K];
        final float[] topLp = new float[B * T * K];
        final float[] tail = new float[B * T];

        Case(long seed, int k) {
            Random r = new Random(seed);
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) (2 * r.nextGaussian());
            }
            for (int p = 0; p < B * T; p++) {
                targets[p] = r.nextInt(V);
                double[] t = new double[V];
                double s = 0;
                for (int v = 0; v < V; v++) {
                    t[v] = Math.exp(1.5 * r.nextGaussian());
                    s += t[v];
                }
                Integer[] order = {0, 1, 2, 3, 4, 5};
                java.util.Arrays.sort(order, (a, b) -> Double.compare(t[b], t[a]));
                double rest = 0;
                for (int j = 0; j < V; j++) {
                    if (j < k) {
                        topIds[p * K + j] = order[j];
                        topLp[p * K + j] = (float) Math.log(t[order[j]] / s);
                    } else {
                        rest += t[order[j]] / s;
                    }
                }
                tail[p] = k == V ? Float.NEGATIVE_INFINITY : (float) Math.log(rest);
            }
        }

        NDList labels(NDManager m, boolean kd) {
            Shape s = new Shape(B, T);
            NDList l = new NDList(m.create(targets, s), m.create(weights, s));
            if (kd) {
                l.add(m.create(topIds, new Shape(B, T, K)));
                l.add(m.create(topLp, new Shape(B, T, K)));
                l.add(m.create(tail, s));
            }
            return l;
        }

        double reference(double[] zd, double alpha) {
            double sum = 0;
            double wsum = 0;
            for (int p = 0; p < B * T; p++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < V; v++) {
                    max = Math.max(max, zd[p * V + v]);
                }
                double lse = 0;
                for (int v = 0; v < V; v++) {
                    lse += Math.exp(zd[p * V + v] - max);
                }
                lse = max + Math.log(lse);
                double ce = -(zd[(int) (p * V + targets[p])] - lse);
                double kl = 0;
                double qTop = 0;
                for (int j = 0; j < K; j++) {
                    double lq = zd[(int) (p * V + topIds[p * K + j])] - lse;
                    qTop += Math.exp(lq);
                    double lp = topLp[p * K + j];
                    kl += Math.exp(lp) * (lp - lq);
                }
                if (tail[p] != Float.NEGATIVE_INFINITY) {
                    double qTail = Math.max(1 - qTop, 1e-6);
                    kl += Math.exp(tail[p]) * (tail[p] - Math.log(qTail));
                }
                sum += weights[p] * (alpha * kl + (1 - alpha) * ce);
                wsum += weights[p];
            }
            return sum / wsum;
        }

        double[] zd() {
            double[] d = new double[z.length];
            for (int i = 0; i < z.length; i++) {
                d[i] = z[i];
            }
            return d;
        }
    }

    static float loss(Case c, double alpha, float[] z) {
        try (NDManager sub = manager.newSubManager()) {
            return new AnswerLoss(alpha).evaluate(c.labels(sub, alpha > 0),
                    new NDList(sub.create(z, new Shape(B, T, V)))).getFloat();
        }
    }

    @Test
    void crossEntropyOnAnswerTokensOnly() {
        Case c = new Case(1, K);
        assertEquals(c.reference(c.zd(), 0), loss(c, 0, c.z), 1e-5);
        // the logits at weight-0 positions do not matter
        float[] z2 = c.z.clone();
        for (int v = 0; v < V; v++) {
            z2[0 * V + v] = 50f * v;
            z2[3 * V + v] = -30f * v;
        }
        assertEquals(loss(c, 0, c.z), loss(c, 0, z2), 0f);
    }

    @Test
    void topKDistillationWithTailBucketAndMixing() {
        Case c = new Case(2, K);
        assertEquals(c.reference(c.zd(), 1), loss(c, 1, c.z), 1e-5);
        assertEquals(c.reference(c.zd(), 0.3), loss(c, 0.3, c.z), 1e-5);
    }

    @Test
    void withAllIdsAndAnEmptyTailItIsTheFullKl() {
        // K = V: the tail is -inf and must contribute exactly nothing (no 0 * -inf = NaN)
        Case c = new Case(3, K); // its logits, targets and weights; the teacher below is V wide
        float[] z = c.z;
        long[] ids = new long[B * T * V];
        float[] lp = new float[B * T * V];
        float[] tail = new float[B * T];
        double expected = 0;
        double wsum = 0;
        Random r = new Random(5);
        for (int p = 0; p < B * T; p++) {
            double[] t = new double[V];
            double s = 0;
            for (int v = 0; v < V; v++) {
                t[v] = Math.exp(r.nextGaussian());
                s += t[v];
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                max = Math.max(max, z[p * V + v]);
            }
            double lse = 0;
            for (int v = 0; v < V; v++) {
                lse += Math.exp(z[p * V + v] - max);
            }
            lse = max + Math.log(lse);
            double kl = 0;
            for (int v = 0; v < V; v++) {
                ids[p * V + v] = V - 1 - v;
                lp[p * V + v] = (float) Math.log(t[V - 1 - v] / s);
                kl += (t[V - 1 - v] / s) * (lp[p * V + v] - (z[p * V + V - 1 - v] - lse));
            }
            tail[p] = Float.NEGATIVE_INFINITY;
            expected += c.weights[p] * kl;
            wsum += c.weights[p];
        }
        try (NDManager sub = manager.newSubManager()) {
            Shape s = new Shape(B, T);
            NDList labels = new NDList(sub.create(c.targets, s), sub.create(c.weights, s),
                    sub.create(ids, new Shape(B, T, V)), sub.create(lp, new Shape(B, T, V)), sub.create(tail, s));
            float got = new AnswerLoss(1).evaluate(labels, new NDList(sub.create(z, new Shape(B, T, V)))).getFloat();
            assertEquals(expected / wsum, got, 1e-5);
        }
    }

    @Test
    void gradientMatchesFiniteDifferencesOfTheReference() {
        Case c = new Case(4, K);
        double alpha = 0.6;
        float[] grad;
        try (NDManager sub = manager.newSubManager()) {
            NDArray z = sub.create(c.z, new Shape(B, T, V));
            z.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = new AnswerLoss(alpha).evaluate(c.labels(sub, true), new NDList(z));
                gc.backward(l);
            }
            grad = z.getGradient().toFloatArray();
        }
        double h = 1e-5;
        for (int i = 0; i < c.z.length; i++) {
            double[] plus = c.zd();
            double[] minus = c.zd();
            plus[i] += h;
            minus[i] -= h;
            double fd = (c.reference(plus, alpha) - c.reference(minus, alpha)) / (2 * h);
            assertEquals(fd, grad[i], 2e-5, "d loss / d z[" + i + "]");
        }
    }

    @Test
    void noWeightGivesZeroAndBadLabelsAreNamed() {
        Case c = new Case(6, K);
        java.util.Arrays.fill(c.weights, 0f);
        assertEquals(0f, loss(c, 0.5, c.z));
        try (NDManager sub = manager.newSubManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AnswerLoss(1)
                    .evaluate(c.labels(sub, false), new NDList(sub.create(c.z, new Shape(B, T, V)))));
            assertEquals(true, e.getMessage().contains("topIds"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new AnswerLoss(1.5));
    }
}

package io.distill4j.models.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AnswerSelectionTest {

    @Test
    void meanSelectionPicksTheAnswerNearestTheCentroidByHand() {
        // three answers on the plane: two agree (x axis), one is off (y axis); centroid (2/3, 1/3)
        double[][] e = {{1, 0}, {0, 1}, {1, 0}};
        assertEquals(0, AnswerSelection.meanSelection(e));
        double[][] f = {{0, 1}, {1, 0}, {0.9, 0.1}};
        // centroid (0.633, 0.367): cosines 0.501, 0.865, 0.898 -> index 2
        assertEquals(2, AnswerSelection.meanSelection(f));
    }

    @Test
    void meanVarianceAndWeightsByHand() {
        double[][] t = {{1, 0}, {0, 1}};
        // per-dimension variances (ddof 0): 0.25, 0.25 -> mean 0.25
        assertEquals(0.25, AnswerSelection.meanVariance(t), 1e-15);
        double[][] s = {{2, 0}, {0, 0}};
        // 1.0 and 0 -> 0.5
        assertEquals(0.5, AnswerSelection.meanVariance(s), 1e-15);
        // w_T = 1/0.25 = 4, w_S = 1/0.5 = 2 -> a_T = 2/3 (plus the 1e-8 floor)
        assertEquals(2.0 / 3, AnswerSelection.teacherWeight(t, s), 1e-7);
        double[][] same = {{1, 2}, {1, 2}};
        assertEquals(0, AnswerSelection.meanVariance(same), 0);
        assertEquals(0.5, AnswerSelection.teacherWeight(same, same), 0, "equal zero variances weigh equally");
    }

    @Test
    void inverseVarianceSelectionMatchesAPlainReference() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int trial = 0; trial < 200; trial++) {
            int k = 2 + rnd.nextInt(5);
            int d = 2 + rnd.nextInt(6); // d = 1 makes every cosine +-1: ties decided by rounding
            double[][] t = random(rnd, k, d);
            double[][] s = random(rnd, k, d);
            assertEquals(reference(t, s), AnswerSelection.inverseVarianceSelection(t, s), "trial " + trial);
            assertEquals(reference(t, null), AnswerSelection.meanSelection(t), "trial " + trial);
        }
    }

    @Test
    void aConfidentStudentPullsTheSelectionTowardsIt() {
        // the teacher is split between two answers; the student's samples all sit near answer 1
        double[][] t = {{1, 0, 0}, {0, 1, 0}, {0.7, 0.7, 0}};
        double[][] s = {{0.1, 1, 0}, {0.1, 1, 0.01}};
        assertTrue(AnswerSelection.teacherWeight(t, s) < 0.01);
        assertEquals(1, AnswerSelection.inverseVarianceSelection(t, s));
        assertEquals(2, AnswerSelection.meanSelection(t));
    }

    private static double[][] random(SplittableRandom rnd, int k, int d) {
        double[][] e = new double[k][d];
        for (double[] v : e) {
            for (int i = 0; i < d; i++) {
                v[i] = rnd.nextDouble() * 2 - 1;
            }
        }
        return e;
    }

    /** The selection written out directly: means, variances, weights, fused target, argmax of cosine. */
    private static int reference(double[][] t, double[][] s) {
        int d = t[0].length;
        double[] mt = new double[d];
        double[] ms = new double[d];
        for (int i = 0; i < d; i++) {
            for (double[] v : t) {
                mt[i] += v[i];
            }
            mt[i] /= t.length;
            if (s != null) {
                for (double[] v : s) {
                    ms[i] += v[i];
                }
                ms[i] /= s.length;
            }
        }
        double[] target = mt;
        if (s != null) {
            double vt = 0;
            double vs = 0;
            for (int i = 0; i < d; i++) {
                for (double[] v : t) {
                    vt += (v[i] - mt[i]) * (v[i] - mt[i]) / t.length / d;
                }
                for (double[] v : s) {
                    vs += (v[i] - ms[i]) * (v[i] - ms[i]) / s.length / d;
                }
            }
            double wt = 1 / (vt + 1e-8);
            double ws = 1 / (vs + 1e-8);
            double a = wt / (wt + ws);
            target = new double[d];
            for (int i = 0; i < d; i++) {
                target[i] = a * mt[i] + (1 - a) * ms[i];
            }
        }
        int best = -1;
        double bestCos = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < t.length; j++) {
            double ab = 0;
            double aa = 0;
            double bb = 0;
            for (int i = 0; i < d; i++) {
                ab += t[j][i] * target[i];
                aa += t[j][i] * t[j][i];
                bb += target[i] * target[i];
            }
            double c = ab / Math.sqrt(aa * bb);
            if (c > bestCos) {
                bestCos = c;
                best = j;
            }
        }
        return best;
    }
}

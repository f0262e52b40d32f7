package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MetricsTest {
    // Three items, two classes. Confidences 0.9 (right), 0.6 (wrong: label 1, predicts 0), 0.7 (right).
    static final double[][] P = {{0.9, 0.1}, {0.6, 0.4}, {0.3, 0.7}};
    static final int[] Y = {0, 1, 1};

    @Test
    void accuracyNllBrier() {
        assertEquals(2.0 / 3, Metrics.accuracy(P, Y), 1e-15);
        assertEquals(-(Math.log(0.9) + Math.log(0.4) + Math.log(0.7)) / 3, Metrics.nll(P, Y), 1e-15);
        // Brier: (0.01+0.01) + (0.36+0.36) + (0.09+0.09) = 0.92 -> /3
        assertEquals(0.92 / 3, Metrics.brier(P, Y), 1e-15);
    }

    @Test
    void eceUsesTenEqualWidthBins() {
        // bins: 0.9 -> (0.8,0.9] bin 8: acc 1, conf 0.9 -> |0.1|; 0.6 -> bin 5: acc 0, conf 0.6 -> 0.6;
        // 0.7 -> bin 6: acc 1, conf 0.7 -> 0.3. ECE = (0.1 + 0.6 + 0.3) / 3
        assertEquals(1.0 / 3, Metrics.ece(P, Y), 1e-12);
        // two items in one bin: confidences 0.55 (right) and 0.58 (wrong): |1 - 1.13| / 2
        double[][] q = {{0.55, 0.45}, {0.42, 0.58}};
        assertEquals(Math.abs(1 - 1.13) / 2, Metrics.ece(q, new int[] {0, 0}), 1e-12);
    }

    @Test
    void entropyAndInterStudentVariance() {
        assertEquals(Math.log(2), Metrics.entropy(new double[] {0.5, 0.5}), 1e-15);
        assertEquals(0, Metrics.entropy(new double[] {1, 0}), 0);
        // two students, one item, two classes: (0.2,0.8) vs (0.4,0.6): per-class ddof-1 variance = 0.02
        double[][][] s = {{{0.2, 0.8}}, {{0.4, 0.6}}};
        assertEquals(0.02, Metrics.interStudentVariance(s), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> Metrics.interStudentVariance(new double[][][] {{{1}}}));
        assertThrows(IllegalArgumentException.class, () -> Metrics.accuracy(P, new int[] {0}));
    }

    @Test
    void entropyOfCorrectAndWrongPredictions() {
        // items 0 (0.9, right) and 2 (0.7, right) are correct, item 1 (0.6 on class 0, label 1) is wrong
        Metrics.EntropySplit h = Metrics.entropyByCorrectness(P, Y);
        double h0 = -(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1));
        double h1 = -(0.6 * Math.log(0.6) + 0.4 * Math.log(0.4));
        double h2 = -(0.3 * Math.log(0.3) + 0.7 * Math.log(0.7));
        assertEquals((h0 + h2) / 2, h.correct(), 1e-15);
        assertEquals(h1, h.wrong(), 1e-15);
        assertEquals(2, h.nCorrect());
        assertEquals(1, h.nWrong());
        assertTrue(Double.isNaN(Metrics.entropyByCorrectness(new double[][] {{1, 0}}, new int[] {0}).wrong()));
    }

    @Test
    void intraStudentVarianceIsTheVarianceAcrossPasses() {
        // three passes over one item: class 0 gets 0.2, 0.4, 0.6 (mean 0.4, ddof-1 variance (0.04 + 0 + 0.04) / 2),
        // class 1 the complements (same variance)
        double[][][] passes = {{{0.2, 0.8}}, {{0.4, 0.6}}, {{0.6, 0.4}}};
        assertEquals(0.04, Metrics.intraStudentVariance(passes), 1e-15);
        // two items, two passes: item 0 constant, item 1 (0, 1) then (1, 0): variance 0.5 per class
        double[][][] two = {{{0.5, 0.5}, {0, 1}}, {{0.5, 0.5}, {1, 0}}};
        assertEquals((0 + 0 + 0.5 + 0.5) / 4, Metrics.intraStudentVariance(two), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> Metrics.intraStudentVariance(new double[][][] {{{1}}}));
    }

    @Test
    void interStudentVarianceOfParameters() {
        // parameters (1, 2, 3) and (3, 2, 5): per-entry variances 2, 0, 2 -> mean 4/3
        assertEquals(4.0 / 3, Metrics.interStudentParameterVariance(new float[][] {{1, 2, 3}, {3, 2, 5}}), 1e-15);
        assertThrows(IllegalArgumentException.class,
                () -> Metrics.interStudentParameterVariance(new float[][] {{1, 2}, {1}}));
    }

    @Test
    void distillationDivergenceIsTheMeanKlFromTeacherToStudent() {
        // KL((0.5, 0.5) || (0.25, 0.75)) = 0.5 ln 2 + 0.5 ln(2/3); KL((1, 0) || (0.5, 0.5)) = ln 2 (0 log 0 = 0)
        double[][] t = {{0.5, 0.5}, {1, 0}};
        double[][] s = {{0.25, 0.75}, {0.5, 0.5}};
        double kl0 = 0.5 * Math.log(2) + 0.5 * Math.log(2.0 / 3);
        assertEquals((kl0 + Math.log(2)) / 2, Metrics.distillationDivergence(t, s), 1e-15);
        assertEquals(0, Metrics.distillationDivergence(s, s), 1e-15);
        // a student that puts no mass where the teacher does is clamped, not infinite
        assertEquals(Math.log(1 / Metrics.FLOOR), Metrics.distillationDivergence(new double[][] {{1, 0}},
                new double[][] {{0, 1}}), 1e-9);
    }

    @Test
    void meanSquaredError() {
        // (1 - 0)^2 + (2 - 4)^2 + (3 - 3)^2 + (0 - 1)^2 = 6 over 4 entries
        assertEquals(1.5, Metrics.mse(new double[][] {{1, 2}, {3, 0}}, new double[][] {{0, 4}, {3, 1}}), 1e-15);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Metrics.mse(new double[][] {{1, 2}}, new double[][] {{1}}));
        assertTrue(e.getMessage().contains("row 0: 2 predictions for 1 targets"), e.getMessage());
    }

    @Test
    void itemVariancesAverageToTheInterStudentVariance() {
        // item 0: classes vary by +-0.1 -> ddof-1 variance 0.02 each; item 1: students agree -> 0
        double[][][] p = {{{0.2, 0.8}, {0.5, 0.5}}, {{0.4, 0.6}, {0.5, 0.5}}};
        double[] v = Metrics.itemVariances(p);
        assertEquals(0.02, v[0], 1e-15);
        assertEquals(0, v[1], 0);
        assertEquals(0.01, Metrics.interStudentVariance(p), 1e-15);
    }
}

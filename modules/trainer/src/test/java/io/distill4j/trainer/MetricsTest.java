package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}

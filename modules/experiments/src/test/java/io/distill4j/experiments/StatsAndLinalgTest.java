package io.distill4j.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class StatsAndLinalgTest {

    @Test
    void statsMatchHandValues() {
        double[] v = {1, 2, 3, 4};
        assertEquals(2.5, Stats.mean(v), 0);
        assertEquals(5.0 / 3, Stats.variance(v), 1e-15);
        assertEquals(1.959963984540054 * Math.sqrt(5.0 / 3 / 4), Stats.ci95(v), 1e-15);
        // y = 3 / x exactly: slope -1; y = x^2: slope 2
        assertEquals(-1, Stats.logLogSlope(new double[] {1, 2, 5, 10}, new double[] {3, 1.5, 0.6, 0.3}), 1e-12);
        assertEquals(2, Stats.logLogSlope(new double[] {1, 3, 9}, new double[] {1, 9, 81}), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Stats.logLogSlope(new double[] {1, 2}, new double[] {0, 1}));
        // y = 0.5 + 2 / x exactly
        assertArrayEquals(new double[] {0.5, 2}, Stats.fitFloorPlusInverse(new double[] {1, 2, 4}, new double[] {2.5, 1.5, 1}), 1e-12);
    }

    @Test
    void choleskyInverseMatchesHandInverse() {
        double[][] inv = Linalg.spdInverse(new double[][] {{4, 2}, {2, 3}});
        // det = 8: inverse = [[3, -2], [-2, 4]] / 8
        assertArrayEquals(new double[] {3.0 / 8, -2.0 / 8}, inv[0], 1e-15);
        assertArrayEquals(new double[] {-2.0 / 8, 4.0 / 8}, inv[1], 1e-15);
        double[][] id = Linalg.mul(inv, new double[][] {{4, 2}, {2, 3}});
        assertArrayEquals(new double[] {1, 0}, id[0], 1e-15);
        assertThrows(IllegalArgumentException.class, () -> Linalg.spdInverse(new double[][] {{1, 1}, {1, 1}}));
    }
}

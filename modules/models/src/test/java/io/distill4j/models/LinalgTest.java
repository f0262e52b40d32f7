package io.distill4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@link Linalg} against hand-computed values. */
class LinalgTest {

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

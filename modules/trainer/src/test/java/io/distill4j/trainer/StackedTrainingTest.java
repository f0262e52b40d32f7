package io.distill4j.trainer;



import io.distill4j.data.Rows;
import io.distill4j.models.StackedMlp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StackedTrainingTest {
    static final int N = 40;

    static float[][] features() {
        Random r = new Random(1);
        float[][] x = new float[N][2];
        for (float[] row : x) {
            row[0] = (float) r.nextGaussian();
            row[1] = (float) r.nextGaussian();
        }
        return x;
    }

    /** Targets y_r = 2 x0 - x1 + 0.5 + noise_r, one noise draw per student. */
    static float[][] targets(float[][] x, int students, long seed) {
        Random r = new Random(seed);
        float[][] t = new float[students][N];
        for (int s = 0; s < students; s++) {
            for (int i = 0; i < N; i++) {
                t[s][i] = (float) (2 * x[i][0] - x[i][1] + 0.5 + 0.3 * r.nextGaussian());
            }
        }
        return t;
    }

    static StackedTraining.Targets fixed(float[][] t) {
        return (m, rows, x, probe) -> {
            int students = t.length;
            NDArray all = m.create(Rows.flatten(t), new Shape(students, N, 1));
            return all.gather(rows.expandDims(2), 1);
        };
    }

    static StackedTraining.Settings settings() {
        return new StackedTraining.Settings(400, N, 0.05f, 0f, 3, Device.cpu(), StackedTraining.Objective.MSE);
    }

    @Test
    void linearStudentsConvergeToTheirOwnLeastSquaresFits() {
        float[][] x = features();
        float[][] t = targets(x, 3, 9);
        try (Model m = StackedTraining.train(new StackedMlp(3, 2, new int[0], 1, 0f), x, fixed(t), settings())) {
            float[][][] p = StackedTraining.predict(m, x, false);
            for (int s = 0; s < 3; s++) {
                double[] ols = olsFit(x, t[s]);
                for (int i = 0; i < N; i += 7) {
                    assertEquals(ols[i], p[s][i][0], 2e-3, "student " + s + ", row " + i);
                }
            }
        }
    }

    @Test
    void studentsAreIndependent() {
        float[][] x = features();
        float[][] a = targets(x, 2, 5);
        float[][] b = {a[0], targets(x, 1, 77)[0]};
        StackedTraining.Settings s = new StackedTraining.Settings(20, 8, 0.01f, 0f, 4, Device.cpu(), StackedTraining.Objective.MSE);
        float[][][] pa;
        float[][][] pb;
        try (Model m = StackedTraining.train(new StackedMlp(2, 2, new int[] {8}, 1, 0f), x, fixed(a), s)) {
            pa = StackedTraining.predict(m, x, false);
        }
        try (Model m = StackedTraining.train(new StackedMlp(2, 2, new int[] {8}, 1, 0f), x, fixed(b), s)) {
            pb = StackedTraining.predict(m, x, false);
        }
        for (int i = 0; i < N; i++) {
            assertArrayEquals(pa[0][i], pb[0][i], 1e-6f, "student 0 must not feel student 1's targets");
        }
        assertThrows(IllegalArgumentException.class, () -> new StackedMlp(0, 2, new int[0], 1, 0f));
    }

    /** Closed-form least squares with intercept on 2 features, in doubles: fitted values. */
    static double[] olsFit(float[][] x, float[] y) {
        double[][] a = new double[3][3];
        double[] b = new double[3];
        for (int i = 0; i < N; i++) {
            double[] row = {1, x[i][0], x[i][1]};
            for (int p = 0; p < 3; p++) {
                b[p] += row[p] * y[i];
                for (int q = 0; q < 3; q++) {
                    a[p][q] += row[p] * row[q];
                }
            }
        }
        // Gaussian elimination
        for (int c = 0; c < 3; c++) {
            for (int r = c + 1; r < 3; r++) {
                double f = a[r][c] / a[c][c];
                for (int q = c; q < 3; q++) {
                    a[r][q] -= f * a[c][q];
                }
                b[r] -= f * b[c];
            }
        }
        double[] beta = new double[3];
        for (int c = 2; c >= 0; c--) {
            double s = b[c];
            for (int q = c + 1; q < 3; q++) {
                s -= a[c][q] * beta[q];
            }
            beta[c] = s / a[c][c];
        }
        double[] fit = new double[N];
        for (int i = 0; i < N; i++) {
            fit[i] = beta[0] + beta[1] * x[i][0] + beta[2] * x[i][1];
        }
        return fit;
    }
}

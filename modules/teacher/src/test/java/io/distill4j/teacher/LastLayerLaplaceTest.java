package io.distill4j.teacher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.nn.Block;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.Mlp;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LastLayerLaplaceTest {

    @Test
    void diagonalGgnOfOneInputByHand() {
        // z = [0.5 * 2, -0.5 * 2] = [1, -1]; p_0 = 1 / (1 + e^-2); p(1-p) = e^-2 / (1 + e^-2)^2.
        try (Model m = TestModels.linear(new float[][] {{0.5f}, {-0.5f}}, new float[] {0, 0})) {
            LastLayerLaplace post = LastLayerLaplace.fit(m, new float[][] {{2f}}, LastLayerLaplace.Structure.DIAGONAL, 0.25);
            double lam = Math.exp(-2) / Math.pow(1 + Math.exp(-2), 2);
            assertEquals(0.104993585, lam, 1e-8);
            double[][] p = post.diagonalPrecision();
            for (int c = 0; c < 2; c++) {
                assertEquals(4 * lam + 0.25, p[c][0], 1e-6, "weight of class " + c);
                assertEquals(lam + 0.25, p[c][1], 1e-6, "bias of class " + c);
            }
            assertEquals(0.5, post.mapWeights()[0][0], 1e-7);
        }
    }

    @Test
    void diagonalGgnMatchesADoubleReference() {
        float[][] w = {{0.3f, -1.2f, 0.7f}, {-0.4f, 0.9f, 0.1f}, {1.1f, 0.2f, -0.6f}};
        float[] b = {0.1f, -0.2f, 0.3f};
        float[][] x = TestModels.gaussian(40, 3, 1);
        try (Model m = TestModels.linear(w, b)) {
            double[][] got = LastLayerLaplace.fit(m, x, LastLayerLaplace.Structure.DIAGONAL, 2.0).diagonalPrecision();
            double[][] want = new double[3][4];
            for (float[] row : x) {
                double[] p = TestModels.softmax(TestModels.affine(w, b, row), 1);
                for (int c = 0; c < 3; c++) {
                    for (int h = 0; h < 4; h++) {
                        double u = h < 3 ? row[h] : 1;
                        want[c][h] += p[c] * (1 - p[c]) * u * u;
                    }
                }
            }
            for (int c = 0; c < 3; c++) {
                for (int h = 0; h < 4; h++) {
                    assertEquals(want[c][h] + 2.0, got[c][h], 1e-6 * (1 + want[c][h]), "c=" + c + " h=" + h);
                }
            }
        }
    }

    @Test
    void kfacPrecisionIsTheKroneckerOfFactorsPlusPrior() {
        float[][] w = {{0.3f, -1.2f}, {-0.4f, 0.9f}, {1.1f, 0.2f}};
        float[] b = {0.1f, -0.2f, 0.3f};
        float[][] x = TestModels.gaussian(30, 2, 2);
        try (Model m = TestModels.linear(w, b)) {
            double[][] got = LastLayerLaplace.fit(m, x, LastLayerLaplace.Structure.KRON, 0.5).kronPrecision();
            double[][] a = new double[3][3];
            double[][] g = new double[3][3];
            for (float[] row : x) {
                double[] u = {row[0], row[1], 1};
                double[] p = TestModels.softmax(TestModels.affine(w, b, row), 1);
                for (int i = 0; i < 3; i++) {
                    for (int j = 0; j < 3; j++) {
                        a[i][j] += u[i] * u[j];
                        g[i][j] += ((i == j ? p[i] : 0) - p[i] * p[j]) / x.length;
                    }
                }
            }
            for (int h1 = 0; h1 < 3; h1++) {
                for (int c1 = 0; c1 < 3; c1++) {
                    for (int h2 = 0; h2 < 3; h2++) {
                        for (int c2 = 0; c2 < 3; c2++) {
                            double want = a[h1][h2] * g[c1][c2] + (h1 == h2 && c1 == c2 ? 0.5 : 0);
                            assertEquals(want, got[h1 * 3 + c1][h2 * 3 + c2], 1e-6 * (1 + Math.abs(want)));
                        }
                    }
                }
            }
        }
    }

    @Test
    void posteriorDrawsHaveTheInversePrecisionAsCovariance() {
        float[][] w = {{0.8f, -0.5f}, {-0.3f, 0.6f}};
        float[] b = {0.2f, -0.1f};
        float[][] x = TestModels.gaussian(25, 2, 3);
        int draws = 40_000;
        try (Model m = TestModels.linear(w, b)) {
            for (LastLayerLaplace.Structure s : LastLayerLaplace.Structure.values()) {
                LastLayerLaplace post = LastLayerLaplace.fit(m, x, s, 1.5);
                double[][] precision;
                if (s == LastLayerLaplace.Structure.KRON) {
                    precision = post.kronPrecision();
                } else {
                    double[][] d = post.diagonalPrecision();
                    precision = new double[6][6];
                    for (int h = 0; h < 3; h++) {
                        for (int c = 0; c < 2; c++) {
                            precision[h * 2 + c][h * 2 + c] = d[c][h];
                        }
                    }
                }
                double[][] cov = invert(precision);
                double[][][] theta = post.sample(5, draws);
                double[][] mapW = post.mapWeights();
                double[][] emp = new double[6][6];
                double[] mean = new double[6];
                for (double[][] t : theta) {
                    for (int i = 0; i < 6; i++) {
                        mean[i] += t[i % 2][i / 2] / draws;
                        for (int j = 0; j < 6; j++) {
                            emp[i][j] += (t[i % 2][i / 2] - mapW[i % 2][i / 2]) * (t[j % 2][j / 2] - mapW[j % 2][j / 2]) / draws;
                        }
                    }
                }
                for (int i = 0; i < 6; i++) {
                    assertEquals(mapW[i % 2][i / 2], mean[i], 5 * Math.sqrt(cov[i][i] / draws), s + " mean " + i);
                    for (int j = 0; j < 6; j++) {
                        double tol = 0.05 * Math.sqrt(cov[i][i] * cov[j][j]);
                        assertEquals(cov[i][j], emp[i][j], tol, s + " covariance " + i + "," + j);
                    }
                }
            }
        }
    }

    @Test
    void jacobiReconstructsASymmetricMatrix() {
        Random r = new Random(4);
        int n = 30;
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                a[i][j] = a[j][i] = r.nextGaussian();
            }
        }
        SymmetricEigen e = SymmetricEigen.of(a);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double v = 0;
                double o = 0;
                for (int l = 0; l < n; l++) {
                    v += e.vectors[i][l] * e.values[l] * e.vectors[j][l];
                    o += e.vectors[l][i] * e.vectors[l][j];
                }
                assertEquals(a[i][j], v, 1e-9);
                assertEquals(i == j ? 1 : 0, o, 1e-9);
            }
        }
    }

    @Test
    void teacherSamplesAreTheSoftmaxOfEachPosteriorDraw(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(30, 5, 5);
        try (Model m = TestModels.randomMlp(Mlp.builder().setInputs(5).setHidden(8).setOutputs(3).optDropout(0.2f), 5, 6)) {
            LastLayerLaplace post = LastLayerLaplace.fit(m, x, LastLayerLaplace.Structure.KRON, 1.0);
            LaplaceTeacher t = new LaplaceTeacher(m, post, 4, TeacherOutput.probabilities(2f), 9, "mlp 5-8-3");
            float[][][] s = TeacherSampler.fill(t, x, dir, new TeacherSampler.Options(7, 100), SampleProgress.NONE).readAll();
            double[][][] theta = t.draws();
            Block block = m.getBlock();
            ai.djl.nn.SequentialBlock features = new ai.djl.nn.SequentialBlock();
            for (int i = 0; i < 3; i++) { // Linear, ReLU, Dropout: everything before the last Linear
                features.add(((ai.djl.nn.SequentialBlock) block).getChildren().get(i).getValue());
            }
            for (int i = 0; i < 30; i++) {
                double[] phi = TestModels.referenceForward(features, x[i]);
                for (int j = 0; j < 4; j++) {
                    double[] z = new double[3];
                    for (int c = 0; c < 3; c++) {
                        z[c] = theta[j][c][8];
                        for (int h = 0; h < 8; h++) {
                            z[c] += theta[j][c][h] * phi[h];
                        }
                    }
                    double[] p = TestModels.softmax(z, 2);
                    for (int c = 0; c < 3; c++) {
                        assertEquals(p[c], s[i][j][c], 1e-5, "item " + i + " draw " + j + " class " + c);
                    }
                }
            }
            assertTrue(Math.abs(s[0][0][0] - s[0][1][0]) > 1e-4, "draws differ");
            TeacherCache cache = TeacherCache.open(dir);
            assertEquals("kfac-ggn", cache.manifest().teacher().get("hessian"));
        }
    }

    @Test
    void aHugePriorPrecisionCollapsesDrawsOntoTheMap() {
        float[][] x = TestModels.gaussian(10, 4, 7);
        try (Model m = TestModels.randomMlp(Mlp.builder().setInputs(4).setHidden(6).setOutputs(2), 4, 8)) {
            LastLayerLaplace post = LastLayerLaplace.fit(m, x, LastLayerLaplace.Structure.DIAGONAL, 1e12);
            LaplaceTeacher t = new LaplaceTeacher(m, post, 3, TeacherOutput.logits(), 1, "mlp");
            try (var mgr = ai.djl.ndarray.NDManager.newBaseManager()) {
                float[] got = t.sample(mgr, mgr.create(x[0]).reshape(1, 4), 0).toFloatArray();
                double[] want = TestModels.referenceForward(m.getBlock(), x[0]);
                for (int j = 0; j < 3; j++) {
                    for (int c = 0; c < 2; c++) {
                        assertEquals(want[c], got[j * 2 + c], 1e-4);
                    }
                }
            }
        }
    }

    @Test
    void rejectsBlocksWithoutALastLinearAndBadPriors() {
        try (Model m = TestModels.linear(new float[][] {{1f}}, new float[] {0})) {
            assertThrows(IllegalArgumentException.class,
                    () -> LastLayerLaplace.fit(m, new float[][] {{1f}}, LastLayerLaplace.Structure.DIAGONAL, 0));
        }
        try (Model m = ai.djl.Model.newInstance("x")) {
            m.setBlock(ai.djl.nn.Activation.reluBlock());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LastLayerLaplace.fit(m, new float[][] {{1f}}, LastLayerLaplace.Structure.DIAGONAL, 1));
            assertTrue(e.getMessage().contains("SequentialBlock"), e.getMessage());
        }
    }

    /** Gauss-Jordan inverse with partial pivoting. */
    private static double[][] invert(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][2 * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, m[i], 0, n);
            m[i][n + i] = 1;
        }
        for (int col = 0; col < n; col++) {
            int piv = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) {
                    piv = r;
                }
            }
            double[] t = m[col];
            m[col] = m[piv];
            m[piv] = t;
            double d = m[col][col];
            for (int j = 0; j < 2 * n; j++) {
                m[col][j] /= d;
            }
            for (int r = 0; r < n; r++) {
                if (r != col) {
                    double f = m[r][col];
                    for (int j = 0; j < 2 * n; j++) {
                        m[r][j] -= f * m[col][j];
                    }
                }
            }
        }
        double[][] inv = new double[n][n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(m[i], n, inv[i], 0, n);
        }
        return inv;
    }
}

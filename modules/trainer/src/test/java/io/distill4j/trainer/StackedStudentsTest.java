package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.Rows;
import io.distill4j.loss.Registry;
import io.distill4j.models.StackedMlp;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The stacked-students path: R students in one block on the training engine, each as if trained alone. */
class StackedStudentsTest {
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

    /** Trains a stack full-batch or in mini-batches on fixed per-student targets t[student][row]. */
    static Model train(StackedMlp block, float[][] x, float[][] t, int epochs, int batch, float lr, long seed) {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray all = m.create(Rows.flatten(t), new Shape(t.length, N, 1));
            return StackedStudents.train(block, x, StackedStudents.perStudentRows(all), Registry.loss("mse", Map.of()),
                    TrainingSpec.builder().setDevice(Device.cpu()).setSeed(seed).setEpochs(epochs).setBatchSize(batch).setLearningRate(lr)
                .optWeightDecay(0f).optLogEvery(0).build(), batch, null);
        }
    }

    @Test
    void linearStudentsConvergeToTheirOwnLeastSquaresFits() {
        float[][] x = features();
        float[][] t = targets(x, 3, 9);
        try (Model m = train(StackedMlp.builder().setStudents(3).setInputs(2).setHidden().setOutputs(1).build(), x, t, 400, N, 0.05f, 3)) {
            float[][][] p = StackedStudents.predict(m, x, false);
            for (int s = 0; s < 3; s++) {
                double[] ols = olsFit(x, t[s]);
                for (int i = 0; i < N; i += 7) {
                    assertEquals(ols[i], p[s][i][0], 2e-3, "student " + s + ", row " + i);
                }
            }
        }
    }

    @Test
    void anExtractedStudentComputesWhatTheStackComputesForIt() {
        float[][] x = features();
        StackedMlp block = StackedMlp.builder().setStudents(3).setInputs(2).setHidden(5, 4).setOutputs(3).optDropout(0.2f)
                .build();
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
                Model stack = StackedStudents.train(block, x, StackedStudents.perStudentRows(m.create(new float[3 * N * 3],
                        new Shape(3, N, 3))), Registry.loss("mse", Map.of()), TrainingSpec.builder().setDevice(Device.cpu())
                        .setSeed(5).setEpochs(2).setBatchSize(8).setLearningRate(0.05f).optLogEvery(0).build(), 8, null)) {
            float[][][] stacked = StackedStudents.predict(stack, x, false);
            for (int s = 0; s < 3; s++) {
                try (Model one = StackedStudents.student(stack, s, "s" + s)) {
                    // the stack's own outputs for student s are the reference for the extracted MLP
                    float[][] want = stacked[s];
                    float[][] got = io.distill4j.models.Inference.outputs(one, x, false);
                    for (int i = 0; i < N; i++) {
                        assertArrayEquals(want[i], got[i], 1e-5f, "student " + s + " row " + i);
                    }
                    // and the extracted MLP is a plain Linear-ReLU stack: a double-precision forward of its parameters
                    double[] ref = reference(one, x[0]);
                    for (int c = 0; c < 3; c++) {
                        assertEquals(ref[c], got[0][c], 1e-5);
                    }
                }
            }
            assertThrows(IllegalArgumentException.class, () -> StackedStudents.student(stack, 3, "x"));
        }
    }

    /** The MLP's forward (Linear, ReLU, ..., Linear) in double precision from its parameters. */
    private static double[] reference(Model model, float[] row) {
        double[] a = new double[row.length];
        for (int i = 0; i < row.length; i++) {
            a[i] = row[i];
        }
        java.util.List<ai.djl.nn.Block> linears = model.getBlock().getChildren().values().stream()
                .filter(b -> b instanceof ai.djl.nn.core.Linear).toList();
        for (int l = 0; l < linears.size(); l++) {
            NDArray w = linears.get(l).getParameters().get("weight").getArray();
            float[] wv = w.toFloatArray();
            float[] bv = linears.get(l).getParameters().get("bias").getArray().toFloatArray();
            int out = (int) w.getShape().get(0);
            double[] z = new double[out];
            for (int o = 0; o < out; o++) {
                z[o] = bv[o];
                for (int i = 0; i < a.length; i++) {
                    z[o] += wv[o * a.length + i] * a[i];
                }
                if (l < linears.size() - 1) {
                    z[o] = Math.max(0, z[o]);
                }
            }
            a = z;
        }
        return a;
    }

    @Test
    void studentsAreIndependent() {
        float[][] x = features();
        float[][] a = targets(x, 2, 5);
        float[][] b = {a[0], targets(x, 1, 77)[0]};
        float[][][] pa;
        float[][][] pb;
        try (Model m = train(StackedMlp.builder().setStudents(2).setInputs(2).setHidden(8).setOutputs(1).build(), x, a, 20, 8, 0.01f, 4)) {
            pa = StackedStudents.predict(m, x, false);
        }
        try (Model m = train(StackedMlp.builder().setStudents(2).setInputs(2).setHidden(8).setOutputs(1).build(), x, b, 20, 8, 0.01f, 4)) {
            pb = StackedStudents.predict(m, x, false);
        }
        for (int i = 0; i < N; i++) {
            assertArrayEquals(pa[0][i], pb[0][i], 1e-6f, "student 0 must not feel student 1's targets");
        }
        assertThrows(IllegalArgumentException.class, () -> StackedMlp.builder().setStudents(0).setInputs(2).setHidden().setOutputs(1).build());
    }

    @Test
    void stackedLossIsTheSumOfEachStudentsOwnMeanLoss() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            int r = 3;
            int b = 4;
            int c = 5;
            NDArray z = m.randomNormal(new Shape(r, b, c));
            NDArray u = m.randomUniform(0.1f, 1f, new Shape(r, b, c));
            NDArray t = u.div(u.sum(new int[] {2}, true));
            NDArray y = m.create(new long[] {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1}, new Shape(r, b));
            var base = Registry.loss("bayesian-kd", Map.of("alpha", 0.7, "teacher-temperature", 4, "student-temperature", 2));
            double stacked = new StackedStudents.PerStudent(base, r).evaluate(new NDList(y, t), new NDList(z)).getFloat();
            double sum = 0;
            for (int s = 0; s < r; s++) {
                sum += base.evaluate(new NDList(y.get(s), t.get(s)), new NDList(z.get(s))).getFloat();
            }
            assertEquals(sum, stacked, 1e-4 * Math.abs(sum));
            assertThrows(IllegalArgumentException.class,
                    () -> new StackedStudents.PerStudent(base, r).evaluate(new NDList(y.reshape(r * b), t), new NDList(z)));
        }
    }

    @Test
    void sourceGivesEveryStudentItsOwnOrderOfAlignedRows() {
        int n = 10;
        int c = 3;
        float[][] x = new float[n][2];
        int[] y = new int[n];
        float[] t = new float[n * c];
        for (int i = 0; i < n; i++) {
            x[i][0] = i;
            x[i][1] = -i;
            y[i] = i % c;
            t[i * c + i % c] = 1;
        }
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
                StackedStudents.Source source = new StackedStudents.Source(x, StackedStudents.sharedRows(
                        m.create(y).toType(DataType.INT64, false), m.create(t, new Shape(n, c))),
                        StackedMlp.builder().setStudents(2).setInputs(2).setHidden().setOutputs(c).build(), 4, Device.cpu())) {
            assertEquals(3, source.batchesPerEpoch());
            int held = source.heldArrays();
            try (NDManager step = m.newSubManager()) {
                source.batch(step, 9, 1, 0, null);
            }
            assertEquals(held, source.heldArrays(), "a step's arrays must be freed with the step's manager");
            Set<Integer>[] seen = new Set[] {new HashSet<>(), new HashSet<>()};
            StringBuilder[] order = {new StringBuilder(), new StringBuilder()};
            for (int k = 0; k < 3; k++) {
                MicroBatch batch = source.batch(m, 9, 0, k, null);
                float[] xb = batch.inputs().head().toFloatArray();
                long[] yb = batch.labels().get(0).toLongArray();
                float[] tb = batch.labels().get(1).toFloatArray();
                int rows = yb.length / 2;
                assertEquals(new Shape(2, rows, 2), batch.inputs().head().getShape());
                assertEquals(new Shape(2, rows), batch.labels().get(0).getShape());
                assertEquals(new Shape(2, rows, c), batch.labels().get(1).getShape());
                for (int s = 0; s < 2; s++) {
                    for (int i = 0; i < rows; i++) {
                        int row = (int) xb[(s * rows + i) * 2];
                        assertEquals(-row, xb[(s * rows + i) * 2 + 1]);
                        assertEquals(row % c, yb[s * rows + i]);
                        assertEquals(1f, tb[(s * rows + i) * c + row % c]);
                        assertTrue(seen[s].add(row), "student " + s + " saw row " + row + " twice in an epoch");
                        order[s].append(row).append(',');
                    }
                }
            }
            assertEquals(n, seen[0].size());
            assertEquals(n, seen[1].size());
            assertNotEquals(order[0].toString(), order[1].toString(), "students must not share a data order");
        }
    }

    @Test
    void perStudentRowsGatherEachStudentsOwnTargets() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            // student s, row i holds 10 s + i
            NDArray all = m.create(new float[] {0, 1, 2, 10, 11, 12}, new Shape(2, 3, 1));
            NDArray rows = m.create(new long[] {2, 0, 1, 1}, new Shape(2, 2));
            NDArray g = StackedStudents.perStudentRows(all).labels(m, rows, null, null).head();
            assertEquals(new Shape(2, 2, 1), g.getShape());
            assertArrayEquals(new float[] {2, 0, 11, 11}, g.toFloatArray());
        }
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

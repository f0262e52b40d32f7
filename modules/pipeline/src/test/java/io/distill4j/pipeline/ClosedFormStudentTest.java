package io.distill4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.Datasets;
import io.distill4j.data.Standardizer;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.Mlp;
import io.distill4j.models.OlsPreset;
import io.distill4j.teacher.OutputNoiseTeacher;
import io.distill4j.trainer.TrainingSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Students fitted in closed form ({@code ols}) through the pipeline, against a double-precision reference written
 * here from the formulas (its own targets from the cache's draws and its own normal-equation solve by Gauss-Jordan
 * elimination), on the same draws.
 */
class ClosedFormStudentTest {

    static final TabularData.Split DIABETES = Standardizer.standardise(Datasets.sklearn("diabetes").split(0.2, 0));
    static final int STUDENTS = 3;
    static final int K = 4;
    static final double NOISE = 0.5;

    /** The teacher's coefficients: intercept 0.1, then 0.05 (j + 1) (-1)^j. */
    static double[] teacherBeta(int d) {
        double[] b = new double[d + 1];
        b[0] = 0.1;
        for (int j = 0; j < d; j++) {
            b[j + 1] = 0.05 * (j + 1) * (j % 2 == 0 ? 1 : -1);
        }
        return b;
    }

    static double dot(double[] beta, float[] x) {
        double s = beta[0];
        for (int j = 0; j < x.length; j++) {
            s += beta[j + 1] * x[j];
        }
        return s;
    }

    static Model teacherMean(int d) {
        OlsPreset p = OlsPreset.withIntercept().complete(d, 1);
        Model m = Model.newInstance("mean");
        m.setBlock(p.build(d, 1));
        m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, d));
        double[] b = teacherBeta(d);
        double[][] c = new double[b.length][1];
        for (int j = 0; j < b.length; j++) {
            c[j][0] = b[j];
        }
        p.setCoefficients(m.getBlock(), c);
        return m;
    }

    static Distillation.Builder run(OutputNoiseTeacher teacher, Path cache) {
        return Distillation.builder().data(DIABETES).teacher(Teachers.of(teacher)).cacheDir(cache).samples(K)
                .student(OlsPreset.withIntercept()).students(STUDENTS).loss("mse")
                .training(TrainingSpec.builder().build()).saveStudents(false).log(l -> { });
    }

    /** Solves (X'X) beta = X't by Gauss-Jordan elimination with partial pivoting. */
    static double[] solve(float[][] x, double[] t) {
        int q = x[0].length + 1;
        double[][] a = new double[q][q + 1];
        for (int i = 0; i < x.length; i++) {
            double[] row = new double[q];
            row[0] = 1;
            for (int j = 0; j < x[i].length; j++) {
                row[j + 1] = x[i][j];
            }
            for (int r = 0; r < q; r++) {
                for (int c = 0; c < q; c++) {
                    a[r][c] += row[r] * row[c];
                }
                a[r][q] += row[r] * t[i];
            }
        }
        for (int c = 0; c < q; c++) {
            int piv = c;
            for (int r = c + 1; r < q; r++) {
                piv = Math.abs(a[r][c]) > Math.abs(a[piv][c]) ? r : piv;
            }
            double[] tmp = a[c];
            a[c] = a[piv];
            a[piv] = tmp;
            for (int r = 0; r < q; r++) {
                if (r != c) {
                    double f = a[r][c] / a[c][c];
                    for (int cc = c; cc <= q; cc++) {
                        a[r][cc] -= f * a[c][cc];
                    }
                }
            }
        }
        double[] beta = new double[q];
        for (int r = 0; r < q; r++) {
            beta[r] = a[r][q] / a[r][r];
        }
        return beta;
    }

    /** The reference targets of one student from its k draws per row. */
    static double[] reference(String method, float[][][] draws, int student, double[] mu) {
        int n = draws.length;
        double[] ybar = new double[n];
        double[] var0 = new double[n];
        double[] var1 = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < K; j++) {
                s += draws[i][student * K + j][0];
            }
            ybar[i] = s / K;
            double ss = 0;
            for (int j = 0; j < K; j++) {
                double e = draws[i][student * K + j][0] - ybar[i];
                ss += e * e;
            }
            var0[i] = ss / K;
            var1[i] = ss / (K - 1);
        }
        double[] t = new double[n];
        switch (method) {
            case "mean" -> System.arraycopy(ybar, 0, t, 0, n);
            case "paper" -> {
                for (int i = 0; i < n; i++) {
                    double wT = 1 / (var0[i] + 1e-8);
                    double wS = 1 / (NOISE + 1e-8);
                    t[i] = (wT * ybar[i] + wS * mu[i]) / (wT + wS);
                }
            }
            case "pilot" -> {
                float[][] x = DIABETES.train().features();
                double[] beta = solve(x, ybar);
                double noise = 0;
                for (int i = 0; i < n; i++) {
                    noise += var1[i] / K / n;
                }
                // leverage h_ii = x_i' (X'X)^-1 x_i, from the solve of X'X against the row's own design vector
                double[][] gramInverse = gramInverse(x);
                for (int i = 0; i < n; i++) {
                    double[] row = new double[x[i].length + 1];
                    row[0] = 1;
                    for (int j = 0; j < x[i].length; j++) {
                        row[j + 1] = x[i][j];
                    }
                    double h = 0;
                    for (int r = 0; r < row.length; r++) {
                        for (int c = 0; c < row.length; c++) {
                            h += row[r] * gramInverse[r][c] * row[c];
                        }
                    }
                    double wT = 1 / (var1[i] / K + 1e-8);
                    double wS = 1 / (noise * h + 1e-8);
                    t[i] = (wT * ybar[i] + wS * dot(beta, x[i])) / (wT + wS);
                }
            }
            default -> throw new IllegalArgumentException(method);
        }
        return t;
    }

    /** (X'X)^-1 column by column: column c solves X'X v = e_c (X'X's system built from unit right-hand sides). */
    static double[][] gramInverse(float[][] x) {
        int q = x[0].length + 1;
        double[][] inv = new double[q][q];
        // X'X v = e_c is the normal equation of least squares on rows whose targets make X't = e_c; solve it directly
        double[][] g = new double[q][q];
        for (float[] xi : x) {
            double[] row = new double[q];
            row[0] = 1;
            for (int j = 0; j < xi.length; j++) {
                row[j + 1] = xi[j];
            }
            for (int r = 0; r < q; r++) {
                for (int c = 0; c < q; c++) {
                    g[r][c] += row[r] * row[c];
                }
            }
        }
        for (int c = 0; c < q; c++) {
            double[][] a = new double[q][q + 1];
            for (int r = 0; r < q; r++) {
                System.arraycopy(g[r], 0, a[r], 0, q);
                a[r][q] = r == c ? 1 : 0;
            }
            for (int p = 0; p < q; p++) {
                int piv = p;
                for (int r = p + 1; r < q; r++) {
                    piv = Math.abs(a[r][p]) > Math.abs(a[piv][p]) ? r : piv;
                }
                double[] tmp = a[p];
                a[p] = a[piv];
                a[piv] = tmp;
                for (int r = 0; r < q; r++) {
                    if (r != p) {
                        double f = a[r][p] / a[p][p];
                        for (int cc = p; cc <= q; cc++) {
                            a[r][cc] -= f * a[p][cc];
                        }
                    }
                }
            }
            for (int r = 0; r < q; r++) {
                inv[r][c] = a[r][q] / a[r][r];
            }
        }
        return inv;
    }

    @Test
    void olsStudentsMatchADoublePrecisionReferenceOnTheSameDraws(@TempDir Path dir) throws Exception {
        int d = DIABETES.train().width();
        int n = DIABETES.train().size();
        double[] beta = teacherBeta(d);
        double[] mu = new double[n];
        float[][] oracleMean = new float[n][1];
        float[][] oracleVariance = new float[n][1];
        for (int i = 0; i < n; i++) {
            mu[i] = dot(beta, DIABETES.train().features()[i]);
            oracleMean[i][0] = (float) mu[i];
            oracleVariance[i][0] = (float) NOISE;
        }
        try (Model mean = teacherMean(d)) {
            OutputNoiseTeacher teacher = OutputNoiseTeacher.absolute(mean, STUDENTS * K, new double[] {NOISE}, 7, "test");
            Path cache = dir.resolve("cache");
            Map<String, RunResult> runs = new java.util.LinkedHashMap<>();
            runs.put("mean", run(teacher, cache).target("mean").saveStudents(true).build().fit(dir.resolve("mean")));
            runs.put("paper", run(teacher, cache).target("inverse-variance-paper")
                    .studentEstimate(StudentEstimates.given(oracleMean, oracleVariance)).build().fit(dir.resolve("paper")));
            runs.put("pilot", run(teacher, cache).target("inverse-variance", Map.of("renormalise", false))
                    .build().fit(dir.resolve("pilot")));
            float[][][] draws = TeacherCache.open(cache).readAll();
            float[][] test = DIABETES.test().features();
            for (Map.Entry<String, RunResult> e : runs.entrySet()) {
                List<double[][]> predictions = e.getValue().result().predictions();
                for (int s = 0; s < STUDENTS; s++) {
                    double[] b = solve(DIABETES.train().features(), reference(e.getKey(), draws, s, mu));
                    double mse = 0;
                    for (int i = 0; i < test.length; i++) {
                        double p = dot(b, test[i]);
                        assertEquals(p, predictions.get(s)[i][0], 2e-5, e.getKey() + " student " + s + " row " + i);
                        mse += (p - DIABETES.test().targets()[i]) * (p - DIABETES.test().targets()[i]) / test.length;
                    }
                    assertEquals(mse, e.getValue().result().students().get(s).metrics().get("mse"), 2e-5 * mse,
                            e.getKey() + " student " + s);
                    assertEquals(0, e.getValue().result().students().get(s).training().steps(), "no gradient steps");
                }
            }
            // a saved ols student reloads as its preset and coefficients and predicts what it was scored on
            try (Model back = SavedStudent.load(dir.resolve("mean/students/seed-2"), ai.djl.Device.cpu())) {
                float[][] again = io.distill4j.models.Inference.outputs(back, test, false);
                for (int i = 0; i < test.length; i++) {
                    assertEquals(runs.get("mean").result().predictions().get(1)[i][0], again[i][0], 0.0, "row " + i);
                }
            }
            // the students differ (their own draws) and the targets do (fused or not)
            assertTrue(runs.get("mean").result().predictionVariance() > 0);
            assertTrue(runs.get("paper").result().predictionVariance() < runs.get("mean").result().predictionVariance());
            Map<?, ?> settings = new com.fasterxml.jackson.databind.ObjectMapper().readValue(
                    dir.resolve("pilot/results.json").toFile(), Map.class);
            assertEquals("ols", ((Map<?, ?>) ((Map<?, ?>) settings.get("settings")).get("student")).get("model_type"));
            assertEquals("pilot", ((Map<?, ?>) settings.get("settings")).get("studentEstimate"));
        }
    }

    @Test
    void runsTheClosedFormCannotServeAreRefusedAtBuild() {
        try (Model mean = teacherMean(DIABETES.train().width())) {
            OutputNoiseTeacher teacher = OutputNoiseTeacher.absolute(mean, STUDENTS * K, new double[] {NOISE}, 7, "test");
            Path cache = Path.of("unused");
            assertEquals("an ols student is fitted in closed form to regression targets with loss mse, without stacking,"
                    + " validation or resume; the loss is 'gaussian-nll' (least squares minimises mse)",
                    assertThrows(IllegalArgumentException.class, () -> run(teacher, cache).target("mean")
                            .loss("gaussian-nll").build()).getMessage());
            assertEquals("loss 'mse' with target 'inverse-variance': target 'inverse-variance' renormalises its fused"
                    + " target onto the simplex, and this cache holds regression values (set its option renormalise:"
                    + " false)", assertThrows(IllegalArgumentException.class, () -> run(teacher, cache)
                            .target("inverse-variance").build()).getMessage());
            assertEquals("loss 'mse' with target 'inverse-variance': the target fuses the teacher with the student's own"
                    + " estimate (studentEstimate mc-dropout): a student fitted in closed form has no dropout passes (use"
                    + " studentEstimate pilot, or given)", assertThrows(IllegalArgumentException.class,
                            () -> run(teacher, cache).target("inverse-variance", Map.of("renormalise", false))
                                    .studentEstimate(StudentEstimates.mcDropout()).build()).getMessage());
            assertEquals("loss 'mse' with target 'inverse-variance': the target fuses the teacher with the student's own"
                    + " estimate (studentEstimate mc-dropout): the student's MC-dropout passes are probabilities, and this"
                    + " cache holds values (use studentEstimate given)", assertThrows(IllegalArgumentException.class,
                            () -> run(teacher, cache).target("inverse-variance", Map.of("renormalise", false))
                                    .student(Mlp.builder().setHidden(4).optDropout(0.1f)).build()).getMessage());
            assertEquals("loss 'mse' with target 'inverse-variance-paper': the target fuses the teacher with the student's"
                    + " own estimate (studentEstimate pilot): a pilot fit needs a student fitted in closed form"
                    + " (model_type ols)", assertThrows(IllegalArgumentException.class, () -> run(teacher, cache)
                            .target("inverse-variance-paper").studentEstimate(StudentEstimates.pilot())
                            .student(Mlp.builder().setHidden(4)).build()).getMessage());
            assertEquals("loss 'mse' with target 'inverse-variance-paper': the target fuses the teacher with the student's"
                    + " own estimate (studentEstimate given): the given estimate has 2 rows of 1, the training part "
                    + DIABETES.train().size() + " rows and the cache width 1", assertThrows(IllegalArgumentException.class,
                            () -> run(teacher, cache).target("inverse-variance-paper").studentEstimate(StudentEstimates
                                    .given(new float[][] {{0}, {0}}, new float[][] {{1}, {1}})).build()).getMessage());
            assertEquals("an ols student is fitted in closed form to regression targets with loss mse, without stacking,"
                    + " validation or resume; this dataset is a classification", assertThrows(
                            IllegalArgumentException.class, () -> Distillation.builder().data(DistillationTest.IRIS)
                                    .teacher(Teachers.mcDropout(Mlp.builder().setHidden(4).optDropout(0.2f)))
                                    .student(OlsPreset.withIntercept()).build()).getMessage());
        }
    }
}

package io.distill4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.DenseCacheReader;
import io.distill4j.data.TeacherCache;
import io.distill4j.loss.EmaStudentEstimate;
import io.distill4j.loss.Registry;
import io.distill4j.teacher.OutputNoiseTeacher;
import io.distill4j.trainer.StudentProbe;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where a fused target's student estimate comes from: an EMA kept across steps, and sources named in configs. */
class StudentEstimatesTest {

    /** A probe whose outputs are given per call. */
    static StudentProbe outputs(NDManager m, float[] values) {
        return new StudentProbe() {
            @Override
            public NDArray mcDropoutProbabilities(NDArray inputs, int passes) {
                throw new AssertionError("an EMA reads raw outputs");
            }

            @Override
            public NDArray outputs(NDArray inputs) {
                return m.create(values, new Shape(values.length, 1));
            }
        };
    }

    @Test
    void anEmaEstimateIsKeptPerRowAcrossStepsAndFusedWithTheDraws(@TempDir Path dir) {
        int k = 4;
        int[] rows = {0, 5, 9};
        try (Model mean = ClosedFormStudentTest.teacherMean(ClosedFormStudentTest.DIABETES.train().width());
                NDManager m = NDManager.newBaseManager(Device.cpu())) {
            OutputNoiseTeacher teacher = OutputNoiseTeacher.absolute(mean, k, new double[] {0.5}, 3, "test");
            TeacherCache cache = Teachers.of(teacher).fill(ClosedFormStudentTest.DIABETES, k, dir, Device.cpu(), l -> { });
            DenseCacheReader reader = cache.dense(false);
            float[][][] draws = cache.readAll();
            CacheTargets targets = new CacheTargets(reader, 0, k, Registry.target("inverse-variance",
                    Map.of("renormalise", false)), new LabelAssembler(Registry.loss("mse", Map.of()), 5), null, "values",
                    StudentEstimates.ema(0.5, EmaStudentEstimate.Variance.SPREAD, 1).start(4, null,
                            ClosedFormStudentTest.DIABETES.train().size(), 1));
            float[][] steps = {{0.2f, -1f, 3f}, {0.6f, -2f, 3f}};
            double[] mu = new double[3];
            double[] spread = new double[3];
            for (int step = 0; step < steps.length; step++) {
                float[] got = targets.labels(m, rows, m.zeros(new Shape(3, 10)), outputs(m, steps[step])).head()
                        .toFloatArray();
                for (int i = 0; i < 3; i++) {
                    double x = steps[step][i];
                    if (step == 0) {
                        mu[i] = x;
                        spread[i] = 1;
                    } else {
                        double d = x - mu[i];
                        mu[i] += 0.5 * d;
                        spread[i] = 0.5 * (spread[i] + 0.5 * d * d);
                    }
                    double sum = 0;
                    double sq = 0;
                    for (int j = 0; j < k; j++) {
                        sum += draws[rows[i]][j][0];
                    }
                    double ybar = sum / k;
                    for (int j = 0; j < k; j++) {
                        sq += (draws[rows[i]][j][0] - ybar) * (draws[rows[i]][j][0] - ybar);
                    }
                    double wT = 1 / (sq / (k - 1) / k + 1e-8);
                    double wS = 1 / (spread[i] + 1e-8);
                    assertEquals((wT * ybar + wS * mu[i]) / (wT + wS), got[i], 1e-5, "step " + step + " row " + rows[i]);
                }
            }
            // the second step's estimate of row 9 saw the same output twice: spread 0.5 (1 + 0) = 0.5
            assertEquals(0.5, spread[2], 1e-15);
        }
    }

    @Test
    void sourcesNamedInAConfigAreBoundStrictly() {
        assertEquals(StudentEstimates.Kind.PILOT, StudentEstimates.fromSpec("pilot").kind());
        assertEquals(StudentEstimates.Kind.MC_DROPOUT, StudentEstimates.fromSpec("mc-dropout").kind());
        assertEquals("ema (alpha 0.1, variance of-mean, initial spread 0.0)", StudentEstimates.fromSpec("ema").describe());
        assertEquals("ema (alpha 0.2, variance spread, initial spread 1.0)", StudentEstimates.fromSpec(Map.of("name", "ema",
                "alpha", 0.2, "variance", "spread", "initialSpread", 1.0)).describe());
        assertEquals("unknown student estimate 'oracle': known are mc-dropout, pilot, ema", assertThrows(
                IllegalArgumentException.class, () -> StudentEstimates.fromSpec("oracle")).getMessage());
        assertEquals("student estimate 'pilot' takes no options, got [alpha]", assertThrows(IllegalArgumentException.class,
                () -> StudentEstimates.fromSpec(Map.of("name", "pilot", "alpha", 0.1))).getMessage());
        assertEquals("alpha must be in (0, 1], got 2.0", assertThrows(IllegalArgumentException.class,
                () -> StudentEstimates.fromSpec(Map.of("name", "ema", "alpha", 2))).getMessage());
        String bad = assertThrows(IllegalArgumentException.class, () -> StudentEstimates.fromSpec(Map.of("name", "ema",
                "alpah", 0.1))).getMessage();
        assertEquals(true, bad.startsWith("student estimate 'ema': field alpah: unknown key 'alpah'"), bad);
    }
}

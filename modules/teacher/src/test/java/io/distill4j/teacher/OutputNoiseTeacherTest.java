package io.distill4j.teacher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Model;
import io.distill4j.data.TeacherCache;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputNoiseTeacherTest {

    private static final float[][] W = {{0.5f, -1f, 2f}, {1.5f, 0.25f, -0.5f}};
    private static final float[] B = {0.3f, -0.7f};

    @Test
    void noiseVarianceIsAFractionOfThePopulationVarianceOfTheTargets() {
        // column 0: 1,2,3,4 -> mean 2.5, variance (2.25+0.25+0.25+2.25)/4 = 1.25; column 1 constant.
        float[][] y = {{1, 5}, {2, 5}, {3, 5}, {4, 5}};
        assertArrayEquals(new double[] {1.25, 0}, OutputNoiseTeacher.populationVariance(y), 1e-12);
        try (Model m = TestModels.linear(W, B)) {
            OutputNoiseTeacher t = OutputNoiseTeacher.relative(m, 3, 0.5, y, 1, "linear");
            assertArrayEquals(new double[] {0.625, 0}, t.noiseVariance(), 1e-12);
            assertEquals(0.5, t.provenance().get("a"));
            assertEquals(List.of(0.625, 0.0), t.provenance().get("noiseVariance"));
        }
    }

    @Test
    void samplesAreTheMeanPlusGaussianNoiseOfTheChosenVariance(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(4, 3, 1);
        int k = 4000;
        double[] variance = {0.09, 2.25};
        try (Model m = TestModels.linear(W, B)) {
            OutputNoiseTeacher t = OutputNoiseTeacher.absolute(m, k, variance, 3, "linear 3-2");
            float[][][] s = TeacherSampler.fill(t, x, dir, new TeacherSampler.Options(3, 10), SampleProgress.NONE).readAll();
            for (int i = 0; i < 4; i++) {
                double[] mu = TestModels.affine(W, B, x[i]);
                for (int d = 0; d < 2; d++) {
                    double mean = 0;
                    for (int j = 0; j < k; j++) {
                        mean += s[i][j][d] / (double) k;
                    }
                    double var = 0;
                    for (int j = 0; j < k; j++) {
                        var += Math.pow(s[i][j][d] - mu[d], 2) / k;
                    }
                    assertEquals(mu[d], mean, 4 * Math.sqrt(variance[d] / k), "item " + i + " output " + d + " mean");
                    // var of a chi-square mean: sd = variance * sqrt(2 / k)
                    assertEquals(variance[d], var, 4 * variance[d] * Math.sqrt(2.0 / k), "item " + i + " output " + d + " variance");
                }
            }
        }
    }

    @Test
    void zeroNoiseGivesTheMeanModelAndSamplesDoNotDependOnBatching(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(11, 3, 2);
        try (Model m = TestModels.linear(W, B)) {
            float[][][] exact = TeacherSampler.fill(OutputNoiseTeacher.absolute(m, 2, new double[] {0, 0}, 1, "linear"), x,
                    dir.resolve("zero"), new TeacherSampler.Options(4, 10), SampleProgress.NONE).readAll();
            for (int i = 0; i < 11; i++) {
                double[] mu = TestModels.affine(W, B, x[i]);
                for (int d = 0; d < 2; d++) {
                    assertEquals(mu[d], exact[i][1][d], 1e-5);
                }
            }
            OutputNoiseTeacher t = OutputNoiseTeacher.absolute(m, 5, new double[] {1, 1}, 4, "linear");
            TeacherCache a = TeacherSampler.fill(t, x, dir.resolve("a"), new TeacherSampler.Options(2, 10), SampleProgress.NONE);
            TeacherCache b = TeacherSampler.fill(t, x, dir.resolve("b"), new TeacherSampler.Options(11, 3), SampleProgress.NONE);
            float[][][] sa = a.readAll();
            float[][][] sb = b.readAll();
            for (int i = 0; i < 11; i++) {
                for (int j = 0; j < 5; j++) {
                    assertArrayEquals(sa[i][j], sb[i][j], 1e-6f, "item " + i + " sample " + j);
                }
            }
        }
    }
}

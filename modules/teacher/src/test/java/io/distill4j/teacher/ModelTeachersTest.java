package io.distill4j.teacher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.Mlp;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The deterministic, deep-ensemble and MC-dropout teachers against a double-precision reference. */
class ModelTeachersTest {

    private static Mlp.Builder arch(float dropout) {
        return Mlp.builder().setInputs(5).setHidden(12).setOutputs(4).optDropout(dropout);
    }

    @Test
    void deterministicTeacherWritesKCopiesOfTheTemperedSoftmax(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(9, 5, 1);
        try (Model m = TestModels.randomMlp(arch(0.4f), 5, 2)) {
            float[][][] s = TeacherSampler.fill(new DeterministicTeacher(m, 2, 4, TeacherOutput.probabilities(3f), "mlp"), x,
                    dir.resolve("p"), new TeacherSampler.Options(4, 10), SampleProgress.NONE).readAll();
            float[][][] z = TeacherSampler.fill(new DeterministicTeacher(m, 1, 4, TeacherOutput.logits(), "mlp"), x,
                    dir.resolve("z"), new TeacherSampler.Options(4, 10), SampleProgress.NONE).readAll();
            for (int i = 0; i < 9; i++) {
                double[] logits = TestModels.referenceForward(m.getBlock(), x[i]);
                double[] p = TestModels.softmax(logits, 3);
                for (int c = 0; c < 4; c++) {
                    assertEquals(p[c], s[i][0][c], 1e-6, "item " + i + " class " + c);
                    assertEquals(p[c], s[i][1][c], 1e-6);
                    assertEquals(logits[c], z[i][0][c], 1e-5);
                }
            }
            TeacherCache c = TeacherCache.open(dir.resolve("p"));
            assertEquals(3.0, c.manifest().teacher().get("temperature"));
            assertEquals("probabilities", c.manifest().signal());
        }
    }

    @Test
    void ensembleSampleJIsMemberJ(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(7, 5, 3);
        try (Model a = TestModels.randomMlp(arch(0.3f), 5, 10);
                Model b = TestModels.randomMlp(arch(0.3f), 5, 11);
                Model c = TestModels.randomMlp(arch(0.3f), 5, 12)) {
            List<Model> members = List.of(a, b, c);
            DeepEnsembleTeacher t = new DeepEnsembleTeacher(members, 4, TeacherOutput.probabilities(1f), "mlp 5-12-4");
            assertEquals(3, t.k());
            float[][][] s = TeacherSampler.fill(t, x, dir, new TeacherSampler.Options(3, 10), SampleProgress.NONE).readAll();
            for (int i = 0; i < 7; i++) {
                for (int j = 0; j < 3; j++) {
                    double[] p = TestModels.softmax(TestModels.referenceForward(members.get(j).getBlock(), x[i]), 1);
                    for (int cl = 0; cl < 4; cl++) {
                        assertEquals(p[cl], s[i][j][cl], 1e-6, "item " + i + " member " + j);
                    }
                }
            }
            assertEquals(3, ((List<?>) TeacherCache.open(dir).manifest().teacher().get("weightsSha256")).size());
        }
        assertThrows(IllegalArgumentException.class, () -> new DeepEnsembleTeacher(List.of(), 4, TeacherOutput.logits(), "none"));
    }

    @Test
    void fusedMcDropoutWithoutDropoutIsTheDeterministicModel(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(6, 5, 4);
        try (Model m = TestModels.randomMlp(arch(0f), 5, 5)) {
            float[][][] s = TeacherSampler.fill(McDropoutTeacher.builder(m).setSamples(3).setWidth(4).optOutput(TeacherOutput.values()).optSeed(1).setDescription("mlp").build(), x, dir,
                    new TeacherSampler.Options(4, 10), SampleProgress.NONE).readAll();
            for (int i = 0; i < 6; i++) {
                double[] y = TestModels.referenceForward(m.getBlock(), x[i]);
                for (int j = 0; j < 3; j++) {
                    for (int c = 0; c < 4; c++) {
                        assertEquals(y[c], s[i][j][c], 1e-5, "item " + i + " pass " + j);
                    }
                }
            }
        }
    }

    @Test
    void fusedMcDropoutPassesDrawIndependentMasks(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(20, 5, 6);
        int k = 400;
        float rate = 0.5f;
        try (Model m = TestModels.randomMlp(Mlp.builder().setInputs(5).setHidden(64).setOutputs(1).optDropout(rate), 5, 7)) {
            float[][][] s = TeacherSampler.fill(McDropoutTeacher.builder(m).setSamples(k).setWidth(1).optOutput(TeacherOutput.values()).optSeed(3).setDescription("mlp").build(), x, dir,
                    new TeacherSampler.Options(8, 32), SampleProgress.NONE).readAll();
            for (int i = 0; i < 20; i++) {
                for (int j = 1; j < k; j++) {
                    assertNotEquals(s[i][0][0], s[i][j][0], "item " + i + ": pass " + j + " repeats pass 0");
                }
                // Inverted dropout keeps the expectation of the last layer's input: E[y] = reference output.
                double mean = 0;
                double sq = 0;
                for (int j = 0; j < k; j++) {
                    mean += s[i][j][0] / (double) k;
                    sq += (double) s[i][j][0] * s[i][j][0] / k;
                }
                double sd = Math.sqrt(Math.max(sq - mean * mean, 0));
                double y = TestModels.referenceForward(m.getBlock(), x[i])[0];
                assertEquals(y, mean, 5 * sd / Math.sqrt(k), "item " + i);
                assertTrue(sd > 0, "dropout varies the output");
            }
        }
    }

    @Test
    void javaDropoutKeepsOneMinusPScaledAndIsSeeded() {
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            int n = 200_001;
            ai.djl.ndarray.types.Shape shape = new ai.djl.ndarray.types.Shape(n);
            float[] a = McDropoutTeacher.mask(m, shape, 0.2f, 5, 0, 0).toFloatArray();
            float[] b = McDropoutTeacher.mask(m, shape, 0.2f, 5, 0, 0).toFloatArray();
            org.junit.jupiter.api.Assertions.assertArrayEquals(a, b, "same seed, same mask");
            int dropped = 0;
            for (float v : a) {
                if (v == 0f) {
                    dropped++;
                } else {
                    assertEquals(1.25f, v, 0f, "kept values are scaled by 1 / (1 - p)");
                }
            }
            double sd = Math.sqrt(n * 0.2 * 0.8);
            assertEquals(0.2 * n, dropped, 5 * sd, "Bernoulli(0.2) drops");
            // a slice from an odd element starts in the high half of a long and matches the whole mask there
            float[] tail = McDropoutTeacher.mask(m, new ai.djl.ndarray.types.Shape(n - 3), 0.2f, 5, 0, 3).toFloatArray();
            org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOfRange(a, 3, n), tail);
            // element e's bits are half of SplittableRandom's long e / 2: low for even e, high for odd e
            java.util.SplittableRandom r = new java.util.SplittableRandom(5);
            long threshold = Math.round(0.2 * 4294967296.0);
            for (int e = 0; e < 1000; e += 2) {
                long bits = r.nextLong();
                assertEquals((bits & 0xFFFFFFFFL) >= threshold ? 1.25f : 0f, a[e], 0f, "element " + e);
                assertEquals((bits >>> 32) >= threshold ? 1.25f : 0f, a[e + 1], 0f, "element " + (e + 1));
            }
        }
    }
}

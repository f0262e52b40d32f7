package io.distill4j.experiments;


import io.distill4j.trainer.stats.Descriptive;
import io.distill4j.data.datasets.ImageTask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CalibratedTeacherExperimentTest {
    static final Path HOME = BayesianTeacherExperimentTest.HOME;

    @Test
    void quickVariantUpholdsThePapersClaimsOnTheDigitsFallback(@TempDir Path out, @TempDir Path home) throws IOException {
        ExperimentFile c = ExperimentFile.load(HOME.resolve("experiments/calibrated-teacher.yaml"), true);
        assertEquals("calibrated-teacher", c.experiment());
        Report r = new CalibratedTeacherExperiment(BayesianTeacherExperimentTest.digitsOnlyHome(home)).run(c.config(), true,
                out);
        assertEquals(List.of(), r.failures());
        ReportChecks.provenance(out, c.config().root(), "train", "test");
        assertEquals("digits", r.data().get("dataset"));
        assertTrue(r.markdown().contains("Fashion-MNIST is not present"), "the report must say it fell back");
        ReportChecks.plots(out, List.of("calibrated-teacher-accuracy-noise-0-2.png", "calibrated-teacher-ece-noise-0-2.png"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> students = (List<Map<String, Object>>) r.data().get("students");
        assertEquals(5 * 3, students.size()); // five methods on clean, noisy and low-contrast test images
        ReportChecks.trainedByThePipeline(out, students.stream().filter(s -> s.get("testImages").equals("clean")).toList(),
                "accuracy", "accuracy");
        for (Map<String, Object> s : students) {
            if (s.get("testImages").equals("clean")) {
                assertTrue((double) s.get("accuracyMean") > 0.8, s.toString());
            }
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> teachers = (List<Map<String, Object>>) r.data().get("teachers");
        for (Map<String, Object> t : teachers) {
            // with 20% of the training labels flipped, W-Clip moves mass to wrong labels: the true label loses mass
            assertTrue((double) t.get("trueLabelMassClipped") < (double) t.get("trueLabelMass"), t.toString());
        }
    }

    @Test
    void unknownKeysAndBadValuesAreNamed(@TempDir Path out) {
        ConfigFile file = ExperimentFile.load(HOME.resolve("experiments/calibrated-teacher.yaml"), true).config();
        ObjectNode cfg = (ObjectNode) file.root();
        ((ObjectNode) cfg.get("student")).put("temprature", 2);
        BadInputException e = assertThrows(BadInputException.class,
                () -> new CalibratedTeacherExperiment(HOME).run(file, true, out));
        assertTrue(e.getMessage().contains("unknown key 'temprature'"), e.getMessage());
        ((ObjectNode) cfg.get("student")).remove("temprature");
        ((ObjectNode) cfg.get("shifts").get(0)).put("kind", "blur");
        BadInputException s = assertThrows(BadInputException.class,
                () -> new CalibratedTeacherExperiment(HOME).run(file, true, out));
        assertTrue(s.getMessage().contains("kind must be gaussian-noise, contrast or brightness, got 'blur'"), s.getMessage());
        ((ObjectNode) cfg.get("shifts").get(0)).put("kind", "contrast");
        cfg.putArray("methods").add("plain-kd").add("distil");
        BadInputException m = assertThrows(BadInputException.class,
                () -> new CalibratedTeacherExperiment(HOME).run(file, true, out));
        assertTrue(m.getMessage().contains("methods must list some of") && m.getMessage().contains("distil"), m.getMessage());
    }

    @Test
    void shiftsFollowTheirFormulas() {
        float[][] x = {{0f, 0.5f, 1f, 0.5f}};
        // contrast 0.5 around the image mean 0.5: 0.5 + 0.5 (x - 0.5)
        float[][] c = new CalibratedTeacherExperiment.Shift("contrast", 0.5).apply(x, 1);
        assertEquals(0.25f, c[0][0], 1e-6);
        assertEquals(0.5f, c[0][1], 1e-6);
        assertEquals(0.75f, c[0][2], 1e-6);
        // brightness 1.5 scales and clips at 1
        float[][] b = new CalibratedTeacherExperiment.Shift("brightness", 1.5).apply(x, 1);
        assertEquals(0.75f, b[0][1], 1e-6);
        assertEquals(1f, b[0][2], 1e-6);
        // Gaussian noise of sd 0.1 on a mid-grey image: clipping is negligible, the sample sd is near 0.1
        float[][] grey = new float[1][20000];
        java.util.Arrays.fill(grey[0], 0.5f);
        float[] g = new CalibratedTeacherExperiment.Shift("gaussian-noise", 0.1).apply(grey, 3)[0];
        double[] d = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            d[i] = g[i];
        }
        assertEquals(0.5, Descriptive.mean(d), 0.005);
        assertEquals(0.1, Math.sqrt(Descriptive.variance(d)), 0.005);
        assertEquals(0.5f, grey[0][0], "the input is not modified");
    }

    @Test
    void labelNoiseFlipsTheGivenShareToOtherClasses() {
        int n = 20000;
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 10;
        }
        int[] noisy = ImageTask.flipLabels(y, 10, 0.3, 7);
        int flipped = 0;
        int[] to = new int[10];
        for (int i = 0; i < n; i++) {
            if (noisy[i] != y[i]) {
                flipped++;
                to[noisy[i]]++;
            }
            assertTrue(noisy[i] >= 0 && noisy[i] < 10);
        }
        // binomial(20000, 0.3): sd 65
        assertEquals(0.3 * n, flipped, 4 * Math.sqrt(n * 0.3 * 0.7));
        for (int k = 0; k < 10; k++) {
            assertEquals(flipped / 10.0, to[k], 4 * Math.sqrt(flipped / 10.0));
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(y, ImageTask.flipLabels(y, 10, 0, 7), "rate 0 keeps every label");
        assertNotEquals(0, flipped);
    }
}

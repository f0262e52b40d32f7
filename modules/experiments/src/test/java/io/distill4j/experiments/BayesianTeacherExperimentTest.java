package io.distill4j.experiments;


import io.distill4j.data.datasets.ImageTask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.data.TabularData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BayesianTeacherExperimentTest {
    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));

    /** A distill4j home holding only the shipped scikit-learn data: Fashion-MNIST is absent, as in CI. */
    static Path digitsOnlyHome(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("datasets"));
        Files.createSymbolicLink(dir.resolve("datasets/sklearn"), HOME.resolve("datasets/sklearn").toAbsolutePath());
        return dir;
    }

    @Test
    void quickVariantUpholdsThePapersClaimsOnTheDigitsFallback(@TempDir Path out, @TempDir Path home) throws IOException {
        ExperimentFile c = ExperimentFile.load(HOME.resolve("experiments/bayesian-teacher.yaml"), true);
        assertEquals("bayesian-teacher", c.experiment());
        Report r = new BayesianTeacherExperiment(digitsOnlyHome(home)).run(c.config(), true, out);
        assertEquals(List.of(), r.failures());
        ReportChecks.provenance(out, c.config().root(), "training pool", "validation", "test");
        assertEquals("digits", r.data().get("dataset"));
        assertTrue(r.markdown().contains("Fashion-MNIST is not present"), "the report must say it fell back");
        ReportChecks.plots(out, List.of("bayesian-teacher-accuracy.png", "bayesian-teacher-ece.png",
                "bayesian-teacher-curves.png"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> students = (List<Map<String, Object>>) r.data().get("students");
        assertEquals(2 * 5, students.size());
        ReportChecks.trainedByThePipeline(out, students, "accuracy", "accuracy");
        for (Map<String, Object> s : students) {
            assertTrue((double) s.get("accuracyMean") > 0.6, s.toString());
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> teachers = (List<Map<String, Object>>) r.data().get("teachers");
        assertEquals(2 * 4, teachers.size());
        for (Map<String, Object> t : teachers) {
            assertTrue((double) t.get("accuracy") > 0.8, t.toString());
        }
    }

    @Test
    void everyMethodOfTheFullConfigGetsItsOwnRunFolder() {
        BayesianTeacherExperiment.Config cfg = ExperimentFile.bind(ExperimentFile.load(HOME.resolve(
                "experiments/bayesian-teacher.yaml"), false).config(), BayesianTeacherExperiment.Config.class);
        List<String> names = cfg.methods().stream().map(BayesianTeacherExperiment.Method::runName).toList();
        assertEquals(7, names.size(), "the full config runs the deterministic teacher under three settings");
        assertEquals(names.size(), new java.util.HashSet<>(names).size(), names.toString());
        assertEquals("deterministic-a0.7-tt4-ts1", names.get(5));
    }

    @Test
    void unknownKeysAndBadValuesAreNamed(@TempDir Path out) {
        ConfigFile file = ExperimentFile.load(HOME.resolve("experiments/bayesian-teacher.yaml"), true).config();
        ObjectNode cfg = (ObjectNode) file.root();
        cfg.put("validaton", 10);
        BadInputException e = assertThrows(BadInputException.class,
                () -> new BayesianTeacherExperiment(HOME).run(file, true, out));
        assertTrue(e.getMessage().contains("unknown key 'validaton'"), e.getMessage());
        cfg.remove("validaton");
        ((ObjectNode) cfg.get("methods").get(1)).put("teacher", "bayes");
        BadInputException m = assertThrows(BadInputException.class,
                () -> new BayesianTeacherExperiment(HOME).run(file, true, out));
        assertTrue(m.getMessage().contains("teacher must be one of") && m.getMessage().contains("'bayes'"), m.getMessage());
        ((ObjectNode) cfg.get("methods").get(1)).put("teacher", "deterministic");
        cfg.put("dataset", "cifar");
        BadInputException d = assertThrows(BadInputException.class,
                () -> new BayesianTeacherExperiment(HOME).run(file, true, out));
        assertTrue(d.getMessage().contains("dataset: unknown 'cifar'"), d.getMessage());
    }

    @Test
    void perClassKeepsTheFractionOfEveryClass() {
        int n = 300;
        float[][] x = new float[n][1];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            x[i][0] = i;
            y[i] = i < 200 ? 0 : (i < 260 ? 1 : 2); // 200, 60, 40 per class
        }
        TabularData sub = ImageTask.perClass(new TabularData("t", x, y, null, 3), 0.1, 5);
        int[] counts = new int[3];
        Set<Float> seen = new HashSet<>();
        for (int i = 0; i < sub.size(); i++) {
            counts[sub.labels()[i]]++;
            assertTrue(seen.add(sub.features()[i][0]), "rows are drawn without replacement");
            assertEquals(y[(int) sub.features()[i][0]], sub.labels()[i]);
        }
        assertEquals(20, counts[0]);
        assertEquals(6, counts[1]);
        assertEquals(4, counts[2]);
    }

    @Test
    void predictiveAveragesTemperedSoftmaxOverDraws() {
        // one row, two draws of two classes: softmax([0, ln 3] / 1) = (1/4, 3/4), softmax([0, 0]) = (1/2, 1/2)
        float[] z = {0f, (float) Math.log(3), 0f, 0f};
        double[][] p = TeacherComparisons.predictive(z, 2, 2, 1);
        assertEquals((0.25 + 0.5) / 2, p[0][0], 1e-6);
        assertEquals((0.75 + 0.5) / 2, p[0][1], 1e-6);
        // at T = 2: softmax([0, ln 3 / 2]) = (1 / (1 + sqrt 3), sqrt 3 / (1 + sqrt 3))
        double[][] q = TeacherComparisons.predictive(z, 2, 2, 2);
        assertEquals((1 / (1 + Math.sqrt(3)) + 0.5) / 2, q[0][0], 1e-6);
    }

    @Test
    void curveNoiseIgnoresTheTrend() {
        // a line has no residual; 1, 0, 3, 2 about its fit 0.6 i + 0.6: residuals 0.4, -1.2, 1.2, -0.4, ss 3.2, ddof 2
        assertEquals(0, TeacherComparisons.Curve.residualSd(new double[] {0.5, 0.6, 0.7, 0.8, 0.9}), 1e-12);
        assertEquals(Math.sqrt(3.2 / 2), TeacherComparisons.Curve.residualSd(new double[] {1, 0, 3, 2}), 1e-12);
    }
}

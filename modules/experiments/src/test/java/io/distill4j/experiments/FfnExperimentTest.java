package io.distill4j.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

class FfnExperimentTest {
    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));

    @Test
    void quickVariantUpholdsThePapersClaims(@TempDir Path out) throws IOException {
        ExperimentFile c = ExperimentFile.load(HOME.resolve("experiments/ffn.yaml"), true);
        Report r = new FfnExperiment(HOME).run(c.config(), true, out);
        assertEquals(List.of(), r.failures());
        ReportChecks.provenance(out, c.config().root(), "boston train (standardised)", "digits test (standardised)");
        ReportChecks.plots(out, List.of("ffn-regression-boston.png", "ffn-classification-digits.png"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> cls = (List<Map<String, Object>>) r.data().get("classification");
        assertEquals(4, cls.size());
        for (Map<String, Object> cell : cls) {
            assertTrue((double) cell.get("accuracyMean") > 0.8, cell.toString());
            // each target was a stacked pipeline run on per-student draws; the table's mean is that run's
            Path results = out.resolve("runs/classification-" + cell.get("dataset") + "/" + cell.get("method")
                    + "/results.json");
            com.fasterxml.jackson.databind.JsonNode run = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(results.toFile());
            assertTrue(run.get("settings").get("stacked").asBoolean());
            assertEquals("per-student", run.get("settings").get("teacher").get("draws").asText());
            assertEquals((double) cell.get("accuracyMean"), run.get("aggregates").get("accuracy").get("mean").asDouble(),
                    1e-12);
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> reg = (List<Map<String, Object>>) r.data().get("regression");
        // with k = 1 both targets are the single sample: identical students
        assertEquals(reg.get(0).get("mseMean"), reg.get(3).get("mseMean"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> diffs = (List<Map<String, Object>>) r.data().get("interStudentVarianceAgainstSingle");
        assertEquals(3, diffs.size(), "mean, inverse-variance and multi-sample against single");
        for (Map<String, Object> d : diffs) {
            assertTrue((double) d.get("low") <= (double) d.get("difference") && (double) d.get("difference") <= (double) d.get("high"),
                    d.toString());
        }
        assertTrue(r.markdown().contains("Accuracy: mean ± half-width of the 95% Student-t interval of the mean over 5 students"),
                "the classification table says what its ± means");
    }

    @Test
    void regressionEmaFollowsTheLossModulesRecursionWithItsOwnVariance() {
        // Fed the same predictions, the experiment's EMA and the loss module's EmaStudentEstimate keep the same mean;
        // their variances differ as documented: S_experiment = var_module * (2 - alpha) / alpha + (1 - alpha)^(t - 1)
        // from the second sight on (the experiment starts S at 1, the module at 0; the module reports the variance of
        // the weighted mean, S alpha / (2 - alpha)).
        float alpha = 0.1f;
        FfnExperiment.EmaOfPredictions mine = new FfnExperiment.EmaOfPredictions(2, alpha);
        io.distill4j.loss.EmaStudentEstimate module = new io.distill4j.loss.EmaStudentEstimate(2, 1, alpha);
        float[][] seq = {{0.5f, -1f}, {0.7f, -0.8f}, {0.2f, -1.3f}, {0.9f, -0.9f}, {0.4f, -1.1f}};
        long[] ids = {0, 1};
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager(ai.djl.Device.cpu())) {
            for (int t = 1; t <= seq.length; t++) {
                ai.djl.ndarray.NDArray x = m.create(seq[t - 1], new ai.djl.ndarray.types.Shape(2, 1));
                io.distill4j.loss.StudentEstimate a = mine.update(ids, x);
                module.update(ids, x);
                io.distill4j.loss.StudentEstimate b = module.estimate(ids, m);
                float[] am = a.mean().toFloatArray();
                float[] bm = b.mean().toFloatArray();
                float[] av = a.variance().toFloatArray();
                float[] bv = b.variance().toFloatArray();
                for (int i = 0; i < 2; i++) {
                    assertEquals(bm[i], am[i], 1e-6, "mean at step " + t);
                    double expected = t == 1 ? 1 : bv[i] * (2 - alpha) / alpha + Math.pow(1 - alpha, t - 1);
                    assertEquals(expected, av[i], 1e-5, "variance at step " + t);
                }
            }
        }
    }

    @Test
    void mnistWithoutItsFilesSaysHowToFetchThem(@TempDir Path home, @TempDir Path out) throws IOException {
        ExperimentFile c = ExperimentFile.load(HOME.resolve("experiments/ffn.yaml"), true);
        ObjectNode json = c.config().root().deepCopy();
        ((ObjectNode) json.get("regression")).putArray("datasets");
        ((ObjectNode) json.get("classification")).putArray("datasets").add("mnist");
        BadInputException e = assertThrows(BadInputException.class, () -> new FfnExperiment(home).run(new ConfigFile(c.config().file(), c.config().text(), json), true, out));
        assertEquals("experiment ffn: classification.datasets: 'mnist' needs the IDX files in "
                + home.resolve("datasets/mnist/raw") + "; run datasets/mnist/fetch.sh, or remove mnist from the list",
                e.getMessage());
    }
}

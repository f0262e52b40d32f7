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
        // each regression setting was a stacked pipeline run on per-student draws of the noisy teacher's cache; the
        // inverse-variance students fused with the EMA of their own predictions (its spread, from 1)
        assertEquals(2 * 3, reg.size());
        for (Map<String, Object> cell : reg) {
            Path results = out.resolve("runs/regression-" + cell.get("dataset") + "/a-"
                    + io.distill4j.data.Numbers.plain((double) cell.get("a")) + "-k-" + cell.get("k") + "/"
                    + cell.get("method") + "/results.json");
            com.fasterxml.jackson.databind.JsonNode run = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(results.toFile());
            com.fasterxml.jackson.databind.JsonNode settings = run.get("settings");
            assertTrue(settings.get("stacked").asBoolean());
            assertEquals("per-student", settings.get("teacher").get("draws").asText());
            assertEquals((int) cell.get("k"), settings.get("teacher").get("samplesPerStudent").asInt());
            assertEquals("output-noise", settings.get("teacher").get("provenance").get("name").asText());
            assertEquals(cell.get("method").equals("mean") ? null : "ema (alpha 0.1, variance spread, initial spread 1.0)",
                    settings.has("studentEstimate") ? settings.get("studentEstimate").asText() : null);
            assertEquals(20, run.get("students").size());
            assertEquals((double) cell.get("mseMean"), run.get("aggregates").get("mse").get("mean").asDouble(), 1e-12);
            assertEquals((double) cell.get("predVar"), run.get("interStudentVariance").get("predictions").asDouble(),
                    1e-12 * (double) cell.get("predVar"));
        }
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
    void mnistWithoutItsFilesSaysHowToFetchThem(@TempDir Path home, @TempDir Path out) throws IOException {
        ExperimentFile c = ExperimentFile.load(HOME.resolve("experiments/ffn.yaml"), true);
        ObjectNode json = c.config().root().deepCopy();
        // the regression part (minutes) is not run first: the files are checked before any work
        ((ObjectNode) json.get("classification")).putArray("datasets").add("mnist");
        BadInputException e = assertThrows(BadInputException.class, () -> new FfnExperiment(home).run(new ConfigFile(c.config().file(), c.config().text(), json), true, out));
        assertEquals("experiment ffn: classification.datasets: 'mnist' needs the IDX files in "
                + home.resolve("datasets/mnist/raw") + "; run datasets/mnist/fetch.sh, or remove mnist from the list",
                e.getMessage());
        assertTrue(!Files.exists(out.resolve("runs")), "nothing was run");
    }
}

package io.distill4j.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinearRegressionExperimentTest {
    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));

    @Test
    void quickVariantUpholdsThePapersClaimsAndWritesTheReport(@TempDir Path out) throws IOException {
        ExperimentFile c = ExperimentFile.load(HOME.resolve("experiments/linear-regression.yaml"), true);
        assertEquals("linear-regression", c.experiment());
        Report r = new LinearRegressionExperiment(HOME).run(c.config(), true, out);
        assertEquals(List.of(), r.failures());
        ReportChecks.provenance(out, c.config().root(), "train", "test");
        ReportChecks.plots(out, List.of("excess-mse-vs-k.png", "prediction-variance-vs-k.png", "mse-variance-vs-k.png",
                "targets-vs-k.png"));
        @SuppressWarnings("unchecked")
        java.util.Map<String, Double> slopes = (java.util.Map<String, Double>) r.data().get("slopes");
        assertEquals(-1, slopes.get("mean@a=1.0"), 0.1);
        // every (a, k, target) is a pipeline run of ols students fitted in closed form on their own draws; the table's
        // numbers are that run's
        @SuppressWarnings("unchecked")
        List<LinearRegressionExperiment.Cell> cells = (List<LinearRegressionExperiment.Cell>) r.data().get("cells");
        assertEquals(2 * 4 * 3, cells.size());
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (LinearRegressionExperiment.Cell cell : cells) {
            com.fasterxml.jackson.databind.JsonNode run = json.readTree(out.resolve("runs/a-"
                    + io.distill4j.data.Numbers.plain(cell.a()) + "-k-" + cell.k() + "/" + cell.method() + "/results.json")
                    .toFile());
            com.fasterxml.jackson.databind.JsonNode settings = run.get("settings");
            assertEquals("ols", settings.get("student").get("model_type").asText(), cell.toString());
            assertEquals("per-student", settings.get("teacher").get("draws").asText());
            assertEquals(cell.k(), settings.get("teacher").get("samplesPerStudent").asInt());
            assertEquals(150, run.get("students").size());
            assertEquals(0, run.get("students").get(0).get("updates").asLong(), "closed form: no gradient steps");
            assertEquals(cell.mseMean(), run.get("aggregates").get("mse").get("mean").asDouble(), 1e-12);
            assertEquals(cell.method().startsWith("inverse-variance") ? cell.method().endsWith("paper") ? "given" : "pilot"
                    : null, settings.has("studentEstimate") ? settings.get("studentEstimate").asText() : null);
        }
    }

    @Test
    void unknownKeysAndBadValuesAreNamed(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("x.yaml");
        Files.writeString(f, "experiment: linear-regression\ndataset: d.csv\ntarget: y\ntestFraction: 0.2\n"
                + "noise: [0.1]\nk: [1, 2]\nstudents: 10\nseed: 0\nstudnets: 3\n");
        BadInputException e = assertThrows(BadInputException.class, () -> new LinearRegressionExperiment(HOME)
                .run(ExperimentFile.load(f, false).config(), false, dir));
        assertTrue(e.getMessage().startsWith(f + ":9:1: field studnets: unknown key 'studnets'; known keys: dataset, k,"),
                e.getMessage());
        Files.writeString(f, "experiment: linear-regression\ndataset: d.csv\ntarget: y\ntestFraction: 0.2\n"
                + "noise: [0.1]\nk: [1, 2]\nseed: 0\n");
        BadInputException missing = assertThrows(BadInputException.class, () -> new LinearRegressionExperiment(HOME)
                .run(ExperimentFile.load(f, false).config(), false, dir));
        assertEquals(f + ":1:1: field students: required", missing.getMessage());
        Files.writeString(f, "experiment: linear-regression\ndataset: d.csv\ntarget: y\ntestFraction: 0.2\n"
                + "noise: [0.1]\nk: [1, two]\nstudents: 10\nseed: 0\n");
        BadInputException type = assertThrows(BadInputException.class, () -> new LinearRegressionExperiment(HOME)
                .run(ExperimentFile.load(f, false).config(), false, dir));
        assertEquals(f + ":6:8: field k[1]: expected an integer, got 'two'", type.getMessage());
        Files.writeString(f, "experiment: linear-regression\ndataset: d.csv\ntarget: y\ntestFraction: 0.2\n"
                + "noise: [0.1]\nk: [1, 2]\nstudents: 1\nseed: 0\n");
        BadInputException s = assertThrows(BadInputException.class, () -> new LinearRegressionExperiment(HOME)
                .run(ExperimentFile.load(f, false).config(), false, dir));
        assertTrue(s.getMessage().contains("students must be at least 2, got 1"), s.getMessage());
        Files.writeString(f, "experiment: linear-regression\nquick:\n  nosie: [1]\n");
        BadInputException q = assertThrows(BadInputException.class, () -> ExperimentFile.load(f, true));
        assertEquals(f + ":3:3: field quick.nosie: overrides no setting", q.getMessage());
    }

    @Test
    void theDatasetPathIsRelativeToTheExperimentFileNotTheWorkingDirectory(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("sub/x.yaml");
        Files.createDirectories(f.getParent());
        Files.writeString(f, "experiment: linear-regression\ndataset: data/none.csv\ntarget: y\ntestFraction: 0.2\n"
                + "noise: [0.1]\nk: [1, 2]\nstudents: 10\nseed: 0\n");
        BadInputException e = assertThrows(BadInputException.class, () -> new LinearRegressionExperiment(HOME)
                .run(ExperimentFile.load(f, false).config(), false, dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("sub/data/none.csv").toString()), e.getMessage());
    }
}

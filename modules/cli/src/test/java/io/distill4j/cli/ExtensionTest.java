package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.Standardizer;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.loss.Registry;
import io.distill4j.pipeline.Teachers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Open registries (issue 12 item 9): a plug-in found by {@link java.util.ServiceLoader} ({@link TestExtension}) adds a
 * loss, a target builder and a teacher, and YAML jobs run through the CLI use them by name.
 */
class ExtensionTest {

    @Test
    void aPluginsLossTargetAndTeacherAreUsedByNameFromYaml(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("sample.yaml"), "cache: cache\nk: 4\nseed: 7\nbatchSize: 64\ndata:\n  dataset: iris\n"
                + "  dir: " + FaultsTest.SKLEARN + "\n  standardize: true\n  sample: train\n"
                + "teacher: {type: test-rule, sharpness: 2.0, noise: 0.5}\n");
        Path train = Files.writeString(dir.resolve("train.yaml"), "sample: sample.yaml\nstudent: {model_type: mlp, hidden: [8]}\n"
                + "target: test-draw\ntargetOptions: {index: 1}\nloss: test-brier\nstudents: 2\nout: runs\n"
                + "training: {epochs: 2, batchSize: 32, learningRate: 0.01}\n");
        Object[] r = MainTest.run("train", train.toString());
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(1, TestExtension.registrations, "registered once per JVM");
        assertTrue(Registry.lossNames().contains("test-brier") && Registry.targetNames().contains("test-draw"));
        assertTrue(Teachers.types().contains("test-rule"), Teachers.types().toString());

        Path run;
        try (Stream<Path> s = Files.list(dir.resolve("runs"))) {
            run = s.findFirst().orElseThrow();
        }
        JsonNode card = new ObjectMapper().readTree(run.resolve("model-card.json").toFile());
        JsonNode settings = card.path("settings");
        assertEquals("test-draw", settings.path("target").asText(), card.toString());
        assertEquals("test-brier", settings.path("loss").asText());
        assertEquals("[\"TARGET_PROBABILITIES\"]", settings.path("lossLabels").toString());
        JsonNode provenance = settings.path("teacher").path("provenance");
        assertEquals("test-rule", provenance.path("name").asText(), settings.toString());
        assertEquals(2.0, provenance.path("sharpness").asDouble());
        assertEquals(0.5, provenance.path("noise").asDouble());
        assertEquals(2, card.path("students").size());
        card.path("students").forEach(st -> assertTrue(Files.isRegularFile(run.resolve(st.path("folder").asText())
                .resolve("student.yaml")) || Files.isDirectory(run.resolve(st.path("folder").asText())), st.toString()));

        // The cache holds the rule the YAML configured, for the rows the sample job names, in order: recomputed here.
        TabularData rows = Standardizer.standardise(SklearnCsv.load("iris", Path.of(FaultsTest.SKLEARN)).split(0.2, 0)).train();
        float[][][] cached = TeacherCache.open(dir.resolve("cache")).readAll();
        assertEquals(rows.size(), cached.length);
        for (int item : new int[] {0, 57, rows.size() - 1}) {
            for (int s = 0; s < 4; s++) {
                SplittableRandom rnd = new SplittableRandom(7 * 1_000_003L + item * 1_009L + s);
                double[] z = new double[3];
                double sum = 0;
                for (int j = 0; j < 3; j++) {
                    double g = Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
                    z[j] = Math.exp(2.0 * rows.features()[item][j] + 0.5 * g);
                    sum += z[j];
                }
                float[] want = new float[3];
                for (int j = 0; j < 3; j++) {
                    want[j] = (float) (z[j] / sum);
                }
                assertArrayEquals(want, cached[item][s], 1e-5f, "item " + item + " draw " + s);
            }
        }
    }

    @Test
    void aPluginsOptionsAndSettingsAreBoundStrictly(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("sample.yaml"), "cache: cache\nk: 4\ndata:\n  dataset: iris\n  dir: " + FaultsTest.SKLEARN
                + "\nteacher: {type: test-rule, sharpness: 2.0, nosie: 0.5}\n");
        Object[] r = MainTest.run("sample", dir.resolve("sample.yaml").toString());
        assertEquals(2, r[0]);
        assertEquals("distill4j: error: " + dir.resolve("sample.yaml") + ":6:44: field teacher.nosie: unknown key 'nosie'; "
                + "known keys: noise, sharpness", MainTest.oneLine(r));
        Path train = Files.writeString(dir.resolve("train.yaml"), "sample: sample.yaml\nstudent: {model_type: mlp}\n"
                + "target: test-draw\ntargetOptions: {index: -1}\nloss: test-brier\n");
        Files.writeString(dir.resolve("sample.yaml"), Files.readString(dir.resolve("sample.yaml")).replace("nosie", "noise"));
        Object[] t = MainTest.run("train", train.toString());
        assertEquals(2, t[0]);
        String line = MainTest.oneLine(t);
        assertEquals("distill4j: error: " + train + ":4:1: field targetOptions: target 'test-draw': index must be "
                + ">= 0, got -1", line);
        assertFalse(Files.exists(dir.resolve("cache")), "nothing was sampled");
        assertEquals(List.of("sample.yaml", "train.yaml"), FaultsTest.listing(dir));
    }
}

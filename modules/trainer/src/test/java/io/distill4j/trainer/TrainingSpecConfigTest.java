package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.data.config.ConfigReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code training:} section bound strictly into {@link TrainingSpec}: every key, round trip, and each fault. */
class TrainingSpecConfigTest {

    private static final Path FILE = Path.of("/jobs/run.yaml");

    static TrainingSpec parse(String training) {
        ConfigFile f = ConfigFile.parse(FILE, "out: x\ntraining:\n" + training.indent(2));
        return f.check("/training", () -> f.update("/training", TrainingSpec.builder()).build());
    }

    static String error(String training) {
        return assertThrows(BadInputException.class, () -> parse(training)).getMessage();
    }

    @Test
    void theDocumentedExampleBindsEveryKey() {
        TrainingSpec s = parse(String.join("\n",
                "device: cpu",
                "seed: 2",
                "epochs: 10",
                "batchSize: 32",
                "maxSteps: 0",
                "learningRate: 3.0e-4",
                "weightDecay: 0.05",
                "beta1: 0.8",
                "beta2: 0.95",
                "epsilon: 1.0e-6",
                "noDecay: [bias]",
                "schedule: cosine",
                "warmupSteps: 100",
                "maxGradNorm: 1.0",
                "accumulationSteps: 2",
                "precision: fp32",
                "checkpointEvery: 500",
                "checkpointDir: ckpt",
                "keepCheckpoints: 2",
                "validateEvery: 50",
                "earlyStopping: {metric: accuracy, patience: 4, minDelta: 0.001, restoreBest: false}",
                "logEvery: 10",
                "progressBar: false",
                "progressInterval: 2m",
                "tracking: {dir: tb, every: 5, formats: [jsonl]}"));
        assertEquals(Device.cpu(), s.device());
        assertEquals(2, s.seed());
        assertEquals(10, s.epochs());
        assertEquals(32, s.batchSize());
        assertEquals(3e-4f, s.learningRate());
        assertEquals(0.05f, s.weightDecay());
        assertEquals(0.8f, s.beta1());
        assertEquals(0.95f, s.beta2());
        assertEquals(1e-6f, s.epsilon());
        assertEquals(List.of("bias"), s.noDecay());
        assertEquals(LrSchedule.Kind.COSINE, s.schedule());
        assertEquals(100, s.warmupSteps());
        assertEquals(1f, s.maxGradNorm());
        assertEquals(2, s.accumulationSteps());
        assertEquals(Precision.FP32, s.precision());
        assertEquals(500, s.checkpointEvery());
        assertEquals(Path.of("/jobs/ckpt"), s.checkpointDir(), "relative paths resolve against the YAML file's folder");
        assertEquals(2, s.keepCheckpoints());
        assertEquals(50, s.validateEvery());
        assertEquals(new EarlyStopping("accuracy", true, 4, 0.001, false), s.earlyStopping());
        assertEquals(10, s.logEvery());
        assertFalse(s.progressBar());
        assertEquals(java.time.Duration.ofMinutes(2), s.progressInterval());
        assertEquals(new Tracking(Path.of("/jobs/tb"), 5, java.util.Set.of(Tracking.Format.JSONL)), s.tracking());
    }

    @Test
    void everythingIsOptionalAndAbsentSectionsGiveTheDefaults() {
        ConfigFile f = ConfigFile.parse(FILE, "out: x\n");
        assertEquals(TrainingSpec.builder().build(), f.update("/training", TrainingSpec.builder()).build());
        assertEquals(new EarlyStopping("nll", false, 3, 0, true), parse("earlyStopping: {}").earlyStopping());
    }

    @Test
    void asMapBindsBackToTheSameSpec() {
        TrainingSpec s = parse("seed: 7\nepochs: 3\nbatchSize: 16\nschedule: linear\nwarmupSteps: 5\ncheckpointEvery: 4\n"
                + "checkpointDir: /tmp/c\nearlyStopping: {metric: ece, patience: 2}\nnoDecay: [bias, norm]\n"
                + "progressInterval: 1.5s\ntracking: {dir: /tmp/t}");
        String yaml = ConfigReader.toYaml(Map.of("training", s.asMap()));
        ConfigFile back = ConfigFile.parse(FILE, yaml);
        assertEquals(s, back.update("/training", TrainingSpec.builder()).build());
    }

    @Test
    void unknownKeysNameFileLineColumnAndTheKnownKeys() {
        String e = error("epochs: 3\nlearningrate: 0.1");
        assertTrue(e.startsWith("/jobs/run.yaml:4:3: field training.learningrate: unknown key 'learningrate'; known keys: "
                + "accumulationSteps, batchSize,"), e);
        assertTrue(e.contains("learningRate"), e);
        e = error("earlyStopping: {metrc: nll}");
        assertTrue(e.startsWith("/jobs/run.yaml:3:19: field training.earlyStopping.metrc: unknown key 'metrc'"), e);
    }

    @Test
    void wrongTypesAndBadValuesAreOneLineWithKeyAndValue() {
        assertEquals("/jobs/run.yaml:3:3: field training.epochs: expected an integer, got 'lots'", error("epochs: lots"));
        assertEquals("/jobs/run.yaml:3:3: field training.epochs: expected an integer, got '2.5'", error("epochs: 2.5"));
        assertEquals("/jobs/run.yaml:2:1: field training: epochs must be positive, got 0", error("epochs: 0"));
        assertTrue(error("batchSize: -4").endsWith("batchSize must be positive, got -4"));
        assertTrue(error("schedule: step").endsWith("field training.schedule: expected one of: constant, linear, cosine,"
                + " got 'step'"), error("schedule: step"));
        assertTrue(error("precision: fp16").contains("precision fp16 (mixed precision) needs a GPU device"));
        assertTrue(error("device: tpu").endsWith("field training.device: unknown device 'tpu' (use cpu, gpu or gpu(i))"));
        assertTrue(error("device: gpu(3)").contains("field training.device: gpu(3) is not available"));
        assertTrue(error("checkpointEvery: 10").endsWith("checkpointEvery is 10 but no checkpoint folder is set"));
        assertTrue(error("earlyStopping: {metric: f1}").contains("field training.earlyStopping: unknown validation metric"
                + " 'f1'"), error("earlyStopping: {metric: f1}"));
        assertTrue(error("earlyStopping: {metric: nll, patience: 0}").contains("early-stopping patience must be positive"));
        assertTrue(error("noDecay: bias").contains("field training.noDecay: expected a list"), error("noDecay: bias"));
        assertTrue(error("progressBar: maybe").contains("field training.progressBar: expected true or false"));
        assertTrue(error("progressInterval: soon").contains("field training.progressInterval: expected a duration such as"
                + " 30s, 2m or PT30S, got 'soon'"), error("progressInterval: soon"));
        assertTrue(error("tracking: {every: 3}").contains("field training.tracking: tracking needs a dir"),
                error("tracking: {every: 3}"));
        assertEquals("/jobs/run.yaml:2:1: field training: expected a mapping of keys", error("- 3").replace(
                "/jobs/run.yaml:3:3", "/jobs/run.yaml:2:1"));
    }
}

package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EngineConfigTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @SuppressWarnings("unchecked")
    static Map<String, Object> yaml(String text) throws IOException {
        Map<String, Object> m = YAML.readValue(text, Map.class);
        return m == null ? Map.of() : m;
    }

    static EngineConfig parse(String text) throws IOException {
        return EngineConfig.fromMap(yaml(text), "run.yaml: training");
    }

    static String error(String text) {
        return assertThrows(BadInputException.class, () -> parse(text)).getMessage();
    }

    @Test
    void theDocumentedExampleParsesIntoTheSpec() throws IOException {
        EngineConfig c = parse(String.join("\n",
                "device: cpu",
                "seeds: [1, 2, 3]",
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
                "resume: true",
                "validateEvery: 50",
                "earlyStopping: {metric: accuracy, patience: 4, minDelta: 0.001, restoreBest: false}",
                "logEvery: 10",
                "progressBar: true"));
        assertEquals(List.of(1L, 2L, 3L), c.seedList("x"));
        assertEquals(32, c.batchSizeOrDefault());
        assertTrue(c.resumeOrDefault());
        assertEquals("accuracy", c.validationMetric());
        TrainingSpec s = c.toSpec(2, "x");
        assertEquals(Device.cpu(), s.device());
        assertEquals(2, s.seed());
        assertEquals(10, s.epochs());
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
        assertEquals(Path.of("ckpt"), s.checkpointDir());
        assertEquals(2, s.keepCheckpoints());
        assertEquals(50, s.validateEvery());
        assertEquals(new EarlyStopping(true, 4, 0.001, false), s.earlyStopping());
        assertEquals(10, s.logEvery());
        assertTrue(s.progressBar());
    }

    @Test
    void everythingIsOptional() throws IOException {
        EngineConfig c = EngineConfig.fromMap(Map.of(), "run.yaml: training");
        assertEquals(List.of(0L), c.seedList("x"));
        assertEquals(EngineConfig.DEFAULT_BATCH_SIZE, c.batchSizeOrDefault());
        TrainingSpec s = c.toSpec(0, "x");
        assertEquals(TrainingSpec.builder().build(), s);
        assertNull(c.validationMetric());
        assertEquals(List.of(5L, 6L, 7L), parse("students: 3\nseed: 5").seedList("x"));
    }

    @Test
    void unknownKeysAreNamedWithTheKnownOnes() {
        String e = error("learningrate: 0.1");
        assertTrue(e.startsWith("run.yaml: training: unknown key 'learningrate' (known: accumulationSteps, batchSize,"),
                e);
        assertTrue(e.contains("learningRate"), e);
        e = error("earlyStopping: {metrc: nll}");
        assertTrue(e.startsWith("run.yaml: training: unknown key 'earlyStopping.metrc' (known: metric, minDelta,"
                + " patience, restoreBest)"), e);
    }

    @Test
    void badValuesAreNamedWithKeyAndValue() {
        assertEquals("run.yaml: training: key 'epochs': cannot read 'ten' as integer", error("epochs: ten"));
        assertEquals("run.yaml: training: epochs must be positive, got 0", error("epochs: 0"));
        assertEquals("run.yaml: training: batchSize must be positive, got -4", error("batchSize: -4"));
        assertTrue(error("schedule: step").contains("key 'schedule': unknown schedule 'step' (known: constant, linear,"
                + " cosine)"));
        assertTrue(error("precision: fp16").contains("precision fp16 (mixed precision) needs a GPU device, got cpu()"));
        assertTrue(error("precision: bf16").contains("key 'precision': precision 'bf16' is not available"));
        assertTrue(error("device: tpu").contains("key 'device': unknown device 'tpu' (use cpu, gpu or gpu(i))"));
        assertTrue(error("device: gpu(3)").contains("key 'device': gpu(3) is not available, the engine sees"));
        assertTrue(error("seeds: [1, 2]\nstudents: 2").contains("give either 'seeds' or 'students'/'seed', not both"));
        assertTrue(error("seeds: [1, 1]").contains("key 'seeds' repeats a seed: [1, 1]"));
        assertTrue(error("checkpointEvery: 10").contains("checkpointEvery is 10 but no checkpointDir is set"));
        assertTrue(error("resume: true").contains("resume is true but checkpointEvery is not set"));
        assertTrue(error("earlyStopping: {metric: f1}").contains("earlyStopping.metric: unknown validation metric 'f1'"));
        assertTrue(error("earlyStopping: {metric: nll, patience: 0}")
                .contains("earlyStopping.patience must be positive, got 0"));
        assertTrue(error("maxGradNorm: -1").contains("maxGradNorm must be non-negative"));
    }
}

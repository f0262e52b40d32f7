package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.models.lm.SentenceEmbedder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line reaches the experiments without onnxruntime and the sentence embedder (about 110 MB of jars,
 * needed by {@code experiment llm} only): its test class path is its runtime class path plus the test libraries,
 * and neither the embedder nor onnxruntime is on it. Without them, {@code experiment llm} stops in one line,
 * before any work, naming what to add.
 */
class EmbedderClassPathTest {

    @Test
    void neitherOnnxruntimeNorTheEmbedderIsOnTheCommandLinesClassPath() {
        for (String c : new String[] {"ai.onnxruntime.OrtEnvironment",
            "dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel",
            "io.distill4j.minilm.MiniLmEmbedder"}) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName(c), c + " must not be on the CLI's class path");
        }
        assertTrue(ServiceLoader.load(SentenceEmbedder.class).findFirst().isEmpty());
        // the experiments themselves are reachable
        assertTrue(ExperimentCommand.EXPERIMENTS.containsKey("llm"));
    }

    @Test
    void theLlmExperimentWithoutTheEmbedderIsAOneLineUserErrorBeforeAnyWork(@TempDir Path out) throws Exception {
        Path config = TrainJobTest.HOME.resolve("experiments/llm.yaml");
        Object[] r = MainTest.run("experiment", "llm", "--quick", "--config", config.toString(), "--out", out.toString());
        assertEquals(Main.USER_ERROR, r[0], (String) r[1]);
        assertEquals("distill4j: error: no sentence embedder on the class path: add io.distill4j:distill4j-minilm and its "
                + "onnxruntime jars to the class path (./distill4j experiment llm does so itself)", MainTest.oneLine(r));
        try (var files = Files.list(out)) {
            assertFalse(files.findAny().isPresent(), "nothing written");
        }
    }
}

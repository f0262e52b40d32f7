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

class LlmExperimentTest {
    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));

    @Test
    void quickVariantUpholdsThePapersClaims(@TempDir Path out) throws IOException {
        ExperimentFile c = ExperimentFile.load(HOME.resolve("experiments/llm.yaml"), true);
        assertEquals("llm", c.experiment());
        Report r = new LlmExperiment(HOME).run(c.config(), true, out);
        assertEquals(List.of(), r.failures());
        ReportChecks.provenance(out, c.config().root(), "knowledge base (prompt TAB answer per line)",
                "corpus passages (one per line)");
        List<String> pngs = List.of("llm-similarity.png", "llm-systematic-noise.png", "llm-inter-student-variance.png",
                "llm-hallucination.png");
        ReportChecks.plots(out, pngs);
        // the plots drawn again from report.json alone are the run's, byte for byte
        Map<String, byte[]> drawn = new java.util.HashMap<>();
        for (String png : pngs) {
            drawn.put(png, java.nio.file.Files.readAllBytes(out.resolve(png)));
            java.nio.file.Files.delete(out.resolve(png));
        }
        LlmExperiment.main(new String[] {"--replot", out.toString()});
        for (String png : pngs) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(drawn.get(png),
                    java.nio.file.Files.readAllBytes(out.resolve(png)), png + " drawn again from report.json");
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> cells = (List<Map<String, Object>>) r.data().get("cells");
        assertEquals(2 * 2, cells.size());
        for (Map<String, Object> cell : cells) {
            double[] sim = (double[]) cell.get("similaritySampled");
            for (double s : sim) {
                assertTrue(s > 0 && s <= 1.0 + 1e-9, cell.get("method") + " similarity " + s);
            }
        }
        assertTrue(r.markdown().contains("quantised ONNX"), "the report must name the quantised embedder");
    }

    @Test
    void unknownKeysAndBadValuesAreNamed(@TempDir Path out) {
        ConfigFile file = ExperimentFile.load(HOME.resolve("experiments/llm.yaml"), true).config();
        ObjectNode cfg = (ObjectNode) file.root();
        cfg.put("studnets", 3);
        BadInputException e = assertThrows(BadInputException.class, () -> new LlmExperiment(HOME).run(file, true, out));
        assertTrue(e.getMessage().contains("unknown key 'studnets'"), e.getMessage());
        cfg.remove("studnets");
        cfg.putArray("methods").add("multi-response").add("majority-vote");
        BadInputException m = assertThrows(BadInputException.class, () -> new LlmExperiment(HOME).run(file, true, out));
        assertTrue(m.getMessage().contains("methods must be some of") && m.getMessage().contains("majority-vote"),
                m.getMessage());
        cfg.putArray("methods").add("mean");
        cfg.putArray("ks").add(5).add(1);
        BadInputException k = assertThrows(BadInputException.class, () -> new LlmExperiment(HOME).run(file, true, out));
        assertTrue(k.getMessage().contains("ks must be ascending"), k.getMessage());
        cfg.putArray("ks").add(1).add(5);
        cfg.put("corpus", "datasets/text/no-such-corpus");
        cfg.put("corpusFallback", "");
        BadInputException c = assertThrows(BadInputException.class, () -> new LlmExperiment(HOME).run(file, true, out));
        assertTrue(c.getMessage().contains("field corpus") && c.getMessage().contains("no-such-corpus"), c.getMessage());
    }
}

package io.distill4j.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.BadInputException;
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
        Configs.Loaded c = Configs.load(HOME.resolve("experiments/ffn.yaml"), true);
        Report r = new FfnExperiment(HOME).run(c.settings(), true, out);
        assertEquals(List.of(), r.failures());
        assertTrue(Files.size(out.resolve("ffn-regression-boston.png")) > 0);
        assertTrue(Files.size(out.resolve("ffn-classification-digits.png")) > 0);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> cls = (List<Map<String, Object>>) r.data().get("classification");
        assertEquals(4, cls.size());
        for (Map<String, Object> cell : cls) {
            assertTrue((double) cell.get("accuracyMean") > 0.8, cell.toString());
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> reg = (List<Map<String, Object>>) r.data().get("regression");
        // with k = 1 both targets are the single sample: identical students
        assertEquals(reg.get(0).get("mseMean"), reg.get(3).get("mseMean"));
    }

    @Test
    void mnistWithoutItsFilesSaysHowToFetchThem(@TempDir Path home, @TempDir Path out) throws IOException {
        Configs.Loaded c = Configs.load(HOME.resolve("experiments/ffn.yaml"), true);
        ObjectNode json = c.settings().deepCopy();
        ((ObjectNode) json.get("regression")).putArray("datasets");
        ((ObjectNode) json.get("classification")).putArray("datasets").add("mnist");
        BadInputException e = assertThrows(BadInputException.class, () -> new FfnExperiment(home).run(json, true, out));
        assertEquals("experiment ffn: classification.datasets: 'mnist' needs the IDX files in "
                + home.resolve("datasets/mnist/raw") + "; run datasets/mnist/fetch.sh, or remove mnist from the list",
                e.getMessage());
    }
}

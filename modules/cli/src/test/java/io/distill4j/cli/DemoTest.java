package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoTest {

    @Test
    void smallDemoWritesTheTableWithEveryColumn(@TempDir Path runs) throws Exception {
        Path data = Path.of(System.getProperty("distill4j.root", "../..")).resolve("datasets/sklearn");
        DemoConfig cfg = new DemoConfig(data, runs, 3, 2, 4, 3, DemoConfig.DEFAULT_TARGETS, 0);
        Demo.Result r = new Demo(cfg, Device.cpu()).run();

        String md = Files.readString(r.runDir().resolve("results.md"));
        String header = md.lines().filter(l -> l.startsWith("| target")).findFirst().orElseThrow();
        assertEquals("| target | students | accuracy | NLL | ECE | inter-student variance | intra-student entropy |", header);
        assertEquals(3, md.lines().filter(l -> l.startsWith("| single") || l.startsWith("| mean")
                || l.startsWith("| inverse-variance")).count());
        assertTrue(md.contains("accuracy, NLL, ECE: mean ± half-width of the 95% Student-t interval of the mean over 2 "
                + "students, t(1) = 12.706."), md);

        ResultsTable back = ResultsTable.readJson(r.runDir().resolve("results.json"));
        assertEquals(r.table().rows(), back.rows());
        assertEquals(r.table().title(), back.title());
        assertEquals(List.of("single", "mean", "inverse-variance"), back.rows().stream().map(ResultsTable.Row::target).toList());
        for (ResultsTable.Row row : back.rows()) {
            assertEquals(2, row.students());
            assertTrue(row.accuracy().mean() > 0.5, row.target() + " accuracy " + row.accuracy().mean());
            assertTrue(row.interStudentVariance() > 0, "two seeds disagree somewhere");
            assertTrue(row.intraStudentEntropy() > 0 && row.intraStudentEntropy() < Math.log(10));
            assertTrue(row.ece().mean() >= 0 && row.ece().mean() <= 1);
        }
        assertTrue(Files.exists(r.runDir().resolve("teacher-cache/manifest.json")));
        assertEquals(3, ((Number) ((java.util.Map<?, ?>) back.provenance().get("config")).get("k")).intValue());
    }
}

package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.pipeline.Draws;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoTest {

    @Test
    void smallDemoWritesTheTableWithEveryColumn(@TempDir Path runs) throws Exception {
        Path data = Path.of(System.getProperty("distill4j.root", "../..")).resolve("datasets/sklearn");
        DemoConfig cfg = new DemoConfig(data, runs, 3, 2, 4, 3, DemoConfig.DEFAULT_TARGETS, 0,
                DemoConfig.DEFAULT_LABEL_NOISE, DemoConfig.DEFAULT_TEACHER_DROPOUT, Draws.PER_STUDENT);
        Demo.Result r = new Demo(cfg, Device.cpu()).run();

        String md = Files.readString(r.runDir().resolve("results.md"));
        String header = md.lines().filter(l -> l.startsWith("| target")).findFirst().orElseThrow();
        assertEquals("| target | students | accuracy | NLL | ECE | inter-student variance [95% CI] | ratio to the first target"
                + " [95% CI] | intra-student entropy |", header);
        assertEquals(3, md.lines().filter(l -> l.startsWith("| single") || l.startsWith("| mean")
                || l.startsWith("| inverse-variance")).count());
        assertTrue(md.contains("accuracy, NLL, ECE: mean ± half-width of the 95% Student-t interval of the mean over 2 "
                + "students, t(1) = 12.706."), md);
        assertTrue(md.contains("estimate [95% percentile-bootstrap interval, 2000 resamples of the 359 test items]"), md);
        assertTrue(md.lines().anyMatch(l -> l.startsWith("What this shows: mean ") && l.contains("inverse-variance")), md);
        assertTrue(md.contains("| 1 (baseline) |"), md);
        Path png = r.runDir().resolve(ResultsTable.PLOT);
        assertTrue(Files.size(png) > 5_000, "a drawn plot, not an empty image: " + Files.size(png));
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
        assertTrue(image.getWidth() >= 600 && image.getHeight() >= 400);

        ResultsTable back = ResultsTable.readJson(r.runDir().resolve("results.json"));
        assertEquals(r.table().rows(), back.rows());
        assertEquals(r.table().title(), back.title());
        assertEquals(List.of("single", "mean", "inverse-variance"), back.rows().stream().map(ResultsTable.Row::target).toList());
        for (ResultsTable.Row row : back.rows()) {
            assertEquals(2, row.students());
            assertTrue(row.accuracy().mean() > 0.2, row.target() + " accuracy above chance (0.1) after a few epochs: "
                    + row.accuracy().mean());
            var v = row.interStudentVariance();
            assertTrue(v.estimate() > 0 && v.low() <= v.estimate() && v.estimate() <= v.high(), v.format());
            if (row.target().equals("single")) {
                assertEquals(null, row.ratio());
            } else {
                assertTrue(row.ratio().low() <= row.ratio().high() && row.ratio().estimate() > 0, row.ratio().format());
            }
            assertTrue(row.intraStudentEntropy() > 0 && row.intraStudentEntropy() < Math.log(10));
            assertTrue(row.ece().mean() >= 0 && row.ece().mean() <= 1);
        }
        assertTrue(Files.exists(r.runDir().resolve("teacher-cache/manifest.json")));
        var config = (java.util.Map<?, ?>) back.provenance().get("config");
        assertEquals(3, ((Number) config.get("k")).intValue());
        assertEquals("per-student", config.get("draws"));
        assertEquals(0.2, ((Number) config.get("labelNoise")).doubleValue());
    }
}

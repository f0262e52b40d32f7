package io.distill4j.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;

/** Checks shared by the experiments' quick tests: the report's provenance block and its plots. */
final class ReportChecks {
    private ReportChecks() {
    }

    /**
     * Checks {@code report.json}'s provenance: version, commit key, command, engine, device, ordered times, the
     * configuration as run, the seeds and a 64-hex fingerprint for each named data set; and the Markdown section.
     */
    static JsonNode provenance(Path out, JsonNode settings, String... datasets) throws IOException {
        JsonNode p = new ObjectMapper().readTree(out.resolve("report.json").toFile()).get("provenance");
        assertNotNull(p, "report.json has no provenance block");
        assertFalse(p.get("distill4j").asText().isBlank(), p.toString());
        assertTrue(p.has("gitCommit"), p.toString());
        assertFalse(p.get("command").asText().isBlank(), p.toString());
        assertFalse(p.get("engine").asText().isBlank(), p.toString());
        assertFalse(p.get("device").asText().isBlank(), p.toString());
        Instant started = Instant.parse(p.get("started").asText());
        Instant finished = Instant.parse(p.get("finished").asText());
        assertFalse(finished.isBefore(started), p.toString());
        assertEquals(settings, p.get("config"));
        assertTrue(p.get("seeds").size() > 0, p.toString());
        for (String d : datasets) {
            JsonNode fp = p.get("data").get(d);
            assertNotNull(fp, "no data set '" + d + "' in " + p.get("data"));
            assertTrue(fp.get("fingerprint").asText().matches("[0-9a-f]{64}"), fp.toString());
        }
        assertTrue(Files.readString(out.resolve("report.md")).contains("## Provenance"));
        return p;
    }

    /**
     * Checks that each plot exists and is a real picture: a PNG at least 400 x 300 pixels with more than a few
     * colours (a blank or single-colour canvas fails), at least 3 of them distinct non-grey colours (the series).
     */
    static void plots(Path out, List<String> files) throws IOException {
        for (String f : files) {
            Path png = out.resolve(f);
            assertTrue(Files.isRegularFile(png), f + " missing");
            assertTrue(Files.size(png) > 5_000, f + " is only " + Files.size(png) + " bytes");
            BufferedImage img = ImageIO.read(png.toFile());
            assertNotNull(img, f + " is not a readable PNG");
            assertTrue(img.getWidth() >= 400 && img.getHeight() >= 300, f + ": " + img.getWidth() + "x" + img.getHeight());
            Set<Integer> colours = new HashSet<>();
            Set<Integer> hues = new HashSet<>();
            for (int y = 0; y < img.getHeight(); y += 2) {
                for (int x = 0; x < img.getWidth(); x += 2) {
                    int rgb = img.getRGB(x, y) & 0xFFFFFF;
                    colours.add(rgb);
                    int r = rgb >> 16, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF;
                    if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
                        hues.add(rgb);
                    }
                }
            }
            assertTrue(colours.size() > 20, f + " has only " + colours.size() + " colours");
            assertTrue(hues.size() >= 3, f + " has only " + hues.size() + " saturated colours");
        }
    }

    /**
     * Checks that every student a report lists was trained by the pipeline: each list of per-student values under
     * {@code key} in the report equals the values of one stacked pipeline run's {@code results.json} under
     * {@code runs/}, and there are as many runs as entries.
     *
     * @param out the experiment's output folder
     * @param entries the report's student entries
     * @param key the per-student list in an entry, e.g. {@code accuracy}
     * @param metric the same metric in {@code results.json}, e.g. {@code accuracy} or {@code shifted/accuracy}
     */
    static void trainedByThePipeline(Path out, List<java.util.Map<String, Object>> entries, String key, String metric)
            throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<List<Double>> runs = new java.util.ArrayList<>();
        try (var files = Files.walk(out.resolve("runs"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().equals("results.json")).toList()) {
                JsonNode r = json.readTree(f.toFile());
                assertTrue(r.get("settings").get("stacked").asBoolean(), f + ": stacked students");
                List<Double> v = new java.util.ArrayList<>();
                r.get("students").forEach(st -> v.add(st.get("metrics").get(metric).asDouble()));
                runs.add(v);
                assertTrue(Files.exists(f.resolveSibling("model-card.md")), f + ": a model card beside it");
            }
        }
        assertEquals(entries.size(), runs.size(), "one pipeline run per report entry");
        for (java.util.Map<String, Object> e : entries) {
            List<Double> want = java.util.Arrays.stream((double[]) e.get(key)).boxed().toList();
            assertTrue(runs.contains(want), "the report's " + key + " " + want + " is a pipeline run's");
        }
    }
}

package io.distill4j.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.TabularData;
import io.distill4j.pipeline.RunInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

    @Test
    void aReportWithoutProvenanceIsNotWritten(@TempDir Path out) {
        Report r = new Report("t").paragraph("text");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> r.write(out));
        assertTrue(e.getMessage().contains("no provenance"), e.getMessage());
        assertFalse(Files.exists(out.resolve("report.json")));
    }

    @Test
    void theProvenanceBlockComesFirstWithConfigSeedsAndDataFingerprints(@TempDir Path out) throws Exception {
        RunInfo info = new RunInfo("0.1.0", "0123456789abcdef0123456789abcdef01234567", "distill4j experiment x --quick",
                "PyTorch 2.7.1", "cpu()", "17", Instant.parse("2026-12-02T10:00:00Z"), Instant.parse("2026-12-02T10:05:00Z"));
        // one row (1, 2): the fingerprint hashes the shape (1, 2) as two big-endian ints, then the float bits
        TabularData t = new TabularData("tiny", new float[][] {{1f, 2f}}, new int[] {0}, null, 2);
        Report r = new Report("t").data("numbers", List.of(1, 2))
                .provenance(info, Map.of("students", 5)).seed("seed", 42).dataset("train", t).dataset("facts", "abc");
        r.write(out);
        JsonNode j = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(List.of("title", "provenance", "failedClaims", "numbers"), iterate(j));
        JsonNode p = j.get("provenance");
        assertEquals("0.1.0", p.get("distill4j").asText());
        assertEquals("0123456789abcdef0123456789abcdef01234567", p.get("gitCommit").asText());
        assertEquals("distill4j experiment x --quick", p.get("command").asText());
        assertEquals("2026-12-02T10:05:00Z", p.get("finished").asText());
        assertEquals(5, p.get("config").get("students").asInt());
        assertEquals(42, p.get("seeds").get("seed").asLong());
        // SHA-256 of "abc" (FIPS 180-2 test vector)
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                p.get("data").get("facts").get("fingerprint").asText());
        // SHA-256 of 00000001 00000002 3f800000 40000000 (shape, then 1.0f and 2.0f)
        java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
        byte[] bytes = java.util.HexFormat.of().parseHex("00000001000000023f80000040000000");
        assertEquals(java.util.HexFormat.of().formatHex(d.digest(bytes)), p.get("data").get("train").get("fingerprint").asText());
        assertEquals(1, p.get("data").get("train").get("rows").asInt());
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("## Provenance") && md.contains("- command: distill4j experiment x --quick"), md);
    }

    @Test
    void theCommandLineIsQuotedForAShell() {
        String before = System.getProperty(RunInfo.COMMAND_PROPERTY);
        try {
            RunInfo.recordCommandLine("distill4j", "experiment", "llm", "--out", "my runs/it's");
            assertEquals("distill4j experiment llm --out 'my runs/it'\\''s'", RunInfo.commandLine());
        } finally {
            if (before == null) {
                System.clearProperty(RunInfo.COMMAND_PROPERTY);
            } else {
                System.setProperty(RunInfo.COMMAND_PROPERTY, before);
            }
        }
    }

    private static List<String> iterate(JsonNode j) {
        List<String> names = new java.util.ArrayList<>();
        j.fieldNames().forEachRemaining(names::add);
        return names;
    }
}

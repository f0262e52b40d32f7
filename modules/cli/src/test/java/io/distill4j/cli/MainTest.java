package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.TeacherCacheWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {

    /** Runs the CLI capturing stderr; returns exit code and the captured text. */
    static Object[] run(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int rc = Main.run(args);
            return new Object[] {rc, buf.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void unknownCommandIsAOneLineUserError() {
        Object[] r = run("frobnicate");
        assertEquals(2, r[0]);
        String err = ((String) r[1]).strip();
        assertFalse(err.contains("\n"), err);
        assertTrue(err.contains("'frobnicate'"), err);
        assertFalse(err.contains("Exception"), err);
    }

    @Test
    void unknownOptionIsAOneLineUserError() {
        Object[] r = run("demo", "--no-such-option");
        assertEquals(2, r[0]);
        String err = ((String) r[1]).strip();
        assertFalse(err.contains("\n"), err);
        assertTrue(err.contains("--no-such-option"), err);
    }

    @Test
    void missingDatasetIsAOneLineUserError(@TempDir Path dir) {
        Object[] r = run("demo", "--data", dir.toString(), "--runs", dir.resolve("runs").toString());
        assertEquals(2, r[0]);
        String err = ((String) r[1]).strip();
        assertEquals("distill4j: error: " + dir.resolve("digits.csv") + ": dataset file not found", err);
    }

    @Test
    void malformedDatasetNamesLineAndValue(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("digits.csv"), "1,2,3\n4,oops,5\n");
        Object[] r = run("demo", "--data", dir.toString(), "--runs", dir.resolve("runs").toString());
        assertEquals(2, r[0]);
        String err = ((String) r[1]).strip();
        assertTrue(err.endsWith("digits.csv: line 2: field feature 1: not a finite number: 'oops'"), err);
        assertFalse(err.contains("\n"), err);
    }

    @Test
    void badOptionValuesAreUserErrors(@TempDir Path dir) {
        Object[] r = run("demo", "--students", "1", "--runs", dir.toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("students must be at least 2"), (String) r[1]);
        Object[] t = run("demo", "--targets", "mean,nope", "--runs", dir.toString());
        assertEquals(2, t[0]);
        assertTrue(((String) t[1]).contains("unknown target 'nope'"), (String) t[1]);
        Object[] d = run("demo", "--device", "tpu", "--runs", dir.toString());
        assertEquals(2, d[0]);
        assertTrue(((String) d[1]).contains("unknown device 'tpu'"), (String) d[1]);
    }

    /**
     * The one line a failed command printed, checking that it is one line and carries no stack trace (the
     * stage lines {@code sample} logs while it works, "distill4j sample: ...", are left out).
     */
    static String oneLine(Object[] result) {
        String err = ((String) result[1]).lines().filter(l -> !l.startsWith("distill4j sample: "))
                .collect(java.util.stream.Collectors.joining("\n")).strip();
        assertFalse(err.contains("\n"), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), err);
        return err;
    }

    @Test
    void aWrongRowsCountInTheManifestNamesItsShard(@TempDir Path dir) throws IOException {
        Path cache = dir.resolve("cache");
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(cache, "regression", 1, 1, "values", Map.of(), "fp", 2,
                CacheWriteOptions.DEFAULT.withFsync(false))) {
            for (int i = 0; i < 6; i++) {
                w.append(new float[][] {{i}});
            }
        }
        Path manifest = cache.resolve("manifest.json");
        String json = Files.readString(manifest);
        int at = json.indexOf("part-00001.arrow");
        int rows = json.indexOf("\"rows\" : 2", at);
        Files.writeString(manifest, json.substring(0, rows) + "\"rows\" : 3" + json.substring(rows + "\"rows\" : 2".length()));
        Object[] r = run("cache", "verify", cache.toString());
        assertEquals(2, r[0]);
        assertEquals("distill4j: error: " + manifest + ": shard part-00001.arrow: field rows: 3 rows from item 2 end at "
                + "item 5, but the next shard part-00002.arrow starts at item 4 (expected 2 rows)", oneLine(r));
    }

    @Test
    void aFullDiskIsExitCode4InOneLineAndTheRerunCompletesTheCache(@TempDir Path dir) throws IOException {
        Path devFull = Path.of("/dev/full");
        assertTrue(Files.isWritable(devFull), "this test needs Linux's /dev/full");
        Path cache = dir.resolve("cache");
        Files.createDirectories(cache);
        // Every write to manifest.json.tmp now fails with the kernel's ENOSPC, as on a full disk.
        Files.createSymbolicLink(cache.resolve("manifest.json.tmp"), devFull);
        Path job = dir.resolve("sample.yaml");
        Files.writeString(job, "cache: " + cache + "\nk: 2\nseed: 0\nbatchSize: 64\nrowsPerShard: 50\n"
                + "data:\n  dataset: iris\n  dir: " + TrainJobTest.HOME.resolve("datasets/sklearn") + "\n  sample: all\n"
                + "teacher:\n  type: mc-dropout\n  model: {hidden: [8], dropout: 0.2}\n"
                + "  train: {epochs: 1, batchSize: 32, learningRate: 0.01, seed: 0}\n");
        Object[] r = run("sample", job.toString());
        assertEquals(4, r[0], (String) r[1]);
        String line = oneLine(r);
        assertTrue(line.matches("distill4j: out of space: " + java.util.regex.Pattern.quote(cache.toAbsolutePath().toString())
                + ": no space left on device while writing manifest\\.json \\([0-9,]+ bytes needed, [0-9,]+ bytes free\\); "
                + "what was committed is kept: free space and run the same command again to resume"), line);
        try (var files = Files.list(cache)) {
            assertEquals(List.of(), files.toList(), "nothing half-written: not even the temporary link");
        }
        assertTrue(Files.isRegularFile(dir.resolve("cache-teacher/teacher-0000.params")), "the trained teacher is kept");
        Object[] again = run("sample", job.toString());
        assertEquals(0, again[0], (String) again[1]);
        assertEquals(150, TeacherCache.open(cache).manifest().items());
        TeacherCache.open(cache).verify();
        // the run that completed the cache is recorded beside it, with its provenance; the failed one is not
        List<String> runs = Files.readAllLines(cache.resolve(io.distill4j.pipeline.SampleJob.RUNS_FILE));
        assertEquals(1, runs.size(), runs.toString());
        var rec = new com.fasterxml.jackson.databind.ObjectMapper().readTree(runs.get(0));
        assertEquals("distill4j sample " + job, rec.get("command").asText());
        assertEquals(2, rec.get("config").get("k").asInt());
        assertEquals("mc-dropout", rec.get("config").get("teacher").get("type").asText());
        assertEquals(0, rec.get("seeds").get("seed").asLong());
        assertEquals(TeacherCache.open(cache).manifest().datasetFingerprint(), rec.get("data").get("fingerprint").asText());
        assertEquals(150, rec.get("items").asLong());
        assertTrue(rec.get("device").asText().startsWith("cpu"), rec.toString());
        assertTrue(rec.has("gitCommit") && rec.has("distill4j") && rec.has("engine") && rec.has("started")
                && rec.has("finished"), rec.toString());
    }

    @Test
    void helpListsTheCommands() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.run("--help"));
        } finally {
            System.setOut(old);
        }
        assertTrue(buf.toString(StandardCharsets.UTF_8).contains("demo"));
    }
}

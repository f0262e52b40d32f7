package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM writing a cache is killed with SIGKILL at random moments, many times; each time the cache
 * must open and verify, the committed item count must never fall, and resuming must write exactly the
 * missing items, so the final content equals an uninterrupted run's.
 */
class CrashResumeTest {

    private static Process start(String mode, Path dir, long n) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), CrashWriterMain.class.getName(), mode, dir.toString(),
                Long.toString(n))
                .redirectErrorStream(true).start();
    }

    /** Waits for the child's "ready" line (printed once its writer is open); null if it ended first. */
    private static String awaitReady(Process p) throws IOException {
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith("ready")) {
                return line;
            }
        }
        return null;
    }

    /** Runs the child to completion; returns the milliseconds it spent writing after opening. */
    private static long runToEnd(String mode, Path dir, long n) throws Exception {
        Process p = start(mode, dir, n);
        String ready = awaitReady(p);
        long t0 = System.nanoTime();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child did not finish");
        assertEquals(0, p.exitValue(), "child failed; ready line " + ready);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static void killRepeatedly(String mode, Path dir, long n, long fullMillis, int kills, long seed)
            throws Exception {
        Random rnd = new Random(seed);
        long committed = 0;
        int interrupted = 0;
        for (int i = 0; i < kills; i++) {
            Process p = start(mode, dir, n);
            assertTrue(awaitReady(p) != null, "child ended before opening the cache");
            // Kill somewhere in the next stretch of writing: 0 to 1/8 of an uninterrupted run's writing time.
            long delay = (long) (rnd.nextDouble() * fullMillis / 8);
            if (p.waitFor(delay, TimeUnit.MILLISECONDS)) {
                assertEquals(0, p.exitValue());
            } else {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                interrupted++;
            }
            if (!Files.exists(dir.resolve(CacheManifest.FILE_NAME))) {
                continue; // killed before the cache was created
            }
            TeacherCache c = TeacherCache.open(dir);
            CacheVerification v = c.verifyReport();
            assertTrue(v.ok(), "after kill " + i + ": " + v.faults());
            assertTrue(c.manifest().items() >= committed, "committed items fell after kill " + i);
            committed = c.manifest().items();
        }
        assertTrue(interrupted >= kills / 2, "only " + interrupted + " of " + kills + " runs were interrupted");
        runToEnd(mode, dir, n);
    }

    @Test
    void denseCacheSurvivesRandomSigkills(@TempDir Path tmp) throws Exception {
        long n = 3000;
        Path ref = tmp.resolve("ref");
        long full = runToEnd("dense", ref, n);
        Path dir = tmp.resolve("killed");
        killRepeatedly("dense", dir, n, full, 25, 42);
        float[][][] want = TeacherCache.open(ref).readAll();
        float[][][] got = TeacherCache.open(dir).readAll();
        assertEquals(n, got.length);
        for (int i = 0; i < n; i++) {
            float[][] expect = CrashWriterMain.dense(i);
            for (int j = 0; j < CrashWriterMain.K; j++) {
                assertArrayEquals(expect[j], got[i][j], "item " + i);
                assertArrayEquals(want[i][j], got[i][j], "item " + i);
            }
        }
        List<String> leftovers = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".tmp")).forEach(leftovers::add);
        }
        assertEquals(List.of(), leftovers);
    }

    @Test
    void sequenceCacheSurvivesRandomSigkills(@TempDir Path tmp) throws Exception {
        long n = 600;
        Path ref = tmp.resolve("ref");
        long full = runToEnd("sequence", ref, n);
        Path dir = tmp.resolve("killed");
        killRepeatedly("sequence", dir, n, full, 6, 7);
        try (SequenceCacheReader a = TeacherCache.open(ref).sequence();
                SequenceCacheReader b = TeacherCache.open(dir).sequence()) {
            assertEquals(n, b.items());
            for (long i = 0; i < n; i++) {
                SequenceItem x = a.read(i);
                SequenceItem y = b.read(i);
                assertArrayEquals(CrashWriterMain.prompt(i), y.prompt());
                for (int j = 0; j < CrashWriterMain.K; j++) {
                    assertArrayEquals(x.samples().get(j).tokens(), y.samples().get(j).tokens());
                    assertArrayEquals(x.samples().get(j).topIds(), y.samples().get(j).topIds());
                    assertArrayEquals(x.samples().get(j).topLogprobs(), y.samples().get(j).topLogprobs());
                    assertArrayEquals(CrashWriterMain.sequence(i).get(j).tokens(), y.samples().get(j).tokens());
                }
            }
        }
    }
}

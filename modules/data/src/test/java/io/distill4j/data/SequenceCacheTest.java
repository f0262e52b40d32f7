package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequenceCacheTest {

    static final CacheWriteOptions NO_SYNC = CacheWriteOptions.DEFAULT.withFsync(false);

    /** A response whose top-K log-probabilities are given unsorted, from a random distribution. */
    static SequenceSample randomSample(Random r, int len, int vocab, int topK) {
        int[] tokens = new int[len];
        int[] ids = new int[len * topK];
        float[] lp = new float[len * topK];
        for (int t = 0; t < len; t++) {
            java.util.Set<Integer> used = new java.util.HashSet<>();
            double[] w = new double[topK + 1];
            double sum = 0;
            for (int q = 0; q <= topK; q++) {
                w[q] = Math.exp(3 * r.nextGaussian());
                sum += w[q];
            }
            for (int q = 0; q < topK; q++) {
                int id;
                do {
                    id = r.nextInt(vocab);
                } while (!used.add(id));
                ids[t * topK + q] = id;
                lp[t * topK + q] = (float) Math.log(w[q] / sum);
            }
            tokens[t] = ids[t * topK + r.nextInt(topK)];
        }
        return new SequenceSample(tokens, ids, lp, null);
    }

    @Test
    void roundTripSortsByLogprobAndStaysWithinTheQuantisationBound(@TempDir Path dir) throws IOException {
        Random r = new Random(3);
        int k = 2;
        int vocab = 70000; // > 65536: int32 ids
        int topK = 8;
        List<int[]> prompts = new ArrayList<>();
        List<List<SequenceSample>> items = new ArrayList<>();
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, k, vocab, topK, Map.of("name", "lm"), "fp", 3,
                NO_SYNC)) {
            for (int i = 0; i < 7; i++) {
                int[] prompt = {r.nextInt(vocab), r.nextInt(vocab)};
                List<SequenceSample> s = List.of(randomSample(r, 1 + r.nextInt(5), vocab, topK),
                        randomSample(r, r.nextInt(3), vocab, topK));
                prompts.add(prompt);
                items.add(s);
                w.append(prompt, s);
            }
        }
        TeacherCache cache = TeacherCache.open(dir);
        assertEquals("int32", cache.manifest().sequence().idType());
        assertEquals(3, cache.manifest().shards().size());
        assertTrue(cache.verifyReport().ok());
        try (SequenceCacheReader rd = cache.sequence()) {
            for (int i = 0; i < 7; i++) {
                SequenceItem got = rd.read(i);
                assertArrayEquals(prompts.get(i), got.prompt());
                for (int j = 0; j < k; j++) {
                    SequenceSample want = items.get(i).get(j);
                    SequenceSample back = got.samples().get(j);
                    assertArrayEquals(want.tokens(), back.tokens());
                    for (int t = 0; t < want.length(); t++) {
                        // Independent reference: sort this position's (lp, id) pairs in descending lp order.
                        double mass = 0;
                        List<double[]> pairs = new ArrayList<>();
                        for (int q = 0; q < topK; q++) {
                            double v = want.topLogprobs()[t * topK + q];
                            pairs.add(new double[] {v, want.topIds()[t * topK + q]});
                            mass += Math.exp(v);
                        }
                        pairs.sort((a, b) -> Double.compare(b[0], a[0]));
                        double top = pairs.get(0)[0];
                        double spread = top - pairs.get(topK - 1)[0];
                        assertEquals(top, back.topLogprobs()[t * topK], 0.0, "rank 0 is stored exactly");
                        for (int q = 0; q < topK; q++) {
                            assertEquals((int) pairs.get(q)[1], back.topIds()[t * topK + q]);
                            double d = top - pairs.get(q)[0];
                            double bound = Math.sqrt(spread * d) / 255 + spread / 260100 + 1e-5;
                            assertEquals(pairs.get(q)[0], back.topLogprobs()[t * topK + q], bound);
                        }
                        assertEquals(Math.log(1 - mass), back.tailLogMass()[t], 1e-5);
                    }
                }
            }
        }
    }

    @Test
    void badTokenDataIsNamedAndNothingIsBuffered(@TempDir Path dir) throws IOException {
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, 1, 100, 2, Map.of(), "fp", 4, NO_SYNC)) {
            SequenceSample ok = new SequenceSample(new int[] {5}, new int[] {5, 6}, new float[] {-0.5f, -1.5f}, null);
            IllegalArgumentException vocab = assertThrows(IllegalArgumentException.class, () -> w.append(new int[] {100}, List.of(ok)));
            assertTrue(vocab.getMessage().contains("item 0: field prompt[0]: token id 100 outside the vocabulary [0, 100)"),
                    vocab.getMessage());
            IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> w.append(new int[] {1},
                    List.of(new SequenceSample(new int[] {5}, new int[] {5, 5}, new float[] {-0.5f, -1.5f}, null))));
            assertTrue(dup.getMessage().contains("item 0, sample 0: position 0: field topk_ids[1]: id 5 appears twice"),
                    dup.getMessage());
            IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> w.append(new int[] {1},
                    List.of(new SequenceSample(new int[] {5}, new int[] {5, 6}, new float[] {Float.NaN, -1.5f}, null))));
            assertTrue(nan.getMessage().contains("field topk_logprobs[0]: NaN"), nan.getMessage());
            IllegalArgumentException over = assertThrows(IllegalArgumentException.class, () -> w.append(new int[] {1},
                    List.of(new SequenceSample(new int[] {5}, new int[] {5, 6}, new float[] {-0.1f, -0.2f}, null))));
            assertTrue(over.getMessage().contains("top-K mass 1.72"), over.getMessage());
            IllegalArgumentException tail = assertThrows(IllegalArgumentException.class, () -> w.append(new int[] {1},
                    List.of(new SequenceSample(new int[] {5}, new int[] {5, 6}, new float[] {-0.5f, -1.5f},
                            new float[] {-0.1f}))));
            assertTrue(tail.getMessage().contains("field tail_logmass: -0.1"), tail.getMessage());
            w.append(new int[] {1}, List.of(ok));
        }
        try (SequenceCacheReader rd = TeacherCache.open(dir).sequence()) {
            assertEquals(1, rd.items());
            assertArrayEquals(new int[] {5, 6}, rd.read(0).samples().get(0).topIds());
        }
    }

    /** Collects what is logged (Arrow's allocator logs "Memory was leaked" at ERROR) while {@code body} runs. */
    static List<String> logged(Runnable body) {
        org.apache.logging.log4j.core.LoggerContext ctx =
                (org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        var appender = new org.apache.logging.log4j.core.appender.AbstractAppender("capture-" + System.nanoTime(), null,
                null, true, org.apache.logging.log4j.core.config.Property.EMPTY_ARRAY) {
            @Override
            public void append(org.apache.logging.log4j.core.LogEvent e) {
                lines.add(e.getLoggerName() + ": " + e.getMessage().getFormattedMessage());
            }
        };
        appender.start();
        var root = ctx.getConfiguration().getRootLogger();
        root.addAppender(appender, org.apache.logging.log4j.Level.ALL, null);
        ctx.updateLoggers();
        try {
            body.run();
        } finally {
            root.removeAppender(appender.getName());
            ctx.updateLoggers();
            appender.stop();
        }
        return lines;
    }

    /** Six items in three ZSTD shards of two (k = 2: four rows each). */
    private static void threeShards(Path dir) throws IOException {
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, 2, 50, 3, Map.of(), "fp", 2, NO_SYNC)) {
            Random r = new Random(5);
            for (int i = 0; i < 6; i++) {
                w.append(new int[] {i, i + 1}, List.of(randomSample(r, 4, 50, 3), randomSample(r, 3, 50, 3)));
            }
        }
    }

    /** Overwrites byte {@code back} places before the last ZSTD frame (magic 28 B5 2F FD) of a file. */
    private static void setBeforeLastFrame(Path file, int back, int value) throws IOException {
        byte[] b = java.nio.file.Files.readAllBytes(file);
        int at = -1;
        for (int i = 0; i + 4 <= b.length; i++) {
            if ((b[i] & 0xFF) == 0x28 && (b[i + 1] & 0xFF) == 0xB5 && (b[i + 2] & 0xFF) == 0x2F && (b[i + 3] & 0xFF) == 0xFD) {
                at = i;
            }
        }
        assertTrue(at >= 8, "no ZSTD frame in " + file);
        b[at - back] = (byte) value;
        java.nio.file.Files.write(file, b);
    }

    @Test
    void aDamagedZstdLengthIsNamedByShardColumnAndRowsWithoutAllocatorNoiseOrHugeAllocations(@TempDir Path dir)
            throws IOException {
        threeShards(dir);
        Path shard = dir.resolve("part-00001.arrow");
        // The 8 bytes before a frame are its buffer's uncompressed length, little-endian. A high byte of 0x80 makes
        // it negative ("the requested size must be non-negative" from Arrow); 0x7F asks for about 2^62 bytes,
        // which without a limit had the JVM take the machine's memory until the kernel killed it.
        for (int high : new int[] {0x80, 0x7F}) {
            setBeforeLastFrame(shard, 1, high);
            CacheVerification[] v = {null};
            List<String> log = logged(() -> v[0] = TeacherCache.open(dir).verifyReport());
            assertEquals(List.of(), log, "nothing logged, in particular no 'Memory was leaked'");
            assertEquals(1, v[0].faults().size(), v[0].faults().toString());
            String fault = v[0].faults().get(0).toString();
            assertTrue(fault.matches(java.util.regex.Pattern.quote(shard.toString()) + ": SHA-256 [0-9a-f]{64} differs "
                    + "from the manifest's [0-9a-f]{64}; corrupt or truncated shard: column [a-z_0-9.]+: its "
                    + "(validity|offset|data) buffer declares -?[0-9]+ bytes when decompressed: its length prefix is "
                    + "damaged; rows 0-3 \\(items 2-3\\) cannot be read"), fault);
            assertTrue(fault.contains(high == 0x80 ? "declares -" : "declares 9"), fault);
            BadInputException e = assertThrows(BadInputException.class, () -> {
                try (SequenceCacheReader r = TeacherCache.open(dir).sequence()) {
                    r.read(0); // shard 0 is sound
                    r.read(2);
                }
            });
            assertEquals(fault.substring(fault.indexOf("corrupt or truncated shard")),
                    e.getMessage().substring(e.getMessage().indexOf("corrupt or truncated shard")));
        }
    }

    @Test
    void aDamagedZstdFrameIsNamedByShardColumnAndRows(@TempDir Path dir) throws IOException {
        threeShards(dir);
        Path shard = dir.resolve("part-00002.arrow");
        setBeforeLastFrame(shard, -4, 0xFF); // the frame header descriptor byte after the magic number
        CacheVerification[] v = {null};
        List<String> log = logged(() -> v[0] = TeacherCache.open(dir).verifyReport());
        assertEquals(List.of(), log);
        assertEquals(1, v[0].faults().size(), v[0].faults().toString());
        String fault = v[0].faults().get(0).toString();
        assertTrue(fault.matches(".*part-00002\\.arrow: SHA-256 .*; corrupt or truncated shard: column [a-z_0-9.]+: its "
                + "(validity|offset|data) buffer cannot be decompressed \\(ZSTD: [^)]+\\); rows 0-3 \\(items 4-5\\) "
                + "cannot be read"), fault);
        assertTrue(!fault.contains("null"), fault);
    }

    @Test
    void corruptedSequenceRowIsNamed(@TempDir Path dir) throws IOException {
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, 2, 50, 3, Map.of(), "fp", 10, NO_SYNC)) {
            Random r = new Random(1);
            for (int i = 0; i < 4; i++) {
                w.append(new int[] {i}, List.of(randomSample(r, 3, 50, 3), randomSample(r, 2, 50, 3)));
            }
        }
        Path shard = dir.resolve("part-00000.arrow");
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        CacheVerification v = TeacherCache.open(dir).verifyReport();
        assertEquals(1, v.faults().size());
        assertTrue(v.faults().get(0).toString().contains("part-00000.arrow: size"), v.faults().toString());
        BadInputException e = assertThrows(BadInputException.class, () -> TeacherCache.open(dir).sequence().read(0));
        assertTrue(e.getMessage().contains("part-00000.arrow: corrupt or truncated shard"), e.getMessage());
    }
}

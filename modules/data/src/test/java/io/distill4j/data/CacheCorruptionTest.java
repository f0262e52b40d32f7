package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input, damaged files and a full disk: each fault is named by file, item or row, and field; nothing is
 * half-written.
 *
 * <p>The full-disk cases write through a symbolic link to Linux's {@code /dev/full}, where every write fails
 * with the kernel's own ENOSPC ("No space left on device"), placed where the writer's next temporary file
 * goes; no root and no small file system are needed.
 */
class CacheCorruptionTest {

    private static TeacherCacheWriter probs(Path dir, int k, int c) throws IOException {
        return TeacherCacheWriter.openOrCreate(dir, "classification", k, c, "probabilities", Map.of("name", "t"), "fp",
                4, CacheWriteOptions.DEFAULT.withFsync(false));
    }

    @Test
    void negativeNanAndOffSimplexProbabilitiesAreRejectedAndNothingIsWritten(@TempDir Path dir) throws IOException {
        try (TeacherCacheWriter w = probs(dir, 2, 3)) {
            w.append(new float[][] {{0.2f, 0.3f, 0.5f}, {1f, 0f, 0f}});
            IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
                    () -> w.append(new float[][] {{0.2f, 0.3f, 0.5f}, {1.1f, -0.1f, 0f}}));
            assertTrue(neg.getMessage().contains("item 1: field samples[1][1]: probability -0.1 is negative"), neg.getMessage());
            IllegalArgumentException off = assertThrows(IllegalArgumentException.class,
                    () -> w.append(new float[][] {{0.2f, 0.3f, 0.6f}, {1f, 0f, 0f}}));
            assertTrue(off.getMessage().contains("item 1: field samples[0]: probabilities sum to 1.10000, off the simplex"),
                    off.getMessage());
            IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                    () -> w.append(new float[][] {{Float.NaN, 0.3f, 0.7f}, {1f, 0f, 0f}}));
            assertTrue(nan.getMessage().contains(dir + ": item 1: field samples[0][0]: value NaN"), nan.getMessage());
            // within the tolerance of 1e-3: accepted
            w.append(new float[][] {{0.2f, 0.3f, 0.5005f}, {1f, 0f, 0f}});
            assertEquals(2, w.nextItem());
        }
        float[][][] back = TeacherCache.open(dir).readAll();
        assertEquals(2, back.length);
        assertEquals(0.5005f, back[1][0][2]);
    }

    @Test
    void shapeMismatchOnResumeIsNamed(@TempDir Path dir) throws IOException {
        try (TeacherCacheWriter w = probs(dir, 2, 3)) {
            w.append(new float[][] {{0.2f, 0.3f, 0.5f}, {1f, 0f, 0f}});
        }
        BadInputException e = assertThrows(BadInputException.class, () -> probs(dir, 3, 3));
        assertTrue(e.getMessage().contains("manifest.json: field k: cache has 2, this run wants 3"), e.getMessage());
        try (TeacherCacheWriter w = probs(dir, 2, 3)) {
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> w.append(new float[][] {{0.5f, 0.5f}, {1f, 0f, 0f}}));
            assertTrue(shape.getMessage().contains("item 1: sample 0 has width 2, expected 3"), shape.getMessage());
        }
    }

    @Test
    void shardOfAnotherShapeIsNamed(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        for (Path p : List.of(a, b)) {
            try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(p, "classification", p == a ? 2 : 1, 3, "logits",
                    Map.of(), "fp", 4, CacheWriteOptions.DEFAULT.withFsync(false))) {
                w.append(p == a ? new float[][] {{1, 2, 3}, {4, 5, 6}} : new float[][] {{1, 2, 3}});
            }
        }
        // Put b's shard (k = 1) into a (k = 2), fixing size and hash in the manifest so only the schema differs.
        Files.copy(b.resolve("part-00000.arrow"), a.resolve("part-00000.arrow"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        BadInputException e = assertThrows(BadInputException.class, () -> TeacherCache.open(a).readAll());
        assertTrue(e.getMessage().contains("part-00000.arrow: schema") && e.getMessage().contains("k=2, width=3"),
                e.getMessage());
    }

    @Test
    void flippedValueIsNamedByShardRowAndField(@TempDir Path dir) throws IOException {
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir, "regression", 2, 4, "values", Map.of(), "fp", 8,
                CacheWriteOptions.DEFAULT.withFsync(false))) {
            for (int i = 0; i < 12; i++) {
                w.append(new float[][] {{i, i + 1, i + 2, i + 3}, {-i, 0, 1, 2}});
            }
        }
        // Find item 5's first value (5.0f, then 6, 7, 8) in shard 0 and change it.
        Path shard = dir.resolve("part-00000.arrow");
        byte[] bytes = Files.readAllBytes(shard);
        ByteBuffer pattern = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(5).putFloat(6).putFloat(7)
                .putFloat(8);
        int at = indexOf(bytes, pattern.array());
        assertTrue(at > 0);
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.seek(at + 4);
            f.write(new byte[] {0, 0, (byte) 0xE0, 0x40}); // 7.0f in place of 6.0f
        }
        CacheVerification v = TeacherCache.open(dir).verifyReport();
        assertEquals(2, v.faults().size(), v.faults().toString());
        assertTrue(v.faults().get(0).message().startsWith("SHA-256"), v.faults().toString());
        CacheFault row = v.faults().get(1);
        assertEquals(5, row.row());
        assertTrue(row.toString().contains("part-00000.arrow: row 5: item 5: field samples: CRC-32"), row.toString());
        BadInputException read = assertThrows(BadInputException.class, () -> TeacherCache.open(dir).readAll());
        assertTrue(read.getMessage().contains("part-00000.arrow: row 5 (item 5): field samples"), read.getMessage());
    }

    @Test
    void truncatedShardIsNamed(@TempDir Path dir) throws IOException {
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir, "regression", 1, 2, "values", Map.of(), "fp", 3,
                CacheWriteOptions.DEFAULT.withFsync(false))) {
            for (int i = 0; i < 5; i++) {
                w.append(new float[][] {{i, i}});
            }
        }
        Path shard = dir.resolve("part-00001.arrow");
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(f.length() - 40);
        }
        CacheVerification v = TeacherCache.open(dir).verifyReport();
        assertEquals(1, v.faults().size(), v.faults().toString());
        assertTrue(v.faults().get(0).toString().contains("part-00001.arrow: size"), v.faults().toString());
        BadInputException e = assertThrows(BadInputException.class, () -> TeacherCache.open(dir).readAll());
        assertTrue(e.getMessage().contains("part-00001.arrow: corrupt or truncated shard"), e.getMessage());
    }

    @Test
    void malformedManifestIsNamed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("manifest.json"), "{\"formatVersion\": 1, \"task\": \"classification\"");
        BadInputException e = assertThrows(BadInputException.class, () -> TeacherCache.open(dir));
        assertTrue(e.getMessage().contains("manifest.json: malformed manifest"), e.getMessage());
    }

    /** Writes 12 regression items in 4 shards of 3 and returns the manifest as an editable tree. */
    private static com.fasterxml.jackson.databind.node.ObjectNode fourShards(Path dir) throws IOException {
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir, "regression", 1, 1, "values", Map.of(), "fp", 3,
                CacheWriteOptions.DEFAULT.withFsync(false))) {
            for (int i = 0; i < 12; i++) {
                w.append(new float[][] {{i}});
            }
        }
        return (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(dir.resolve("manifest.json").toFile());
    }

    /** Writes an edited manifest and checks that opening the cache names the fault in exactly these words. */
    private static void assertManifestFault(Path dir, com.fasterxml.jackson.databind.JsonNode m, String fault)
            throws IOException {
        Files.writeString(dir.resolve("manifest.json"), m.toPrettyString());
        BadInputException e = assertThrows(BadInputException.class, () -> TeacherCache.open(dir));
        assertEquals(dir.resolve("manifest.json") + ": " + fault, e.getMessage());
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode shard(com.fasterxml.jackson.databind.JsonNode m, int i) {
        return (com.fasterxml.jackson.databind.node.ObjectNode) m.get("shards").get(i);
    }

    @Test
    void aWrongRowsCountNamesItsOwnShardNotTheNext(@TempDir Path dir) throws IOException {
        var m = fourShards(dir);
        shard(m, 1).put("rows", 5);
        assertManifestFault(dir, m, "shard part-00001.arrow: field rows: 5 rows from item 3 end at item 8, but the next "
                + "shard part-00002.arrow starts at item 6 (expected 3 rows)");
    }

    @Test
    void aWrongFirstItemNamesItsShard(@TempDir Path dir) throws IOException {
        var m = fourShards(dir);
        shard(m, 2).put("firstItem", 7);
        assertManifestFault(dir, m, "shard part-00002.arrow: field firstItem: expected 6 (where part-00001.arrow ends), "
                + "got 7");
        shard(m, 2).put("firstItem", 6);
        shard(m, 0).put("firstItem", 1);
        assertManifestFault(dir, m, "shard part-00000.arrow: field firstItem: expected 0, got 1");
    }

    @Test
    void aLastShardThatDisagreesWithItemsNamesBoth(@TempDir Path dir) throws IOException {
        var m = fourShards(dir);
        shard(m, 3).put("rows", 2);
        assertManifestFault(dir, m, "shard part-00003.arrow: field rows: 2 rows from item 9 end at item 11, but field "
                + "items says the cache holds 12 (one of the two is wrong)");
        m.put("items", 4);
        m.putArray("shards");
        assertManifestFault(dir, m, "field items: 4 but no shard is listed");
    }

    private static final Path DEV_FULL = Path.of("/dev/full");

    private static TeacherCacheWriter values(Path dir) throws IOException {
        return TeacherCacheWriter.openOrCreate(dir, "regression", 2, 3, "values", Map.of("name", "t"), "fp", 4,
                CacheWriteOptions.DEFAULT.withFsync(false));
    }

    private static void appendItems(TeacherCacheWriter w, int from, int to) throws IOException {
        for (int i = from; i < to; i++) {
            w.append(new float[][] {{i, i + 0.5f, -i}, {2 * i, 1, 0}});
        }
    }

    /** The files of a folder by name, with their bytes. */
    private static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> out = new java.util.TreeMap<>();
        try (var s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                out.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private static void assertSameFiles(Map<String, byte[]> want, Map<String, byte[]> have) {
        assertEquals(want.keySet(), have.keySet());
        for (String f : want.keySet()) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(want.get(f), have.get(f), f);
        }
    }

    /** An uninterrupted cache of 14 items in shards of 4 (4, 4, 4, 2), to compare resumed caches with. */
    private static Map<String, byte[]> reference(Path dir) throws IOException {
        try (TeacherCacheWriter w = values(dir)) {
            appendItems(w, 0, 14);
        }
        return files(dir);
    }

    /**
     * Commits items 0-7 (two shards), reopens the cache, links {@code link} to /dev/full and appends items 8-11;
     * returns the error, after checking that the writer refuses more and that the committed files are as they
     * were: no temporary file, no half shard.
     */
    private static OutOfSpaceException fullDiskAfterEightItems(Path dir, String link) throws IOException {
        assertTrue(Files.isWritable(DEV_FULL), "this test needs Linux's /dev/full");
        try (TeacherCacheWriter w = values(dir)) {
            appendItems(w, 0, 8);
        }
        Map<String, byte[]> committed = files(dir);
        assertEquals(java.util.Set.of("manifest.json", "part-00000.arrow", "part-00001.arrow"), committed.keySet());
        OutOfSpaceException e;
        try (TeacherCacheWriter w = values(dir)) {
            Files.createSymbolicLink(dir.resolve(link), DEV_FULL);
            appendItems(w, 8, 12); // the fourth item fills the shard; the committer thread hits the full disk
            e = assertThrows(OutOfSpaceException.class, w::flush);
            IOException again = assertThrows(IOException.class, () -> w.append(new float[][] {{1, 2, 3}, {4, 5, 6}}));
            assertTrue(again.getMessage().endsWith("an earlier commit failed; reopen the cache to resume"), again.getMessage());
        }
        assertSameFiles(committed, files(dir));
        return e;
    }

    @Test
    void aFullDiskWhileWritingAShardNamesFolderAndBytesKeepsTheCommittedShardsAndResumesExactly(@TempDir Path tmp)
            throws IOException {
        Map<String, byte[]> ref = reference(tmp.resolve("ref"));
        Path dir = tmp.resolve("cache");
        OutOfSpaceException e = fullDiskAfterEightItems(dir, "part-00002.arrow.tmp");
        assertEquals(String.format(java.util.Locale.ROOT, "%s: no space left on device while writing part-00002.arrow"
                + " (%,d bytes needed, %,d bytes free)", dir.toAbsolutePath(), ref.get("part-00002.arrow").length,
                e.bytesFree()), e.getMessage());
        assertEquals(dir.toAbsolutePath(), e.folder());
        assertTrue(e.getCause().getMessage().contains("No space left on device"), e.getCause().getMessage());
        try (TeacherCacheWriter w = values(dir)) {
            assertEquals(8, w.nextItem());
            appendItems(w, 8, 14);
        }
        assertSameFiles(ref, files(dir));
        TeacherCache.open(dir).verify();
    }

    @Test
    void aFullDiskWhileReplacingTheManifestRemovesTheNewShardAndResumesExactly(@TempDir Path tmp) throws IOException {
        Map<String, byte[]> ref = reference(tmp.resolve("ref"));
        Path dir = tmp.resolve("cache");
        OutOfSpaceException e = fullDiskAfterEightItems(dir, "manifest.json.tmp"); // part-00002.arrow was renamed first
        assertTrue(e.getMessage().startsWith(dir.toAbsolutePath() + ": no space left on device while writing "
                + "manifest.json ("), e.getMessage());
        try (TeacherCacheWriter w = values(dir)) {
            appendItems(w, 8, 12);
        }
        assertEquals(e.bytesNeeded(), Files.size(dir.resolve("manifest.json")), "the bytes needed were the new manifest's");
        try (TeacherCacheWriter w = values(dir)) {
            appendItems(w, 12, 14);
        }
        assertSameFiles(ref, files(dir));
    }

    @Test
    void aFullSequenceCacheKeepsItsCommittedShardsAndCloseDoesNotRetry(@TempDir Path dir) throws IOException {
        assertTrue(Files.isWritable(DEV_FULL), "this test needs Linux's /dev/full");
        java.util.Random r = new java.util.Random(3);
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, 2, 50, 3, Map.of(), "fp", 2,
                SequenceCacheTest.NO_SYNC)) {
            for (int i = 0; i < 2; i++) {
                w.append(new int[] {i}, List.of(SequenceCacheTest.randomSample(r, 3, 50, 3),
                        SequenceCacheTest.randomSample(r, 2, 50, 3)));
            }
        }
        Map<String, byte[]> committed = files(dir);
        SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, 2, 50, 3, Map.of(), "fp", 2, SequenceCacheTest.NO_SYNC);
        Files.createSymbolicLink(dir.resolve("part-00001.arrow.tmp"), DEV_FULL);
        w.append(new int[] {2}, List.of(SequenceCacheTest.randomSample(r, 3, 50, 3), SequenceCacheTest.randomSample(r, 2, 50, 3)));
        OutOfSpaceException e = assertThrows(OutOfSpaceException.class, () -> w.append(new int[] {3},
                List.of(SequenceCacheTest.randomSample(r, 3, 50, 3), SequenceCacheTest.randomSample(r, 2, 50, 3))));
        assertTrue(e.getMessage().startsWith(dir.toAbsolutePath() + ": no space left on device while writing "
                + "part-00001.arrow ("), e.getMessage());
        assertTrue(e.bytesNeeded() > 0, e.getMessage());
        w.close(); // does not try the failed shard again
        assertSameFiles(committed, files(dir));
        assertEquals(2, TeacherCache.open(dir).manifest().items());
    }

    @Test
    void aWriteThatFillsTheDiskPartWayLeavesTheOldFileAndMeasuresTheNewOne(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("data.bin");
        Files.writeString(target, "old content");
        int[] calls = {0};
        OutOfSpaceException e = assertThrows(OutOfSpaceException.class, () -> AtomicFiles.write(target, true, ch -> {
            ch.write(ByteBuffer.wrap(new byte[3000]));
            if (calls[0]++ == 0) { // as the kernel does after the last free block: the next write fails
                throw new IOException("No space left on device");
            }
            ch.write(ByteBuffer.wrap(new byte[2000]));
        }));
        assertEquals(5000, e.bytesNeeded(), "measured by writing the content again to a counter");
        assertTrue(e.getMessage().startsWith(dir.toAbsolutePath() + ": no space left on device while writing data.bin "
                + "(5,000 bytes needed, "), e.getMessage());
        assertEquals("old content", Files.readString(target));
        assertEquals(List.of(target), Files.list(dir).toList(), "no temporary file is left");
        IOException other = assertThrows(IOException.class, () -> AtomicFiles.write(target, false, ch -> {
            throw new IOException("Input/output error");
        }));
        assertEquals(IOException.class, other.getClass(), "other I/O errors are not taken for a full disk");
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}

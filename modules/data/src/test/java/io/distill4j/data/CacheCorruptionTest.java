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

/** Bad input and damaged files: each fault is named by file, item or row, and field; nothing is half-written. */
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

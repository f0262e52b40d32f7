package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeacherCacheTest {

    private static float[][][] randomItems(int n, int k, int c, long seed) {
        Random r = new Random(seed);
        float[][][] items = new float[n][k][c];
        for (float[][] item : items) {
            for (float[] s : item) {
                for (int j = 0; j < c; j++) {
                    s[j] = r.nextFloat();
                }
            }
        }
        return items;
    }

    private static TeacherCacheWriter open(Path dir, int k, int c, int rowsPerShard) throws IOException {
        return TeacherCacheWriter.openOrCreate(dir, "classification", k, c, "logits",
                Map.of("name", "test"), "fp", rowsPerShard, CacheWriteOptions.DEFAULT.withFsync(false));
    }

    @Test
    void roundTripAcrossShards(@TempDir Path dir) throws IOException {
        float[][][] items = randomItems(25, 3, 4, 1);
        try (TeacherCacheWriter w = open(dir, 3, 4, 10)) {
            for (float[][] item : items) {
                w.append(item);
            }
        }
        TeacherCache cache = TeacherCache.open(dir);
        assertEquals(25, cache.manifest().items());
        assertEquals(3, cache.manifest().shards().size());
        assertEquals(5, cache.manifest().shards().get(2).rows());
        cache.verify();
        float[][][] back = cache.readAll();
        for (int i = 0; i < items.length; i++) {
            for (int j = 0; j < 3; j++) {
                assertArrayEquals(items[i][j], back[i][j]);
            }
        }
    }

    @Test
    void samplesAppendedInPiecesOfAnySizeMakeWholeItemsAndAnUnfinishedItemIsDropped(@TempDir Path dir) throws IOException {
        float[][][] items = randomItems(13, 3, 4, 2);
        float[] flat = Rows.flatten(items);
        try (TeacherCacheWriter w = open(dir, 3, 4, 5)) {
            int[] pieces = {1, 2, 4, 3, 7, 1, 5, 16};   // 39 samples = 13 items, pieces crossing items and shards
            int at = 0;
            for (int p : pieces) {
                w.appendSamples(flat, at * 4, p);
                at += p;
                assertEquals(at / 3, w.nextItem(), "only whole items count");
            }
            w.appendSamples(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 0, 2);   // 2 of item 13's 3 samples
            assertThrows(IllegalStateException.class, () -> w.append(items[0]), "an item is in progress");
            assertEquals(13, w.nextItem());
        }
        TeacherCache cache = TeacherCache.open(dir);
        assertEquals(13, cache.manifest().items());
        cache.verify();
        float[][][] back = cache.readAll();
        for (int i = 0; i < items.length; i++) {
            for (int j = 0; j < 3; j++) {
                assertArrayEquals(items[i][j], back[i][j], "item " + i + " sample " + j);
            }
        }
        try (TeacherCacheWriter w = open(dir, 3, 4, 5)) {
            float[] bad = new float[12];
            bad[5] = Float.NaN;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.appendSamples(bad, 0, 3));
            assertTrue(e.getMessage().contains("item 13: field samples[1][1]: value NaN is not finite"), e.getMessage());
            w.appendSamples(flat, 0, 3);   // the rejected item was dropped: this one starts afresh
            assertEquals(14, w.nextItem());
        }
        assertArrayEquals(items[0][2], TeacherCache.open(dir).readAll()[13][2]);
    }

    @Test
    void gatherReadsEachItemsOwnDrawsAcrossShardsByPositionalReads(@TempDir Path dir) throws IOException {
        float[][][] items = randomItems(23, 6, 4, 3);
        try (TeacherCacheWriter w = open(dir, 6, 4, 5)) {
            for (float[][] item : items) {
                w.append(item);
            }
        }
        long[] order = {22, 0, 7, 5, 4, 13, 7};
        for (int mode = 0; mode < 4; mode++) {
            DenseCacheReader reader = TeacherCache.open(dir).dense(mode % 2 == 1);
            if (mode >= 2) {
                reader.mappedReadsUpTo = 0;   // positional reads, as for a cache over 256 MiB
            }
            try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
                float[] all = reader.gather(m, order).toFloatArray();
                float[] own = reader.gather(m, order, 2, 3).toFloatArray();
                assertEquals(order.length * 6 * 4, all.length);
                assertEquals(order.length * 3 * 4, own.length);
                for (int i = 0; i < order.length; i++) {
                    for (int j = 0; j < 6; j++) {
                        for (int c = 0; c < 4; c++) {
                            float want = items[(int) order[i]][j][c];
                            assertEquals(want, all[(i * 6 + j) * 4 + c], 0f);
                            if (j >= 2 && j < 5) {
                                assertEquals(want, own[(i * 3 + j - 2) * 4 + c], 0f, "item " + order[i] + " draw " + j);
                            }
                        }
                    }
                }
                assertThrows(IndexOutOfBoundsException.class, () -> reader.gather(m, order, 4, 3));
            }
        }
    }

    @Test
    void reopeningResumesAfterTheLastCommittedItem(@TempDir Path dir) throws IOException {
        float[][][] items = randomItems(12, 2, 3, 2);
        try (TeacherCacheWriter w = open(dir, 2, 3, 5)) {
            for (int i = 0; i < 7; i++) {
                w.append(items[i]);
            }
            // 5 committed as one shard; close() commits the 2 buffered as a second shard.
        }
        try (TeacherCacheWriter w = open(dir, 2, 3, 5)) {
            assertEquals(7, w.nextItem());
            for (int i = 7; i < 12; i++) {
                w.append(items[i]);
            }
        }
        float[][][] back = TeacherCache.open(dir).readAll();
        assertEquals(12, back.length);
        assertArrayEquals(items[11][1], back[11][1]);
        assertThrows(BadInputException.class, () -> TeacherCacheWriter.openOrCreate(dir, "classification", 3, 3,
                "logits", Map.of(), "fp", 5));
    }

    @Test
    void corruptedShardIsNamed(@TempDir Path dir) throws IOException {
        try (TeacherCacheWriter w = open(dir, 2, 2, 4)) {
            for (float[][] item : randomItems(4, 2, 2, 3)) {
                w.append(item);
            }
        }
        Path shard = dir.resolve("part-00000.arrow");
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0xFF);
        }
        BadInputException e = assertThrows(BadInputException.class, () -> TeacherCache.open(dir).verify());
        assertTrue(e.getMessage().contains("part-00000.arrow: SHA-256"), e.getMessage());
        Files.delete(shard);
        BadInputException missing = assertThrows(BadInputException.class, () -> TeacherCache.open(dir).readAll());
        assertTrue(missing.getMessage().contains("part-00000.arrow: shard listed in the manifest is missing"));
    }

    @Test
    void nonFiniteValuesAreRejectedBeforeWriting(@TempDir Path dir) throws IOException {
        try (TeacherCacheWriter w = open(dir, 1, 2, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> w.append(new float[][] {{0.5f, Float.NaN}}));
            assertTrue(e.getMessage().contains("item 0: field samples[0][1]: value NaN is not finite"), e.getMessage());
        }
        assertEquals(0, TeacherCache.open(dir).manifest().items());
    }
}

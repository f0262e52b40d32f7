package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A shards-only writer (one range of a cache written elsewhere) writes the bytes the cache writer writes. */
class TeacherCacheShardsTest {

    /** Item i, sample j, class c: a probability vector that differs per item and sample. */
    static float[] flat(int from, int to, int k, int width) {
        float[] v = new float[(to - from) * k * width];
        for (int i = from; i < to; i++) {
            for (int j = 0; j < k; j++) {
                float sum = 0;
                for (int c = 0; c < width; c++) {
                    sum += 1 + i + j * c;
                }
                for (int c = 0; c < width; c++) {
                    v[((i - from) * k + j) * width + c] = (1 + i + j * c) / sum;
                }
            }
        }
        return v;
    }

    @Test
    void aRangeWrittenAloneEqualsTheSameShardsOfTheWholeCache(@TempDir Path dir) throws IOException {
        int k = 3;
        int width = 4;
        Path whole = dir.resolve("whole");
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(whole, "classification", k, width, "probabilities",
                Map.of("name", "test"), "fp", 4, CacheWriteOptions.DEFAULT.withFsync(false))) {
            w.appendFlat(flat(0, 10, k, width), 0, 10);
        }
        Path part = dir.resolve("part");
        TeacherCacheWriter p = TeacherCacheWriter.openShards(part, "classification", k, width, "probabilities", 4, 1, 4,
                CacheWriteOptions.DEFAULT.withFsync(false));
        try (p) {
            assertEquals(4, p.nextItem());
            p.appendFlat(flat(4, 10, k, width), 0, 6);
        }
        List<CacheManifest.Shard> want = CacheManifest.read(whole).shards().subList(1, 3);
        assertEquals(want, p.manifest().shards(), "names, first items, rows, sizes and SHA-256 of shards 1 and 2");
        for (CacheManifest.Shard s : want) {
            assertEquals(-1, Files.mismatch(whole.resolve(s.file()), part.resolve(s.file())), s.file());
        }
        assertFalse(Files.exists(part.resolve(CacheManifest.FILE_NAME)), "no manifest: the caller commits");
        assertThrows(IllegalArgumentException.class, () -> TeacherCacheWriter.openShards(part, "classification", k, width,
                "probabilities", -1, 0, 4, CacheWriteOptions.DEFAULT));
    }
}

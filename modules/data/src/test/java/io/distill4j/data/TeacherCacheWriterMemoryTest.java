package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a writer's shard buffers cost, counted by its Arrow allocator: one value buffer per slot it fills (a shard of
 * 16 items x k = 1,024 x 15 floats is V = 983,040 bytes; with its validity bits Arrow rounds it up to 2^20 = 1.07 V),
 * and a second slot only when a second shard starts. Allocating the nested vectors one by one cost 3 value buffers
 * per slot and both slots up front: 6.4 V for any writer, which a Spark task writing one shard paid every time.
 */
class TeacherCacheWriterMemoryTest {

    private static final int K = 1024;
    private static final int WIDTH = 15;
    private static final int ROWS = 16;
    private static final long V = 4L * ROWS * K * WIDTH;

    private static long allocatedFor(Path dir, int items) throws IOException {
        try (TeacherCacheWriter w = TeacherCacheWriter.openShards(dir, "classification", K, WIDTH, "probabilities", 0, 0,
                ROWS, CacheWriteOptions.DEFAULT.withFsync(false))) {
            assertEquals(0, w.bufferBytesAllocated(), "nothing is allocated before the first item");
            w.appendFlat(TeacherCacheShardsTest.flat(0, items, K, WIDTH), 0, items);
            w.flush();
            assertEquals(items, w.manifest().items());
            return w.bufferBytesAllocated();
        }
    }

    @Test
    void aWriterOfOneShardAllocatesOneValueBuffer(@TempDir Path dir) throws IOException {
        long bytes = allocatedFor(dir, ROWS);
        assertTrue(bytes >= V && bytes < 1.25 * V, bytes + " bytes for one shard of " + V + " value bytes");
    }

    @Test
    void aSecondSlotIsAllocatedWhenASecondShardStarts(@TempDir Path dir) throws IOException {
        long bytes = allocatedFor(dir, ROWS + 1);
        assertTrue(bytes >= 2 * V && bytes < 2.5 * V, bytes + " bytes for two shards of " + V + " value bytes");
    }
}

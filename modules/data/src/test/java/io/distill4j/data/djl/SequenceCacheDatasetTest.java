package io.distill4j.data.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.Batch;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequenceCacheDatasetTest {

    /** Item i, sample j: a response of j + 2 tokens; token t is 10 * i + t; top-2 ids (token, token + 1). */
    static TeacherCache write(Path dir) throws IOException {
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, 2, 100, 2, Map.of(), "fp", 2,
                CacheWriteOptions.DEFAULT.withFsync(false))) {
            for (int i = 0; i < 5; i++) {
                List<SequenceSample> s = new ArrayList<>();
                for (int j = 0; j < 2; j++) {
                    int len = j + 2;
                    int[] tokens = new int[len];
                    int[] ids = new int[len * 2];
                    float[] lp = new float[len * 2];
                    for (int t = 0; t < len; t++) {
                        tokens[t] = 10 * i + t;
                        ids[2 * t] = tokens[t];
                        ids[2 * t + 1] = tokens[t] + 1;
                        lp[2 * t] = (float) Math.log(0.5);
                        lp[2 * t + 1] = (float) Math.log(0.25);
                    }
                    s.add(new SequenceSample(tokens, ids, lp, null));
                }
                w.append(new int[] {90 + i, 91}, s);
            }
        }
        return TeacherCache.open(dir);
    }

    @Test
    void rowsAlignTeacherDistributionsWithNextTokenSlots(@TempDir Path dir) throws Exception {
        SequenceCacheDataset ds = SequenceCacheDataset.builder().setCache(write(dir)).setMaxLength(4).setSampling(3, false)
                .build();
        assertEquals(10, ds.size());
        try (NDManager m = NDManager.newBaseManager()) {
            var rec = ds.get(m, 3); // item 1, sample 1: prompt (91, 91), response 10, 11, 12 cut at L = 4
            assertArrayEquals(new long[] {91, 91, 10, 11}, rec.getData().get(0).toLongArray());
            assertArrayEquals(new float[] {0, 1, 1, 1}, rec.getLabels().get(3).toFloatArray());
            long[] top = rec.getLabels().get(0).toLongArray();
            assertEquals(10, top[2]); // slot 1 predicts response token 0
            assertEquals(11, top[3]);
            assertEquals(12, top[6]); // slot 3 predicts response token 2
            float[] lp = rec.getLabels().get(1).toFloatArray();
            assertEquals(Math.log(0.5), lp[2], 1e-6);
            assertEquals(Math.log(0.25), lp[3], 1e-6);
            assertEquals(Math.log(0.25), rec.getLabels().get(2).toFloatArray()[1], 1e-5);
            int n = 0;
            for (Batch b : ds.getData(m)) {
                n += b.getSize();
                assertEquals(4, b.getData().get(0).getShape().get(1));
                b.close();
            }
            assertEquals(10, n);
        }
    }

    @Test
    void shardBlockedShuffleIsReproducible(@TempDir Path dir) throws Exception {
        TeacherCache c = write(dir);
        List<List<Long>> orders = new ArrayList<>();
        for (long seed : new long[] {4, 4, 5}) {
            SequenceCacheDataset ds = SequenceCacheDataset.builder().setCache(c).setMaxLength(3).optShuffle(10, seed).build();
            try (NDManager m = NDManager.newBaseManager()) {
                for (Batch b : ds.getData(m)) {
                    List<Long> first = new ArrayList<>();
                    long[] ids = b.getData().get(0).toLongArray();
                    for (int r = 0; r < b.getSize(); r++) {
                        first.add(ids[r * 3] * 10 + ids[r * 3 + 2] % 10); // prompt id and first response token
                    }
                    orders.add(first);
                    b.close();
                }
            }
        }
        assertEquals(orders.get(0), orders.get(1));
        assertNotEquals(orders.get(0), orders.get(2));
    }
}

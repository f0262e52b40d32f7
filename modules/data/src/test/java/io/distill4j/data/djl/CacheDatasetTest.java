package io.distill4j.data.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.Batch;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.TeacherCacheWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheDatasetTest {

    static final int N = 23;
    static final int K = 3;
    static final int C = 4;
    static float[][][] samples;
    static float[][] features;
    static int[] labels;
    @TempDir
    static Path dir;

    @BeforeAll
    static void writeCache() throws IOException {
        Random r = new Random(9);
        samples = new float[N][K][C];
        features = new float[N][2];
        labels = new int[N];
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir, "classification", K, C, "logits",
                Map.of(), "fp", 5, CacheWriteOptions.DEFAULT.withFsync(false))) {
            for (int i = 0; i < N; i++) {
                for (float[] s : samples[i]) {
                    for (int c = 0; c < C; c++) {
                        s[c] = (float) r.nextGaussian();
                    }
                }
                features[i] = new float[] {i, -i};
                labels[i] = i % C;
                w.append(samples[i]);
            }
        }
    }

    private static CacheDataset.Builder base() {
        return CacheDataset.builder().setCache(TeacherCache.open(dir)).optInputs(InputSource.of(features))
                .optClassLabels(labels);
    }

    private static List<Long> order(CacheDataset ds, NDManager m) {
        List<Long> seen = new ArrayList<>();
        for (Batch b : ds.getData(m)) {
            for (float x : b.getData().get(0).get(":, 0").toFloatArray()) {
                seen.add((long) x);
            }
            b.close();
        }
        return seen;
    }

    @Test
    void allSamplesBatchesCarryInputsLabelsAndEverySample() throws Exception {
        CacheDataset ds = base().setSampling(7, false).build();
        assertEquals(1, ds.teacherIndex());
        try (NDManager m = NDManager.newBaseManager()) {
            int item = 0;
            for (Batch b : ds.getData(m)) {
                NDArray s = b.getLabels().get(1);
                int bs = (int) s.getShape().get(0);
                assertEquals(List.of((long) bs, (long) K, (long) C), List.of(s.getShape().get(0), s.getShape().get(1),
                        s.getShape().get(2)));
                float[] flat = s.toFloatArray();
                int[] y = b.getLabels().get(0).toIntArray();
                float[] x = b.getData().get(0).toFloatArray();
                for (int i = 0; i < bs; i++, item++) {
                    assertEquals(labels[item], y[i]);
                    assertEquals(item, x[2 * i]);
                    for (int j = 0; j < K; j++) {
                        for (int c = 0; c < C; c++) {
                            assertEquals(samples[item][j][c], flat[(i * K + j) * C + c]);
                        }
                    }
                }
                b.close();
            }
            assertEquals(N, item);
        }
    }

    @Test
    void meanVarianceMatchesADoubleReference() throws Exception {
        CacheDataset ds = base().optTeacherSignal(TeacherSignal.MEAN_VARIANCE).optDdof(1).optShuffle(6, 3).build();
        try (NDManager m = NDManager.newBaseManager()) {
            for (Batch b : ds.getData(m)) {
                float[] x = b.getData().get(0).toFloatArray();
                float[] mean = b.getLabels().get(1).toFloatArray();
                float[] var = b.getLabels().get(2).toFloatArray();
                for (int i = 0; i < x.length / 2; i++) {
                    int item = (int) x[2 * i];
                    for (int c = 0; c < C; c++) {
                        double mu = 0;
                        for (int j = 0; j < K; j++) {
                            mu += samples[item][j][c] / (double) K;
                        }
                        double ss = 0;
                        for (int j = 0; j < K; j++) {
                            ss += (samples[item][j][c] - mu) * (samples[item][j][c] - mu);
                        }
                        assertEquals(mu, mean[i * C + c], 1e-6);
                        assertEquals(ss / (K - 1), var[i * C + c], 1e-5);
                    }
                }
                b.close();
            }
        }
    }

    @Test
    void shufflingIsReproducibleBySeedAndVisitsEachItemOnce() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            CacheDataset a = base().optShuffle(4, 11).build();
            CacheDataset b = base().optShuffle(4, 11).build();
            CacheDataset c = base().optShuffle(4, 12).build();
            List<Long> a1 = order(a, m);
            List<Long> a2 = order(a, m);
            assertEquals(a1, order(b, m));
            assertEquals(a2, order(b, m));
            assertNotEquals(a1, a2, "a new epoch draws a new order");
            assertNotEquals(a1, order(c, m));
            List<Long> sorted = new ArrayList<>(a1);
            sorted.sort(null);
            List<Long> all = new ArrayList<>();
            for (long i = 0; i < N; i++) {
                all.add(i);
            }
            assertEquals(all, sorted);
        }
    }

    @Test
    void singleRecordAndRangeViewAgree() throws Exception {
        CacheDataset ds = base().build();
        try (NDManager m = NDManager.newBaseManager()) {
            var rec = ds.get(m, 6);
            float[] want = new float[K * C];
            for (int j = 0; j < K; j++) {
                System.arraycopy(samples[6][j], 0, want, j * C, C);
            }
            assertArrayEquals(want, rec.getLabels().get(1).toFloatArray());
            var view = TeacherCache.open(dir).dense(true).range(m, 5, 3, true);
            assertEquals(samples[6][1][2], view.get(1, 1, 2).getFloat());
        }
    }

    @Test
    void badSettingsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> base().optClassLabels(new int[3]).build());
        assertEquals("optClassLabels: 3 labels for 23 items", e.getMessage());
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class, () -> base().optDdof(2).build());
        assertEquals("optDdof: must be 0 or 1, got 2", d.getMessage());
    }
}

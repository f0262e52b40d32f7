package io.distill4j.teacher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.BadInputException;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.Mlp;
import io.distill4j.data.CacheManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeacherSamplerTest {

    /** Sample j of item i, class c is i + j / 10 + c / 100 + x[i][0]: checkable by hand. */
    private static final class IndexTeacher implements Teacher {
        final List<Long> batchStarts = new ArrayList<>();
        final float poison;

        IndexTeacher(float poison) {
            this.poison = poison;
        }

        @Override
        public TeacherOutput output() {
            return TeacherOutput.values();
        }

        @Override
        public int k() {
            return 3;
        }

        @Override
        public int width() {
            return 2;
        }

        @Override
        public Device device() {
            return Device.cpu();
        }

        @Override
        public Map<String, Object> provenance() {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", "index");
            p.put("seed", 7L);
            return p;
        }

        @Override
        public NDArray sample(NDManager manager, NDArray x, long firstItem) {
            batchStarts.add(firstItem);
            int b = (int) x.getShape().get(0);
            float[] xs = x.toFloatArray();
            int d = (int) x.getShape().get(1);
            float[] out = new float[b * 3 * 2];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < 3; j++) {
                    for (int c = 0; c < 2; c++) {
                        out[(i * 3 + j) * 2 + c] = (firstItem + i) + j / 10f + c / 100f + xs[i * d];
                    }
                }
            }
            if (firstItem + b > 10 && poison != 0) {
                out[0] = poison;
            }
            return manager.create(out, new Shape(b, 3, 2));
        }
    }

    @Test
    void writesWhatTheTeacherReturnsItemByItem(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(23, 4, 1);
        IndexTeacher t = new IndexTeacher(0);
        List<Long> seen = new ArrayList<>();
        TeacherCache cache = TeacherSampler.fill(t, x, dir, new TeacherSampler.Options(5, 7), (done, total) -> {
            assertEquals(23, total);
            seen.add(done);
        });
        assertEquals(List.of(0L, 5L, 10L, 15L, 20L, 23L), seen);
        assertEquals(List.of(0L, 5L, 10L, 15L, 20L), t.batchStarts);
        float[][][] s = cache.readAll();
        assertEquals(23, s.length);
        for (int i = 0; i < 23; i++) {
            for (int j = 0; j < 3; j++) {
                for (int c = 0; c < 2; c++) {
                    assertEquals(i + j / 10f + c / 100f + x[i][0], s[i][j][c], 1e-5f, "item " + i + " sample " + j + " class " + c);
                }
            }
        }
        assertEquals("index", cache.manifest().teacher().get("name"));
        assertEquals(5, cache.manifest().teacher().get("batchSize"));
        assertEquals("regression", cache.manifest().task());
        assertEquals("values", cache.manifest().signal());
        assertEquals(4, cache.manifest().shards().size(), "23 items in shards of 7");
    }

    @Test
    void resumesInsideABatchByRegeneratingItAndKeepingOnlyMissingItems(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(23, 4, 2);
        IndexTeacher first = new IndexTeacher(0);
        int[] calls = {0};
        assertThrows(IllegalStateException.class, () -> TeacherSampler.fill(first, x, dir,
                new TeacherSampler.Options(5, 7), (done, total) -> {
                    if (++calls[0] == 3) {
                        throw new IllegalStateException("interrupted");
                    }
                }));
        // 10 items were buffered when the run stopped; closing the writer committed them (7 + 3).
        assertEquals(10, TeacherCache.open(dir).manifest().items());
        dropLastShard(dir); // as if the process had died before committing the second shard
        assertEquals(7, TeacherCache.open(dir).manifest().items());
        IndexTeacher second = new IndexTeacher(0);
        TeacherCache cache = TeacherSampler.fill(second, x, dir, new TeacherSampler.Options(5, 7), SampleProgress.NONE);
        assertEquals(List.of(5L, 10L, 15L, 20L), second.batchStarts);
        float[][][] s = cache.readAll();
        for (int i = 0; i < 23; i++) {
            assertEquals(i + x[i][0], s[i][0][0], 1e-5f, "item " + i);
        }
        cache.verify();
    }

    @Test
    void resumingWithAnotherTeacherOrBatchSizeIsABadInputNamingTheField(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(12, 4, 3);
        TeacherSampler.fill(new IndexTeacher(0), x, dir, new TeacherSampler.Options(5, 7), SampleProgress.NONE);
        BadInputException e = assertThrows(BadInputException.class, () -> TeacherSampler.fill(new IndexTeacher(0), x, dir,
                new TeacherSampler.Options(4, 7), SampleProgress.NONE));
        assertTrue(e.getMessage().contains("teacher.batchSize") && e.getMessage().contains("manifest.json"), e.getMessage());
        float[][] other = TestModels.gaussian(12, 4, 4);
        BadInputException f = assertThrows(BadInputException.class, () -> TeacherSampler.fill(new IndexTeacher(0), other, dir,
                new TeacherSampler.Options(5, 7), SampleProgress.NONE));
        assertTrue(f.getMessage().contains("datasetFingerprint"), f.getMessage());
    }

    @Test
    void aNonFiniteSampleStopsTheRunAndKeepsTheItemsBeforeIt(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(20, 4, 5);
        // The cache writer rejects a non-finite value as a programming error (IllegalArgumentException).
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TeacherSampler.fill(
                new IndexTeacher(Float.NaN), x, dir, new TeacherSampler.Options(5, 100), SampleProgress.NONE));
        assertTrue(e.getMessage().contains("item 10") && e.getMessage().contains("NaN"), e.getMessage());
        assertEquals(10, TeacherCache.open(dir).manifest().items(), "items before the bad one are committed");
    }

    @Test
    void mcDropoutResumedEqualsUninterrupted(@TempDir Path dir) {
        float[][] x = TestModels.gaussian(50, 6, 6);
        try (Model m = TestModels.randomMlp(Mlp.builder().setInputs(6).setHidden(16).setOutputs(3).optDropout(0.3f), 6, 9)) {
            McDropoutTeacher t = McDropoutTeacher.builder(m).setSamples(4).setWidth(3).optOutput(TeacherOutput.probabilities(2f)).optSeed(11).setDescription("mlp 6-16-3").build();
            float[][][] whole = TeacherSampler.fill(t, x, dir.resolve("a"), new TeacherSampler.Options(8, 13),
                    SampleProgress.NONE).readAll();
            int[] calls = {0};
            assertThrows(IllegalStateException.class, () -> TeacherSampler.fill(t, x, dir.resolve("b"),
                    new TeacherSampler.Options(8, 13), (done, total) -> {
                        if (++calls[0] == 4) {
                            throw new IllegalStateException("interrupted");
                        }
                    }));
            dropLastShard(dir.resolve("b"));
            long committed = TeacherCache.open(dir.resolve("b")).manifest().items();
            assertTrue(committed > 0 && committed < 50 && committed % 8 != 0, "resume point " + committed + " inside a batch");
            float[][][] resumed = TeacherSampler.fill(t, x, dir.resolve("b"), new TeacherSampler.Options(8, 13),
                    SampleProgress.NONE).readAll();
            for (int i = 0; i < 50; i++) {
                for (int j = 0; j < 4; j++) {
                    assertArrayEquals(whole[i][j], resumed[i][j], "item " + i + " sample " + j);
                }
            }
        }
    }

    /** Simulates a crash before the last shard's commit: the manifest forgets it and the file goes. */
    static void dropLastShard(Path dir) {
        CacheManifest m = TeacherCache.open(dir).manifest();
        List<CacheManifest.Shard> shards = m.shards().subList(0, m.shards().size() - 1);
        CacheManifest.Shard last = m.shards().get(m.shards().size() - 1);
        try {
            new CacheManifest(m.formatVersion(), m.task(), m.k(), m.width(), m.signal(), m.dtype(), last.firstItem(),
                    m.teacher(), m.datasetFingerprint(), shards).writeAtomically(dir);
            Files.delete(dir.resolve(last.file()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

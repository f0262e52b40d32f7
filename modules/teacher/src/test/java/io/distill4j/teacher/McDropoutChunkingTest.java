package io.distill4j.teacher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Rows;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.Mlp;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 21, item 1: MC-dropout sampling in chunks that fit a memory budget, bit-identical whatever the chunking. */
class McDropoutChunkingTest {

    private static final int K = McDropoutGolden.K;
    private static final int C = McDropoutGolden.CLASSES;

    @Test
    void nthLongIsWhatSplittableRandomReturns() {
        for (long seed : new long[] {0, 42, -7, Long.MAX_VALUE}) {
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < 1000; i++) {
                assertEquals(r.nextLong(), McDropoutTeacher.nthLong(seed, i), "seed " + seed + ", call " + i);
            }
        }
    }

    /**
     * A large mask starting at an odd element (the high half of a long): every element is the one its definition gives,
     * from SplittableRandom's own stream (a guard for any faster way of filling it).
     */
    @Test
    void aLargeMaskFromAnOddElementIsItsElementwiseDefinition() {
        long seed = 42;
        long firstLong = 7;
        long firstElement = 12345;
        float p = 0.3f;
        Shape shape = new Shape(3, 11001);   // 33,003 elements, an odd count
        int n = (int) shape.size();
        long[] longs = new long[(int) (firstLong + (firstElement + n) / 2 + 1)];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < longs.length; i++) {
            longs[i] = r.nextLong();
        }
        long threshold = Math.round(p * 4294967296.0);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] mask = McDropoutTeacher.mask(m, shape, p, seed, firstLong, firstElement).toFloatArray();
            assertEquals(n, mask.length);
            for (int e = 0; e < n; e++) {
                long g = firstElement + e;
                long bits = longs[(int) (firstLong + g / 2)];
                long half = (g & 1) == 0 ? bits & 0xFFFFFFFFL : bits >>> 32;
                assertEquals(half >= threshold ? 1f / (1f - p) : 0f, mask[e], "element " + e);
            }
        }
    }

    @Test
    void everyChunkSizeGivesTheSamplesOfTheUnchunkedPassAndOfTheGoldenFile() throws IOException {
        float[] golden = golden();
        float[][] x = McDropoutGolden.features();
        try (Model m = McDropoutGolden.model(); NDManager mgr = NDManager.newBaseManager()) {
            McDropoutTeacher t = McDropoutGolden.teacher(m);
            long row = t.minimumWorkingBytes(McDropoutGolden.BATCH, McDropoutGolden.INPUTS);
            assertTrue(row > 0 && row < 4096, "one repeated row's working memory: " + row);
            for (int start = 0; start < McDropoutGolden.ITEMS; start += McDropoutGolden.BATCH) {
                int end = Math.min(McDropoutGolden.ITEMS, start + McDropoutGolden.BATCH);
                int rows = (end - start) * K;
                float[] whole = t.sample(mgr, mgr.create(Rows.flatten(Arrays.copyOfRange(x, start, end)),
                        new Shape(end - start, McDropoutGolden.INPUTS)), start).toFloatArray();
                for (int i = 0; i < whole.length; i++) {
                    // the golden file was written by the sampler before chunking, possibly on another CPU: the masks
                    // must match exactly (a mask flip moves a probability by far more), the arithmetic to 1e-6
                    assertEquals(golden[start * K * C + i], whole[i], 1e-6f, "batch " + start + ", value " + i);
                }
                for (int chunk : new int[] {1, 2, 3, 4, 6, 7, 13, rows, 10 * rows}) {
                    List<Integer> pieces = new ArrayList<>();
                    float[] got = new float[rows * C];
                    int[] at = {0};
                    t.sample(mgr, x, start, end, chunk * row, (values, offset, samples) -> {
                        pieces.add(samples);
                        System.arraycopy(values, offset, got, at[0], samples * C);
                        at[0] += samples * C;
                    });
                    assertEquals(rows * C, at[0]);
                    int expected = Math.min(chunk, rows);
                    assertEquals((rows + expected - 1) / expected, pieces.size(), "chunk " + chunk);
                    assertTrue(pieces.stream().allMatch(p -> p <= expected), "pieces " + pieces);
                    for (int i = 0; i < got.length; i++) {
                        assertEquals(Float.floatToRawIntBits(whole[i]), Float.floatToRawIntBits(got[i]),
                                "batch " + start + ", chunk " + chunk + ", value " + i);
                    }
                }
            }
        }
    }

    /**
     * Chunks hold what the working memory allows, but no more than 1 MiB of rows (256 rows at least): a large budget
     * no longer means chunks of tens of MB (slower, and fresh memory from the kernel at every chunk).
     */
    @Test
    void chunksHoldTheBudgetsRowsUpToOneMebibyte() {
        try (Model m = McDropoutGolden.model()) {
            McDropoutTeacher t = McDropoutGolden.teacher(m);
            long row = t.minimumWorkingBytes(McDropoutGolden.BATCH, McDropoutGolden.INPUTS);
            assertEquals(5, t.chunkRows(5 * row + row / 2, McDropoutGolden.INPUTS));
            assertEquals(1, t.chunkRows(0, McDropoutGolden.INPUTS), "one row at least");
            assertEquals(Math.max(256, (1 << 20) / row), t.chunkRows(1L << 30, McDropoutGolden.INPUTS));
            assertEquals(Math.max(256, (1 << 20) / row), t.chunkRows(128L << 20, McDropoutGolden.INPUTS));
        }
    }

    /**
     * Issue 14, item 5: a shard that cuts a batch draws only its items; they are bit for bit that part of the whole
     * batch's pass, and only their rows are run (the sink gets exactly (to - from) x k samples in chunk-sized pieces).
     * The interface's default (a teacher that cannot draw part of a batch) gives the same part.
     */
    @Test
    void aPartOfABatchIsThatPartOfTheWholeBatchBitForBit() {
        float[][] x = McDropoutGolden.features();
        int start = 0;
        int end = Math.min(McDropoutGolden.ITEMS, McDropoutGolden.BATCH);
        try (Model m = McDropoutGolden.model(); NDManager mgr = NDManager.newBaseManager()) {
            McDropoutTeacher t = McDropoutGolden.teacher(m);
            long row = t.minimumWorkingBytes(McDropoutGolden.BATCH, McDropoutGolden.INPUTS);
            float[] whole = t.sample(mgr, mgr.create(Rows.flatten(Arrays.copyOfRange(x, start, end)),
                    new Shape(end - start, McDropoutGolden.INPUTS)), start).toFloatArray();
            int[][] ranges = {{0, 1}, {1, end}, {2, 3}, {1, end - 1}, {end - 1, end}, {0, end}};
            for (int[] range : ranges) {
                for (int chunk : new int[] {1, 5, 1000}) {
                    int from = range[0];
                    int to = range[1];
                    float[] got = new float[(to - from) * K * C];
                    int[] at = {0};
                    List<Integer> pieces = new ArrayList<>();
                    t.sampleRange(mgr, x, start, end, from, to, chunk * row, (values, offset, samples) -> {
                        pieces.add(samples);
                        System.arraycopy(values, offset, got, at[0], samples * C);
                        at[0] += samples * C;
                    });
                    assertEquals(got.length, at[0], "range " + from + ".." + to);
                    int rows = (to - from) * K;
                    int expected = Math.min(chunk, rows);
                    assertEquals((rows + expected - 1) / expected, pieces.size(), "only the range's rows are run");
                    for (int i = 0; i < got.length; i++) {
                        assertEquals(Float.floatToRawIntBits(whole[(from - start) * K * C + i]),
                                Float.floatToRawIntBits(got[i]), "range " + from + ".." + to + ", chunk " + chunk
                                        + ", value " + i);
                    }
                    // the interface's default: the whole batch sampled, the part kept
                    float[] viaDefault = new float[got.length];
                    int[] at2 = {0};
                    Teacher plain = new Teacher() {
                        @Override
                        public int k() {
                            return t.k();
                        }

                        @Override
                        public int width() {
                            return t.width();
                        }

                        @Override
                        public TeacherOutput output() {
                            return t.output();
                        }

                        @Override
                        public ai.djl.Device device() {
                            return t.device();
                        }

                        @Override
                        public java.util.Map<String, Object> provenance() {
                            return t.provenance();
                        }

                        @Override
                        public ai.djl.ndarray.NDArray sample(NDManager manager, ai.djl.ndarray.NDArray in, long first) {
                            return t.sample(manager, in, first);
                        }
                    };
                    plain.sampleRange(mgr, x, start, end, from, to, chunk * row, (values, offset, samples) -> {
                        System.arraycopy(values, offset, viaDefault, at2[0], samples * C);
                        at2[0] += samples * C;
                    });
                    assertEquals(got.length, at2[0]);
                    for (int i = 0; i < got.length; i++) {
                        assertEquals(Float.floatToRawIntBits(got[i]), Float.floatToRawIntBits(viaDefault[i]),
                                "default, range " + from + ".." + to + ", value " + i);
                    }
                }
            }
            assertThrows(IllegalArgumentException.class, () -> t.sampleRange(mgr, x, start, end, 2, 2, row,
                    (v, o, n) -> { }));
            assertThrows(IllegalArgumentException.class, () -> t.sampleRange(mgr, x, 1, end, 0, 2, row,
                    (v, o, n) -> { }));
        }
    }

    @Test
    void aCacheFilledInChunksAndSmallShardsHoldsTheGoldenSamples(@TempDir Path dir) throws IOException {
        float[] golden = golden();
        try (Model m = McDropoutGolden.model()) {
            McDropoutTeacher t = McDropoutGolden.teacher(m);
            TeacherCache cache = TeacherSampler.fill(t, McDropoutGolden.features(), dir,
                    new TeacherSampler.Options(McDropoutGolden.BATCH, 3), SampleProgress.NONE);
            float[][][] s = cache.readAll();
            assertEquals(McDropoutGolden.ITEMS, s.length);
            for (int i = 0; i < s.length; i++) {
                for (int j = 0; j < K; j++) {
                    for (int c = 0; c < C; c++) {
                        assertEquals(golden[(i * K + j) * C + c], s[i][j][c], 1e-6f, "item " + i + " sample " + j);
                    }
                }
            }
        }
    }

    @Test
    void budgetsCapShardsAndRefuseBeforeWorkNamingTheSetting(@TempDir Path dir) {
        TeacherSampler.Options o = new TeacherSampler.Options(1024, 4096, 256L << 20);
        // k = 24,000 probabilities over 10 classes: 960,000 bytes an item, a quarter of 256 MiB holds 69 items
        assertEquals(69, o.shardRows(24_000, 10));
        assertEquals(4096, o.shardRows(8, 10));
        assertNull(o.refusal(1000, 24_000, 10), "a chunking teacher needs one row's memory");
        String batch = o.refusal(Teacher.unchunkedBytes(1024, 64, 24_000, 10), 24_000, 10);
        assertTrue(batch.startsWith("batchSize: 1024 inputs x k=24000 samples need about 2812.8 MiB"), batch);
        assertTrue(batch.contains("use batchSize 46 or less"), batch);
        String item = new TeacherSampler.Options(8, 8, 1L << 20).refusal(0, 100_000, 10);
        assertTrue(item.startsWith("memoryBudget: one item's k=100000 x 10 float32 samples take 3.8 MiB"), item);
        // an engine-side teacher (no chunking) with too large a batch is refused before the cache is created
        try (Model m = TestModels.randomMlp(Mlp.builder().setInputs(4).setHidden(8).setOutputs(3), 4, 1)) {
            DeterministicTeacher t = new DeterministicTeacher(m, 5_000, 3, TeacherOutput.probabilities(1f), "mlp");
            BadInputException e = assertThrows(BadInputException.class, () -> TeacherSampler.fill(t,
                    TestModels.gaussian(300, 4, 1), dir.resolve("c"), new TeacherSampler.Options(256, 64, 16L << 20),
                    SampleProgress.NONE));
            assertTrue(e.getMessage().startsWith("batchSize: 256 inputs x k=5000 samples"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("c")), "refused before any work");
        }
    }

    private static float[] golden() throws IOException {
        try (InputStream in = McDropoutChunkingTest.class.getResourceAsStream("/mc-dropout-golden/expected.f32")) {
            byte[] b = in.readAllBytes();
            float[] v = new float[b.length / 4];
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            assertEquals(McDropoutGolden.ITEMS * K * C, v.length);
            return v;
        }
    }
}

package io.distill4j.trainer.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.trainer.MicroBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Examples left in the cache give the micro-batches of examples held in memory, array for array, however small the
 * window of rows read ahead; a streamed evaluation gives the in-memory one's value.
 */
class CachedExamplesTest {
    static final int V = 40;
    static final int K = 3;
    static final int TOP_K = 4;

    /** 11 items of K responses of 1 to 7 tokens, prompts of 1 to 5 tokens, in shards of 3 items. */
    static TeacherCache cache(Path dir) throws IOException {
        Random r = new Random(7);
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, K, V, TOP_K, Map.of("name", "test"), "fp", 3,
                new CacheWriteOptions(false, CacheWriteOptions.DEFAULT_TOLERANCE))) {
            for (int i = 0; i < 11; i++) {
                int[] prompt = r.ints(1 + r.nextInt(5), 0, V).toArray();
                List<SequenceSample> samples = new ArrayList<>();
                for (int j = 0; j < K; j++) {
                    int n = 1 + r.nextInt(7);
                    int[] tokens = new int[n];
                    int[] ids = new int[n * TOP_K];
                    float[] lp = new float[n * TOP_K];
                    float[] tail = new float[n];
                    for (int t = 0; t < n; t++) {
                        double left = 1;
                        for (int c = 0; c < TOP_K; c++) {
                            ids[t * TOP_K + c] = (i * 7 + j * 3 + t + c * 5) % V;
                            double p = left * (0.3 + 0.4 * r.nextDouble());
                            lp[t * TOP_K + c] = (float) Math.log(p);
                            left -= p;
                        }
                        tail[t] = (float) Math.log(left);
                        tokens[t] = ids[t * TOP_K];
                    }
                    samples.add(new SequenceSample(tokens, ids, lp, tail));
                }
                w.append(prompt, samples);
            }
        }
        return TeacherCache.open(dir);
    }

    static List<SequenceItem> readAll(TeacherCache cache) {
        List<SequenceItem> out = new ArrayList<>();
        try (SequenceCacheReader r = cache.sequence()) {
            for (long i = 0; i < r.items(); i++) {
                out.add(r.read(i));
            }
        }
        return out;
    }

    @Test
    void streamedBatchesEqualTheInMemoryOnesForEveryWindowSize(@TempDir Path dir) throws IOException {
        TeacherCache cache = cache(dir);
        List<SequenceItem> items = readAll(cache);
        List<Integer> seen = new ArrayList<>();
        CachedExamples.Index index = CachedExamples.index(cache, it -> seen.add((int) it.item()));
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), seen, "every item once, in order");
        assertEquals(items.get(4).prompt().length, index.promptLengths()[4]);
        assertEquals(items.get(4).samples().get(2).length(), index.answerLength(4, 2));
        for (boolean kd : new boolean[] {false, true}) {
            // responses 1 and 2 of items 0-9, then response 0 of item 10 (a mode's own mix of draws)
            CachedExamples.Builder b = CachedExamples.builder(cache, index,
                    kd ? CachedExamples.Kind.TOP_K : CachedExamples.Kind.SFT);
            List<LmExample> inMemory = new ArrayList<>();
            for (int q = 0; q < 10; q++) {
                for (int j = 1; j < K; j++) {
                    b.add(q, j);
                    inMemory.add(kd ? SequenceCacheExamples.topK(items.get(q), j, TOP_K)
                            : SequenceCacheExamples.sft(items.get(q), j));
                }
            }
            b.add(10, 0);
            inMemory.add(kd ? SequenceCacheExamples.topK(items.get(10), 0, TOP_K) : SequenceCacheExamples.sft(items.get(10), 0));
            CachedExamples cached = b.build();
            assertEquals(21, cached.size());
            for (boolean packing : new boolean[] {false, true}) {
                // context 6 cuts the longer examples (prompts up to 5 plus answers up to 7)
                for (int context : new int[] {6, 13}) {
                    // window bytes 1: one micro-batch per window, every window a fresh read from the shards
                    for (long window : new long[] {1, 3L * context * 100 * (kd ? 12 * TOP_K + 40 : 36), LmBatchSource.WINDOW_BYTES}) {
                        LmBatchSource want = new LmBatchSource(inMemory, context, 2, packing, kd, 2);
                        LmBatchSource got = new LmBatchSource(cached, context, 2, packing, 2, window);
                        String where = "kd " + kd + ", packing " + packing + ", context " + context + ", window " + window;
                        assertEquals(want.rows(), got.rows(), where);
                        assertEquals(want.batchesPerEpoch(), got.batchesPerEpoch(), where);
                        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
                            for (int epoch = 0; epoch < 2; epoch++) {
                                for (int i = 0; i < want.batchesPerEpoch(); i++) {
                                    assertSame(want.batch(m, 5, epoch, i, null), got.batch(m, 5, epoch, i, null),
                                            where + ", epoch " + epoch + ", batch " + i);
                                }
                            }
                            // out of order, as a resumed run asks
                            assertSame(want.batch(m, 9, 1, 3, null), got.batch(m, 9, 1, 3, null), where + ", resumed");
                        }
                        assertEquals(want.answerTokensServed(), got.answerTokensServed(), where);
                        assertEquals(want.truncatedServed(), got.truncatedServed(), where);
                        assertTrue(context > 6 || got.truncatedServed() > 0, "context 6 cuts examples");
                    }
                }
            }
        }
    }

    private static void assertSame(MicroBatch a, MicroBatch b, String where) {
        assertEquals(a.size(), b.size(), where + ": size");
        assertLists(a.inputs(), b.inputs(), where + ": inputs");
        assertLists(a.labels(), b.labels(), where + ": labels");
    }

    private static void assertLists(NDList a, NDList b, String where) {
        assertEquals(a.size(), b.size(), where);
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).getShape(), b.get(i).getShape(), where + " " + i);
            assertEquals(a.get(i).getDataType(), b.get(i).getDataType(), where + " " + i);
            assertArrayEquals(a.get(i).toByteArray(), b.get(i).toByteArray(), where + " " + i);
        }
    }

    @Test
    void aStreamedEvaluationEqualsTheInMemoryOne(@TempDir Path dir) throws IOException {
        TeacherCache cache = cache(dir);
        List<SequenceItem> items = readAll(cache);
        CachedExamples.Index index = CachedExamples.index(cache, null);
        CausalLmConfig c = CausalLmConfig.builder(LmFamily.LLAMA).vocabSize(V).hiddenSize(16).numLayers(1)
                .numHeads(2).numKvHeads(1).intermediateSize(32).maxPositions(16).build();
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Engine.getInstance().setRandomSeed(4);
            CausalLm lm = new CausalLm(c);
            lm.initialize(m);
            for (boolean kd : new boolean[] {false, true}) {
                CachedExamples cached = CachedExamples.of(cache, index, kd ? CachedExamples.Kind.TOP_K
                        : CachedExamples.Kind.SFT, 0, 11, K);
                List<LmExample> inMemory = kd ? SequenceCacheExamples.topK(items, K, TOP_K) : SequenceCacheExamples.sft(items, K);
                // 33 examples of up to 12 tokens packed in rows of 5: more than 16 rows, so several batches
                for (int context : new int[] {5, 12}) {
                    double alpha = kd ? 0.7 : 0;
                    assertEquals(LmFineTuner.evaluate(lm, m, inMemory, context, alpha),
                            LmFineTuner.evaluate(lm, m, cached, context, alpha), 0, "kd " + kd + ", context " + context);
                }
                assertEquals(inMemory.size(), cached.read(0, cached.size()).size());
            }
        }
    }

    @Test
    void answerTokensOfARowAreCountedFromLengthsAsTheLayoutCountsThem() {
        // prompt 3 + answer 2 at offset 0, prompt 1 + answer 2 at offset 5: one packed row of context 8
        int[] prompts = {3, 1};
        int[] lengths = {5, 3};
        List<LmExample> ex = List.of(LmExample.of(new int[] {1, 2, 3}, new int[] {4, 5}),
                LmExample.of(new int[] {6}, new int[] {7, 8}));
        SequencePacker.Batch b = SequencePacker.layout(ex, 8, 1, true, false).get(0);
        // 2 targets in the first (its positions 2, 3 predict 4, 5), 2 in the second (its 0, 1 predict 7, 8)
        assertEquals(4, b.answerTokens());
        assertEquals(4, SequencePacker.answerTokens(prompts, lengths, 8));
        assertEquals(List.of(0, 1), java.util.Arrays.stream(SequencePacker.rows(lengths, 8, true).get(0)).boxed().toList());
        assertEquals(2, SequencePacker.rows(lengths, 8, false).size());
        assertEquals(1, SequencePacker.answerTokens(new int[] {0}, new int[] {2}, 8), "no prompt: the first token only conditions");
    }

    @Test
    void anEmptyCacheIsNamedInOneLine(@TempDir Path dir) throws IOException {
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, K, V, TOP_K, Map.of("name", "test"), "fp", 3,
                new CacheWriteOptions(false, CacheWriteOptions.DEFAULT_TOLERANCE))) {
            w.flush();
        }
        BadInputException e = assertThrows(BadInputException.class, () -> CachedExamples.index(TeacherCache.open(dir), null));
        assertTrue(e.getMessage().endsWith("manifest.json: field items: the cache holds no prompts"), e.getMessage());
    }
}

package io.distill4j.trainer.lm;


import io.distill4j.models.lm.LmExample;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequenceCacheExamplesTest {

    private static SequenceItem handMade() {
        // K = 2, two responses; position probabilities {0.5, 0.3} + tail 0.2, {0.9, 0.1} + tail 0
        SequenceSample a = new SequenceSample(new int[] {4, 7}, new int[] {4, 2, 7, 1},
                new float[] {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.9), (float) Math.log(0.1)},
                new float[] {(float) Math.log(0.2), Float.NEGATIVE_INFINITY});
        SequenceSample b = new SequenceSample(new int[] {2}, new int[] {2, 4},
                new float[] {(float) Math.log(0.6), (float) Math.log(0.4)}, null);
        return new SequenceItem(3, new int[] {9, 8}, List.of(a, b));
    }

    @Test
    void sftExamplesAreThePromptAndTheResponse() {
        SequenceItem it = handMade();
        LmExample e = SequenceCacheExamples.sft(it, 0);
        assertArrayEquals(new int[] {9, 8}, e.prompt());
        assertArrayEquals(new int[] {4, 7}, e.answer());
        assertNull(e.teacher());
        List<LmExample> all = SequenceCacheExamples.sft(List.of(it, it), 2);
        assertEquals(4, all.size());
        assertArrayEquals(new int[] {2}, all.get(1).answer());
        assertArrayEquals(new int[] {4, 7}, all.get(2).answer());
        assertEquals(2, SequenceCacheExamples.sft(List.of(it, it), 1).size());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> SequenceCacheExamples.sft(it, 2));
        assertTrue(bad.getMessage().contains("item 3: response 2 outside [0, 2)"), bad.getMessage());
    }

    @Test
    void topKExamplesCarryTheCachedDistributionAndAComputedTailWhenMissing() {
        SequenceItem it = handMade();
        LmExample e = SequenceCacheExamples.topK(it, 0, 2);
        assertArrayEquals(new int[] {4, 2, 7, 1}, e.teacher().ids());
        assertArrayEquals(new float[] {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.9),
            (float) Math.log(0.1)}, e.teacher().logProbs(), 1e-6f);
        assertEquals(Math.log(0.2), e.teacher().tailLogMass()[0], 1e-6);
        assertEquals(Float.NEGATIVE_INFINITY, e.teacher().tailLogMass()[1]);
        LmExample f = SequenceCacheExamples.topK(it, 1, 2);
        // 0.6 + 0.4 leaves no tail but the float rounding of their logs (below 1e-7)
        assertTrue(f.teacher().tailLogMass()[0] < -15, "tail " + f.teacher().tailLogMass()[0]);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> SequenceCacheExamples.topK(it, 0, 3));
        assertTrue(bad.getMessage().contains("expected 2 x 3 top-K entries"), bad.getMessage());
    }

    @Test
    void renormalisationShiftsTheTopKToMeetTheTailExactly() {
        // top-K mass 0.82 against a tail of 0.2: scaled by 0.8 / 0.82, ratios kept
        float[] lp = {(float) Math.log(0.51), (float) Math.log(0.31)};
        SequenceCacheExamples.renormalise(lp, 0, 2, (float) Math.log(0.2), 0, 0);
        assertEquals(0.51 * 0.8 / 0.82, Math.exp(lp[0]), 1e-6);
        assertEquals(0.31 * 0.8 / 0.82, Math.exp(lp[1]), 1e-6);
    }

    @Test
    void rowsReadBackFromAQuantisedCacheMakeValidDistillationExamples(@TempDir Path dir) throws IOException {
        int v = 50;
        int kk = 8;
        Random r = new Random(11);
        List<List<SequenceSample>> written = new ArrayList<>();
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(dir, 2, v, kk, Map.of("name", "test"), "fp", 4,
                new CacheWriteOptions(false, CacheWriteOptions.DEFAULT_TOLERANCE))) {
            for (int i = 0; i < 6; i++) {
                List<SequenceSample> samples = new ArrayList<>();
                for (int j = 0; j < 2; j++) {
                    int n = 1 + r.nextInt(4);
                    int[] tokens = new int[n];
                    int[] ids = new int[n * kk];
                    float[] lp = new float[n * kk];
                    for (int t = 0; t < n; t++) {
                        // a random softmax over v tokens, its top K recorded as a teacher does
                        double[] z = new double[v];
                        double sum = 0;
                        for (int c = 0; c < v; c++) {
                            z[c] = Math.exp(3 * r.nextGaussian());
                            sum += z[c];
                        }
                        Integer[] order = new Integer[v];
                        for (int c = 0; c < v; c++) {
                            order[c] = c;
                        }
                        final double[] zz = z;
                        java.util.Arrays.sort(order, (a, b) -> Double.compare(zz[b], zz[a]));
                        for (int c = 0; c < kk; c++) {
                            ids[t * kk + c] = order[c];
                            lp[t * kk + c] = (float) Math.log(z[order[c]] / sum);
                        }
                        tokens[t] = order[0];
                    }
                    samples.add(new SequenceSample(tokens, ids, lp, null));
                }
                written.add(samples);
                w.append(new int[] {1, 2, 3}, samples);
            }
        }
        List<SequenceItem> items = new ArrayList<>();
        try (SequenceCacheReader rd = TeacherCache.open(dir).sequence()) {
            for (long i = 0; i < rd.items(); i++) {
                items.add(rd.read(i));
            }
        }
        List<LmExample> kd = SequenceCacheExamples.topK(items, 2, kk);
        assertEquals(12, kd.size());
        for (int e = 0; e < kd.size(); e++) {
            SequenceSample src = written.get(e / 2).get(e % 2);
            LmExample.TopK t = kd.get(e).teacher();
            assertArrayEquals(src.tokens(), kd.get(e).answer());
            assertArrayEquals(src.topIds(), t.ids());
            for (int p = 0; p < t.positions(); p++) {
                double mass = Math.exp(t.tailLogMass()[p]);
                for (int c = 0; c < kk; c++) {
                    mass += Math.exp(t.logProbs()[p * kk + c]);
                    // 8-bit quantisation plus the shift: within a few hundredths of a nat of the written value
                    assertEquals(src.topLogprobs()[p * kk + c], t.logProbs()[p * kk + c], 0.05, "example " + e);
                }
                assertEquals(1, mass, 1e-5, "example " + e + ", position " + p);
            }
        }
    }
}

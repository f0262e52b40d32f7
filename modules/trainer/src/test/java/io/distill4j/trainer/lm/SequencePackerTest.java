package io.distill4j.trainer.lm;


import io.distill4j.models.lm.LmExample;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Layouts computed by hand. */
class SequencePackerTest {
    static final LmExample A = LmExample.of(new int[] {10, 11}, new int[] {12, 13});
    static final LmExample B = LmExample.of(new int[] {20}, new int[] {21, 22});

    @Test
    void packingPutsWholeExamplesInOneRowWithRestartingPositions() {
        List<SequencePacker.Batch> bs = SequencePacker.layout(List.of(A, B), 8, 4, true, false);
        assertEquals(1, bs.size());
        SequencePacker.Batch b = bs.get(0);
        assertEquals(1, b.rows());
        assertArrayEquals(new long[] {10, 11, 12, 13, 20, 21, 22, 0}, b.ids());
        assertArrayEquals(new long[] {1, 1, 1, 1, 2, 2, 2, 0}, b.segments());
        assertArrayEquals(new long[] {0, 1, 2, 3, 0, 1, 2, 0}, b.positions());
        // position 1 predicts 12, position 2 predicts 13; position 4 predicts 21, 5 predicts 22
        assertArrayEquals(new long[] {0, 12, 13, 0, 21, 22, 0, 0}, b.targets());
        assertArrayEquals(new float[] {0, 1, 1, 0, 1, 1, 0, 0}, b.weights());
        assertEquals(4, b.answerTokens());
        assertEquals(7, b.tokens());
    }

    @Test
    void paddingPutsOneExamplePerRow() {
        SequencePacker.Batch b = SequencePacker.layout(List.of(A, B), 5, 4, false, false).get(0);
        assertEquals(2, b.rows());
        assertArrayEquals(new long[] {10, 11, 12, 13, 0, 20, 21, 22, 0, 0}, b.ids());
        assertArrayEquals(new long[] {1, 1, 1, 1, 0, 1, 1, 1, 0, 0}, b.segments());
        assertArrayEquals(new float[] {0, 1, 1, 0, 0, 1, 1, 0, 0, 0}, b.weights());
    }

    @Test
    void rowsThatDoNotFitStartANewRowAndLongExamplesAreCut() {
        List<SequencePacker.Batch> bs = SequencePacker.layout(List.of(A, B, A), 6, 2, true, false);
        assertEquals(2, bs.size()); // rows [A], [B], [A] with 2 rows per batch
        assertEquals(2, bs.get(0).rows());
        assertEquals(1, bs.get(1).rows());
        SequencePacker.Batch cut = SequencePacker.layout(List.of(A), 3, 1, true, false).get(0);
        assertArrayEquals(new long[] {10, 11, 12}, cut.ids());
        assertArrayEquals(new float[] {0, 1, 0}, cut.weights());
        assertEquals(1, cut.truncated());
    }

    @Test
    void teacherDistributionsLandWhereTheirTokenIsPredicted() {
        // K = 2; answer 21 then 22; tails ln(0.2) and ln(0.1)
        LmExample.TopK t = new LmExample.TopK(2, new int[] {21, 5, 22, 6},
                new float[] {(float) Math.log(0.7), (float) Math.log(0.1), (float) Math.log(0.6), (float) Math.log(0.3)},
                new float[] {(float) Math.log(0.2), (float) Math.log(0.1)});
        LmExample ex = new LmExample(new int[] {20}, new int[] {21, 22}, t);
        SequencePacker.Batch b = SequencePacker.layout(List.of(withHalves(A), ex), 8, 1, true, true).get(0);
        assertEquals(2, b.k());
        // ex sits at positions 4..6: position 4 predicts 21 (answer 0), position 5 predicts 22 (answer 1)
        assertArrayEquals(new long[] {21, 5}, java.util.Arrays.copyOfRange(b.topIds(), 8, 10));
        assertArrayEquals(new long[] {22, 6}, java.util.Arrays.copyOfRange(b.topIds(), 10, 12));
        assertEquals((float) Math.log(0.1), b.tailLogMass()[5]);
        assertEquals(SequencePacker.ABSENT_LOG_PROB, b.topLogProbs()[6 * 2]);
    }

    static LmExample withHalves(LmExample e) {
        int n = e.answer().length;
        int[] ids = new int[2 * n];
        float[] lp = new float[2 * n];
        float[] tail = new float[n];
        for (int j = 0; j < n; j++) {
            ids[2 * j] = e.answer()[j];
            ids[2 * j + 1] = 1;
            lp[2 * j] = (float) Math.log(0.5);
            lp[2 * j + 1] = (float) Math.log(0.5);
            tail[j] = Float.NEGATIVE_INFINITY;
        }
        return new LmExample(e.prompt(), e.answer(), new LmExample.TopK(2, ids, lp, tail));
    }

    @Test
    void inconsistentTeachersAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SequencePacker.layout(List.of(A), 8, 1, true, true));
        assertEquals("example 0 has no teacher top-K distributions", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LmExample.TopK(1, new int[] {1},
                new float[] {(float) Math.log(0.5)}, new float[] {(float) Math.log(0.2)}));
        assertEquals(true, e.getMessage().contains("sum to 0.7"), e.getMessage());
    }
}

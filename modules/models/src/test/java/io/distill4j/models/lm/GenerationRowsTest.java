package io.distill4j.models.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Several continuations of one prompt on one shared KV cache ({@link Generation#sampleRows}), and batches of
 * prompts of different lengths decoded together ({@link Generation#sampleBatch}, left padding in
 * {@link KvCacheDecoder}) against each prompt decoded alone.
 */
class GenerationRowsTest {
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static CausalLm model(LmFamily family) {
        Engine.getInstance().setRandomSeed(3);
        CausalLmConfig.Builder b = CausalLmConfig.builder(family).vocabSize(29).hiddenSize(16).numLayers(2)
                .numHeads(2).maxPositions(20).initializerRange(0.5).dropout(0);
        if (family == LmFamily.LLAMA) {
            b.numKvHeads(1).intermediateSize(24);
        }
        CausalLm m = new CausalLm(b.build());
        m.initialize(manager);
        return m;
    }

    @ParameterizedTest
    @EnumSource(LmFamily.class)
    void oneRowIsTheSingleSampleAndGreedyRowsAreGreedy(LmFamily family) {
        CausalLm m = model(family);
        int[] prompt = {4, 9, 1};
        int[] single = Generation.sample(m, manager, prompt, 10, -1, 1.3, 5, new Random(7));
        int[][] one = Generation.sampleRows(m, manager, prompt, 1, 10, -1, 1.3, 5, new Random(7));
        assertArrayEquals(single, one[0]);
        int[] greedy = Generation.greedy(m, manager, prompt, 10, -1);
        for (int[] row : Generation.sampleRows(m, manager, prompt, 3, 10, -1, 0, 0, null)) {
            assertArrayEquals(greedy, row);
        }
        // the context bounds the length: 20 positions, 3 taken by the prompt
        assertEquals(17, Generation.sampleRows(m, manager, prompt, 2, 50, -1, 0, 0, null)[1].length);
    }

    @ParameterizedTest
    @EnumSource(LmFamily.class)
    void sampledRowsDifferAndEachEndsAtItsOwnEos(LmFamily family) {
        CausalLm m = model(family);
        int[] prompt = {2, 7};
        int eos = Generation.greedy(m, manager, prompt, 1, -1)[0]; // a likely token, so that rows hit it
        int[][] rows = Generation.sampleRows(m, manager, prompt, 6, 12, eos, 1.5, 0, new Random(11));
        Set<String> distinct = new HashSet<>();
        Set<Integer> lengths = new HashSet<>();
        for (int[] row : rows) {
            distinct.add(Arrays.toString(row));
            lengths.add(row.length);
            assertTrue(row.length >= 1 && row.length <= 12);
            for (int i = 0; i < row.length - 1; i++) {
                assertFalse(row[i] == eos, Arrays.toString(row) + " goes on after eos");
            }
            assertTrue(row[row.length - 1] == eos || row.length == 12, Arrays.toString(row));
        }
        assertTrue(distinct.size() > 1, "all 6 sampled rows are the same");
        assertTrue(lengths.size() > 1, "all rows have the same length " + lengths + ": eos did not end rows apart");
    }

    @ParameterizedTest
    @EnumSource(LmFamily.class)
    void paddedBatchLogitsEqualEachPromptDecodedAlone(LmFamily family) {
        CausalLm m = model(family);
        KvCacheDecoder d = new KvCacheDecoder(m);
        List<int[]> prompts = List.of(new int[] {4, 9, 1}, new int[] {7}, new int[] {3, 3, 8, 20, 11, 2}, new int[] {5, 6});
        int rows = 2;
        int steps = 5;
        int[][] fed = new int[prompts.size() * rows][steps];
        Random r = new Random(4);
        for (int[] f : fed) {
            for (int j = 0; j < steps; j++) {
                f[j] = r.nextInt(29);
            }
        }
        // batched: every row is fed its own tokens
        float[][][] batched = new float[steps + 1][][];
        batched[0] = new float[fed.length][];
        try (KvCacheDecoder.State s = d.prefill(manager, prompts, rows, batched[0])) {
            assertEquals(6, s.length());
            assertEquals(1, s.rowLength(2));
            for (int j = 0; j < steps; j++) {
                int[] tokens = new int[fed.length];
                for (int row = 0; row < fed.length; row++) {
                    tokens[row] = fed[row][j];
                }
                batched[j + 1] = d.step(manager, s, tokens);
            }
        }
        double largest = 0;
        for (int row = 0; row < fed.length; row++) {
            float[][] alone = new float[1][];
            try (KvCacheDecoder.State s = d.prefill(manager, prompts.get(row / rows), 1, alone)) {
                for (int j = 0; j <= steps; j++) {
                    assertArrayEquals(alone[0], batched[j][row], 1e-5f, family + " row " + row + " step " + j);
                    for (float x : alone[0]) {
                        largest = Math.max(largest, Math.abs(x));
                    }
                    if (j < steps) {
                        alone = d.step(manager, s, new int[] {fed[row][j]});
                    }
                }
            }
        }
        assertTrue(largest > 0.05, "logits too small to compare: " + largest);
    }

    @ParameterizedTest
    @EnumSource(LmFamily.class)
    void greedyBatchOfUnequalPromptsGivesEachPromptsGreedyTokens(LmFamily family) {
        CausalLm m = model(family);
        // the 14-token prompt has 6 positions of room, the others stop at their maxNew; one prompt has none
        List<int[]> prompts = List.of(new int[] {4, 9, 1}, new int[] {7}, new int[] {3, 3, 8, 20, 11, 2, 1, 1, 5, 9, 14, 2,
                6, 6}, new int[] {5, 6}, new int[20]);
        int[] maxNew = {9, 12, 30, 4, 5};
        int[][] batch = Generation.sampleBatch(m, manager, prompts, 2, maxNew, -1, 0, 0, null);
        assertEquals(10, batch.length);
        for (int p = 0; p < prompts.size(); p++) {
            int[] alone = Generation.greedy(m, manager, prompts.get(p), maxNew[p], -1);
            assertArrayEquals(alone, batch[2 * p], family + " prompt " + p);
            assertArrayEquals(alone, batch[2 * p + 1], family + " prompt " + p + ", second row");
        }
        assertEquals(6, batch[4].length);
        assertEquals(0, batch[8].length);
        // an eos ends each row at its own place: the greedy rows end where the lone decoding does
        int eos = Generation.greedy(m, manager, prompts.get(0), 3, -1)[2];
        int[][] ended = Generation.sampleBatch(m, manager, prompts.subList(0, 4), 1, new int[] {9, 9, 9, 9}, eos, 0, 0,
                null);
        for (int p = 0; p < 4; p++) {
            assertArrayEquals(Generation.greedy(m, manager, prompts.get(p), 9, eos), ended[p], family + " eos, prompt " + p);
        }
        assertTrue(ended[0].length <= 3, "eos did not end the first row: " + Arrays.toString(ended[0]));
    }

    @ParameterizedTest
    @EnumSource(LmFamily.class)
    void sampledBatchRowsDrawInRowOrder(LmFamily family) {
        CausalLm m = model(family);
        // one prompt in a batch call is sampleRows with the same random source
        int[][] viaBatch = Generation.sampleBatch(m, manager, List.of(new int[] {2, 7}), 3, new int[] {8}, -1, 1.2, 0,
                new Random(5));
        int[][] viaRows = Generation.sampleRows(m, manager, new int[] {2, 7}, 3, 8, -1, 1.2, 0, new Random(5));
        for (int r = 0; r < 3; r++) {
            assertArrayEquals(viaRows[r], viaBatch[r]);
        }
    }

    @org.junit.jupiter.api.Test
    void topIndicesFollowAStableDescendingSort() {
        Random r = new Random(2);
        for (int trial = 0; trial < 50; trial++) {
            float[] z = new float[40];
            for (int i = 0; i < z.length; i++) {
                // few distinct values, both signs, signed zeros and infinities: ties and sign handling matter
                int pick = r.nextInt(7);
                z[i] = pick == 0 ? -0f : pick == 1 ? 0f : pick == 2 ? Float.NEGATIVE_INFINITY : (r.nextInt(5) - 2) * 0.75f;
            }
            Integer[] order = new Integer[z.length];
            for (int i = 0; i < z.length; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Float.compare(z[b], z[a]));
            int n = 1 + r.nextInt(z.length);
            int[] expected = new int[n];
            for (int i = 0; i < n; i++) {
                expected[i] = order[i];
            }
            assertArrayEquals(expected, Generation.topIndices(z, n), Arrays.toString(z));
        }
    }

    @ParameterizedTest
    @EnumSource(LmFamily.class)
    void sampledTokensFollowTheTemperedSoftmax(LmFamily family) {
        CausalLm m = model(family);
        int[] prompt = {4, 9, 1};
        float[][] first = new float[1][];
        new KvCacheDecoder(m).prefill(manager, prompt, 1, first).close();
        double temperature = 1.3;
        int n = 6000;
        for (int topK : new int[] {0, 5}) {
            // the expected distribution in double precision: softmax(z / T) over all tokens or the top k
            Integer[] order = new Integer[first[0].length];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Float.compare(first[0][b], first[0][a]));
            int kept = topK == 0 ? order.length : topK;
            double[] p = new double[order.length];
            double sum = 0;
            for (int i = 0; i < kept; i++) {
                p[order[i]] = Math.exp((first[0][order[i]] - first[0][order[0]]) / temperature);
                sum += p[order[i]];
            }
            int[] counts = new int[p.length];
            for (int[] row : Generation.sampleRows(m, manager, prompt, n, 1, -1, temperature, topK, new Random(8))) {
                counts[row[0]]++;
            }
            double largest = 0;
            for (int v = 0; v < p.length; v++) {
                double expected = p[v] / sum;
                double se = Math.sqrt(expected * (1 - expected) / n);
                if (expected == 0) {
                    assertEquals(0, counts[v], "top-" + topK + ": token " + v + " is outside the top k");
                } else {
                    assertEquals(expected, counts[v] / (double) n, 4.5 * se + 1e-9, family + " top-" + topK + " token " + v);
                }
                largest = Math.max(largest, expected);
            }
            assertTrue(largest < 0.9, "the distribution is too peaked to test sampling: " + largest);
        }
    }
}

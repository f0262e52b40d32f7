package io.distill4j.models.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Several continuations of one prompt on one shared KV cache ({@link Generation#sampleRows}). */
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
}

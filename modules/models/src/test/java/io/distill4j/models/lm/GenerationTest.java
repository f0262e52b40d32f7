package io.distill4j.models.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.ParameterStore;
import io.distill4j.models.lm.io.HfFolder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Key/value-cached decoding against the full recompute of {@link CausalLm#logits}: the same logits to 1e-5
 * at every step and the same tokens, greedy and sampled, for both families.
 */
class GenerationTest {
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static CausalLm random(CausalLmConfig c, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        CausalLm m = new CausalLm(c);
        m.initialize(manager);
        return m;
    }

    /** Tiny models of both families: random ones (with a larger init, so logits spread) and the fixtures. */
    static void forEachModel(java.util.function.Consumer<CausalLm> check) {
        List<CausalLm> models = new ArrayList<>();
        models.add(random(CausalLmConfig.builder(LmFamily.GPT2).vocabSize(61).hiddenSize(32).numLayers(2)
                .numHeads(4).maxPositions(24).initializerRange(0.2).dropout(0.1).build(), 1));
        models.add(random(CausalLmConfig.builder(LmFamily.LLAMA).vocabSize(61).hiddenSize(32).numLayers(2)
                .numHeads(4).numKvHeads(2).intermediateSize(48).maxPositions(24).initializerRange(0.2).build(), 2));
        models.add(random(CausalLmConfig.builder(LmFamily.LLAMA).vocabSize(61).hiddenSize(32).numLayers(1)
                .numHeads(4).numKvHeads(4).intermediateSize(48).maxPositions(24).tieWordEmbeddings(true)
                .initializerRange(0.2).build(), 3));
        for (CausalLm m : models) {
            check.accept(m);
        }
        for (String name : List.of("gpt2-tiny", "llama-tiny")) {
            try (HfFolder.Loaded f = HfFolder.load(Fixtures.folder(name), manager)) {
                check.accept(f.model());
            }
        }
    }

    static float[] fullLogits(CausalLm m, int[] seq) {
        try (NDManager sub = manager.newSubManager()) {
            long[][] ids = {Arrays.stream(seq).asLongStream().toArray()};
            NDArray z = m.logits(new ParameterStore(sub, false), sub.create(ids), null, null, false);
            return z.get(new NDIndex("0, -1, :")).toFloatArray();
        }
    }

    @Test
    void cachedLogitsEqualAFullPassAtEveryStep() {
        forEachModel(m -> {
            int v = m.config().vocabSize();
            KvCacheDecoder d = new KvCacheDecoder(m);
            Random r = new Random(5);
            int[] seq = new int[Math.min(m.config().maxPositions(), 20)];
            for (int i = 0; i < seq.length; i++) {
                seq[i] = r.nextInt(v);
            }
            int prompt = 4;
            float[][] logits = new float[1][];
            double largest = 0;
            try (KvCacheDecoder.State s = d.prefill(manager, Arrays.copyOf(seq, prompt), 1, logits)) {
                for (int t = prompt; t <= seq.length; t++) {
                    float[] ref = fullLogits(m, Arrays.copyOf(seq, t));
                    assertArrayEquals(ref, logits[0], 1e-5f, m + " after " + t + " tokens");
                    for (float x : ref) {
                        largest = Math.max(largest, Math.abs(x));
                    }
                    assertEquals(t, s.length());
                    if (t < seq.length) {
                        logits = d.step(manager, s, new int[] {seq[t]});
                    }
                }
            }
            // the comparison is not vacuous: the logits are far from 0 on the scale of the tolerance
            assertEquals(true, largest > 0.05, m + ": largest logit " + largest);
        });
    }

    @Test
    void cachedDecodingGivesTheTokensOfTheFullRecompute() {
        forEachModel(m -> {
            int v = m.config().vocabSize();
            int ctx = m.config().maxPositions();
            int[] prompt = {1 % v, 7 % v, 3 % v};
            int[] greedyCached = Generation.sample(m, manager, prompt, 12, -1, 0, 0, null, true);
            int[] greedyFull = Generation.sample(m, manager, prompt, 12, -1, 0, 0, null, false);
            assertEquals(12, greedyFull.length);
            assertArrayEquals(greedyFull, greedyCached, m + " greedy");
            assertArrayEquals(greedyFull, Generation.greedy(m, manager, prompt, 12, -1), m + " greedy()");
            for (int topK : new int[] {0, 5}) {
                int[] a = Generation.sample(m, manager, prompt, 12, -1, 1.3, topK, new Random(9), true);
                int[] b = Generation.sample(m, manager, prompt, 12, -1, 1.3, topK, new Random(9), false);
                assertArrayEquals(b, a, m + " sampled, top-k " + topK);
            }
            // an end id stops both paths after it; the context stops both at its last position
            int eos = greedyFull[4];
            int stop = 0;
            while (greedyFull[stop] != eos) {
                stop++;
            }
            assertArrayEquals(Arrays.copyOf(greedyFull, stop + 1),
                    Generation.sample(m, manager, prompt, 12, eos, 0, 0, null, true), m + " eos");
            int[] longPrompt = new int[ctx - 3];
            Arrays.fill(longPrompt, 2 % v);
            int[] tailCached = Generation.sample(m, manager, longPrompt, 10, -1, 0, 0, null, true);
            assertEquals(3, tailCached.length, m + " stops at the context");
            assertArrayEquals(Generation.sample(m, manager, longPrompt, 10, -1, 0, 0, null, false), tailCached);
            assertEquals(0, Generation.sample(m, manager, new int[ctx], 10, -1, 0, 0, null, true).length);
        });
    }

    @Test
    void samplingWithoutARandomSourceIsRefused() {
        CausalLm m = random(CausalLmConfig.builder(LmFamily.GPT2).vocabSize(20).hiddenSize(16).numLayers(1)
                .numHeads(2).maxPositions(8).build(), 1);
        assertThrows(IllegalArgumentException.class, () -> Generation.sample(m, manager, new int[] {1}, 3, -1, 1.0, 0,
                null));
        assertThrows(IllegalArgumentException.class, () -> Generation.sample(m, manager, new int[0], 3, -1, 0, 0,
                null));
    }
}

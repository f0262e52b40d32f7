package io.distill4j.teacher.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.distill4j.data.BadInputException;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.sequence.SequenceTeacherSampler;
import io.distill4j.models.lm.LmActivation;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.Generation;
import io.distill4j.models.lm.KvCacheDecoder;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.models.lm.io.HfFolder;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CausalLmTeacherTest {

    private static final int V = 40;
    private static NDManager manager;
    private static CausalLm llama;
    private static CausalLm gpt2;

    /** One id per character: 'a'..'z' -> 2..27, anything else 1, with BOS 0 first. */
    private static final Function<String, int[]> CHARS = s -> {
        int[] ids = new int[s.length() + 1];
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            ids[i + 1] = c >= 'a' && c <= 'z' ? c - 'a' + 2 : 1;
        }
        return ids;
    };

    @BeforeAll
    static void models() {
        manager = NDManager.newBaseManager();
        Engine.getInstance().setRandomSeed(3);
        llama = new CausalLm(CausalLmConfig.builder(LmFamily.LLAMA).vocabSize(V).hiddenSize(32).numLayers(2).numHeads(4)
                .numKvHeads(2).headDim(8).intermediateSize(48).maxPositions(48).activation(LmActivation.SILU)
                .initializerRange(0.3).eosTokenId(V - 1).build());
        llama.initialize(manager);
        gpt2 = new CausalLm(CausalLmConfig.builder(LmFamily.GPT2).vocabSize(V).hiddenSize(32).numLayers(2).numHeads(4)
                .numKvHeads(4).headDim(8).intermediateSize(64).maxPositions(48).activation(LmActivation.GELU_TANH)
                .initializerRange(0.3).build());
        gpt2.initialize(manager);
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /** The full forward's logits of every position of one sequence: (T, V). */
    private static float[][] fullLogits(CausalLm m, int[] seq) {
        int v = m.config().vocabSize();
        try (NDManager sub = manager.newSubManager()) {
            NDArray ids = sub.create(seq, new Shape(1, seq.length));
            float[] l = m.logits(new ParameterStore(sub, false), ids, null, null, false).toType(DataType.FLOAT32, false)
                    .toFloatArray();
            float[][] out = new float[seq.length][v];
            for (int t = 0; t < seq.length; t++) {
                System.arraycopy(l, t * v, out[t], 0, v);
            }
            return out;
        }
    }

    @Test
    void kvCacheLogitsEqualTheFullForwardForBothFamilies() {
        Path lm = Path.of(System.getProperty("distill4j.root", "../..")).resolve("modules/models/src/test/resources/lm");
        try (HfFolder.Loaded importedLlama = HfFolder.load(lm.resolve("llama-tiny"), manager);
                HfFolder.Loaded importedGpt2 = HfFolder.load(lm.resolve("gpt2-tiny"), manager)) {
            for (CausalLm m : List.of(llama, gpt2, importedLlama.model(), importedGpt2.model())) {
                checkKvCache(m);
            }
        }
    }

    private static void checkKvCache(CausalLm m) {
        int v = m.config().vocabSize();
        KvCacheDecoder d = new KvCacheDecoder(m);
        int[] prompt = {0, 5, 9, 3, 17};
        int rows = 3;
        Random r = new Random(1);
        int[][] seqs = new int[rows][prompt.length + 8];
        for (int j = 0; j < rows; j++) {
            System.arraycopy(prompt, 0, seqs[j], 0, prompt.length);
            for (int t = prompt.length; t < seqs[j].length; t++) {
                seqs[j][t] = r.nextInt(v);
            }
        }
        float[][] logits = new float[rows][];
        try (KvCacheDecoder.State s = d.prefill(manager, prompt, rows, logits)) {
            for (int step = 0; step <= 8; step++) {
                for (int j = 0; j < rows; j++) {
                    float[][] ref = fullLogits(m, java.util.Arrays.copyOf(seqs[j], prompt.length + step));
                    assertArrayEquals(ref[prompt.length + step - 1], logits[j], 2e-4f,
                            m.config().family() + " row " + j + " step " + step);
                }
                if (step == 8) {
                    break;
                }
                int[] next = new int[rows];
                for (int j = 0; j < rows; j++) {
                    next[j] = seqs[j][prompt.length + step];
                }
                logits = d.step(manager, s, next);
            }
        }
    }

    @Test
    void topKAndTailMatchADoubleSoftmax() {
        float[] z = {1.5f, -0.5f, 3.0f, 0.25f, 3.0f, -2f};
        int[] ids = new int[3];
        float[] lp = new float[3];
        double tail = TokenSampler.topK(z, 3, ids, lp);
        double logZ = 0;
        for (float x : z) {
            logZ += Math.exp(x);
        }
        logZ = Math.log(logZ);
        assertArrayEquals(new int[] {2, 4, 0}, ids, "ties keep the smaller id first");
        assertArrayEquals(new float[] {(float) (3 - logZ), (float) (3 - logZ), (float) (1.5 - logZ)}, lp, 1e-6f);
        assertEquals(Math.log(Math.exp(-0.5) + Math.exp(0.25) + Math.exp(-2)) - logZ, tail, 1e-9);
    }

    @Test
    void processingFollowsPenaltyTemperatureTopKTopP() {
        float[] z = {2f, 1f, -1f, 0.5f};
        // penalty 2 on tokens 0 and 2: 2 -> 1, -1 -> -2; temperature 0.5 -> {2, 2, -4, 1}
        TokenSampler s = new TokenSampler(new SamplingConfig(4, 0.5, 0, 1.0, 2.0, 1, -1));
        double[] p = s.distribution(z, new int[] {0, 2}, 2);
        double e = Math.exp(2) * 2 + Math.exp(-4) + Math.exp(1);
        assertArrayEquals(new double[] {Math.exp(2) / e, Math.exp(2) / e, Math.exp(-4) / e, Math.exp(1) / e}, p, 1e-12);
        // top-k 2 keeps tokens 0 and 1 (tie, smaller id first) at 1/2 each
        p = new TokenSampler(new SamplingConfig(4, 0.5, 2, 1.0, 2.0, 1, -1)).distribution(z, new int[] {0, 2}, 2);
        assertArrayEquals(new double[] {0.5, 0.5, 0, 0}, p, 1e-12);
        // top-p 0.6 on softmax(z) = {.6095, .2242, .0303, .1360}: token 0 alone reaches 0.6
        p = new TokenSampler(new SamplingConfig(4, 1.0, 0, 0.6, 1.0, 1, -1)).distribution(z, new int[0], 0);
        assertArrayEquals(new double[] {1, 0, 0, 0}, p, 1e-12);
        // top-p 0.7: token 0 (.61) is below, token 1 crosses: both stay, renormalised
        p = new TokenSampler(new SamplingConfig(4, 1.0, 0, 0.7, 1.0, 1, -1)).distribution(z, new int[0], 0);
        double two = Math.exp(2) + Math.exp(1);
        assertArrayEquals(new double[] {Math.exp(2) / two, Math.exp(1) / two, 0, 0}, p, 1e-12);
        // temperature 0: the arg-max of the penalised logits (token 0 falls to 1, token 1 stays 1: tie, first wins)
        p = new TokenSampler(new SamplingConfig(4, 0, 0, 1.0, 2.0, 1, -1)).distribution(z, new int[] {0}, 1);
        assertArrayEquals(new double[] {1, 0, 0, 0}, p, 1e-12);
    }

    @Test
    void firstTokensAreDrawnFromTheModelsSoftmax() {
        int k = 4000;
        CausalLmTeacher t = new CausalLmTeacher(llama, CHARS, "chars", k, new SamplingConfig(1, 1.0, 0, 1.0, 1.0, 3, -1), 9);
        int[] prompt = CHARS.apply("abc");
        List<SequenceSample> s = t.generate(manager, prompt, 0);
        float[] last = fullLogits(llama, prompt)[prompt.length - 1];
        double[] p = TestSoftmax.of(last);
        int[] count = new int[V];
        for (SequenceSample x : s) {
            assertEquals(1, x.length());
            count[x.tokens()[0]]++;
        }
        for (int i = 0; i < V; i++) {
            double sd = Math.sqrt(k * p[i] * (1 - p[i]));
            assertEquals(k * p[i], count[i], 5 * sd + 2, "token " + i);
        }
        // the recorded top-3 is the model's
        int[] ids = new int[3];
        float[] lp = new float[3];
        TokenSampler.topK(last, 3, ids, lp);
        assertArrayEquals(ids, java.util.Arrays.copyOf(s.get(0).topIds(), 3));
        assertEquals(Math.log(p[ids[0]]), s.get(0).topLogprobs()[0], 1e-5);
    }

    @Test
    void greedyRowsEqualTheTrainerModulesGreedyDecoding() {
        CausalLmTeacher t = new CausalLmTeacher(gpt2, CHARS, "chars", 2, new SamplingConfig(10, 0, 0, 1.0, 1.0, 4, -1), 1);
        int[] prompt = CHARS.apply("hello");
        List<SequenceSample> s = t.generate(manager, prompt, 0);
        int[] reference;
        try (NDManager sub = manager.newSubManager()) {
            reference = Generation.greedy(gpt2, sub, prompt, 10, -1);
        }
        assertArrayEquals(reference, s.get(0).tokens());
        assertArrayEquals(reference, s.get(1).tokens());
        for (int q = 0; q < reference.length; q++) {
            assertEquals(reference[q], s.get(0).topIds()[q * 4], "greedy takes the top-1");
        }
    }

    @Test
    void aRowStopsAtTheEndIdAndTheContextBoundsLength() {
        // temperature 0 with a huge penalty on nothing: force the end id by making it the only token kept
        CausalLmTeacher t = new CausalLmTeacher(llama, CHARS, "chars", 3, new SamplingConfig(100, 1.0, 0, 1.0, 1.0, 2,
                V - 1), 4);
        List<SequenceSample> s = t.generate(manager, CHARS.apply("xyz"), 2);
        for (SequenceSample x : s) {
            assertTrue(x.length() <= 48 - 4, "the context of 48 bounds prompt + response");
            for (int q = 0; q < x.length() - 1; q++) {
                assertTrue(x.tokens()[q] != V - 1, "the end id only comes last");
            }
        }
    }

    @Test
    void fillsAReproducibleResumableSequenceCache(@TempDir Path dir) {
        List<String> prompts = List.of("the cat", "a dog", "birds fly", "fish swim", "we go");
        SamplingConfig cfg = new SamplingConfig(6, 0.9, 20, 0.95, 1.2, 5, V - 1);
        long n = SequenceTeacherSampler.fill(new CausalLmTeacher(llama, CHARS, "chars", 3, cfg, 7), prompts,
                dir.resolve("a"), 2, SampleProgress.NONE);
        assertEquals(5, n);
        int[] calls = {0};
        assertThrows(IllegalStateException.class, () -> SequenceTeacherSampler.fill(new CausalLmTeacher(llama, CHARS,
                "chars", 3, cfg, 7), prompts, dir.resolve("b"), 2, (done, total) -> {
                    if (++calls[0] == 4) {
                        throw new IllegalStateException("interrupted");
                    }
                }));
        assertEquals(3, TeacherCache.open(dir.resolve("b")).manifest().items());
        SequenceTeacherSampler.fill(new CausalLmTeacher(llama, CHARS, "chars", 3, cfg, 7), prompts, dir.resolve("b"), 2,
                SampleProgress.NONE);
        try (SequenceCacheReader a = TeacherCache.open(dir.resolve("a")).sequence();
                SequenceCacheReader b = TeacherCache.open(dir.resolve("b")).sequence()) {
            for (int i = 0; i < 5; i++) {
                SequenceItem x = a.read(i);
                SequenceItem y = b.read(i);
                assertArrayEquals(CHARS.apply(prompts.get(i)), x.prompt());
                for (int j = 0; j < 3; j++) {
                    assertArrayEquals(x.samples().get(j).tokens(), y.samples().get(j).tokens(), "item " + i + " row " + j);
                    assertArrayEquals(x.samples().get(j).topLogprobs(), y.samples().get(j).topLogprobs());
                }
            }
        }
        // another tokenizer cannot continue the cache
        Function<String, int[]> other = s -> java.util.Arrays.stream(CHARS.apply(s)).map(id -> (id + 1) % V).toArray();
        BadInputException e = assertThrows(BadInputException.class, () -> SequenceTeacherSampler.fill(
                new CausalLmTeacher(llama, other, "chars", 3, cfg, 7), prompts, dir.resolve("a"), 2, SampleProgress.NONE));
        assertTrue(e.getMessage().contains("teacher.tokenizerFingerprint"), e.getMessage());
    }

    /** Double-precision softmax. */
    static final class TestSoftmax {
        static double[] of(float[] z) {
            double max = Double.NEGATIVE_INFINITY;
            for (float x : z) {
                max = Math.max(max, x);
            }
            double[] p = new double[z.length];
            double s = 0;
            for (int i = 0; i < z.length; i++) {
                p[i] = Math.exp(z[i] - max);
                s += p[i];
            }
            for (int i = 0; i < z.length; i++) {
                p[i] /= s;
            }
            return p;
        }
    }
}

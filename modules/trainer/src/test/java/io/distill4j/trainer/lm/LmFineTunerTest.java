package io.distill4j.trainer.lm;








import io.distill4j.models.lm.Fixtures;
import io.distill4j.models.lm.LmTokenizer;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.Generation;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.CausalLm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.distill4j.data.BadInputException;
import io.distill4j.trainer.LrSchedule;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.models.lm.io.HfFolder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Fine-tuning students end to end: SFT on answers only, token-level KD from a teacher, bad input. */
class LmFineTunerTest {
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static final String[][] QA = {
        {"Question: What is distillation?\nAnswer:", " A student imitates a teacher."},
        {"Question: Why sample the teacher several times?\nAnswer:", " Averaging lowers the noise."},
        {"Question: What does a causal model predict?\nAnswer:", " The next token."},
        {"Question: What keeps activations steady?\nAnswer:", " Layer normalisation."},
    };

    static CausalLm student(CausalLmConfig c, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        CausalLm m = new CausalLm(c);
        m.initialize(manager);
        return m;
    }

    /**
     * The engine settings these tests train with: cosine decay after a linear warm-up, AdamW with weight decay
     * 0.01, gradients clipped to norm 1, no progress bar.
     */
    static TrainingSpec spec(int epochs, int rows, double learningRate, int warmup, long seed) {
        return TrainingSpec.builder().setEpochs(epochs).setBatchSize(rows).setLearningRate((float) learningRate)
                .optSchedule(LrSchedule.Kind.COSINE, warmup).optWeightDecay(0.01f).optMaxGradNorm(1.0f).setSeed(seed)
                .optProgressBar(false).build();
    }

    /** Supervised fine-tuning on every example, rows of {@code context} tokens, packed. */
    static LmOptions sft(int context) {
        return LmOptions.of(LmOptions.Mode.SFT_ALL, null, context, true);
    }

    @Test
    void sftLearnsTheAnswersAndOnlyTheAnswers() {
        try (LmTokenizer tok = LmTokenizer.load(Fixtures.folder("gpt2-tiny").resolve("tokenizer.json"))) {
            int eos = 0; // <|endoftext|>
            List<LmExample> train = new ArrayList<>();
            List<LmExample> promptsAsAnswers = new ArrayList<>();
            for (String[] qa : QA) {
                int[] p = tok.encode(qa[0]);
                int[] a = tok.encodePlain(qa[1]);
                a = Arrays.copyOf(a, a.length + 1);
                a[a.length - 1] = eos;
                train.add(LmExample.of(p, a));
                promptsAsAnswers.add(LmExample.of(Arrays.copyOf(p, 1), Arrays.copyOfRange(p, 1, p.length)));
            }
            CausalLmConfig c = CausalLmConfig.builder(LmFamily.GPT2).vocabSize(tok.vocabSize()).hiddenSize(64)
                    .numLayers(2).numHeads(4).maxPositions(64).dropout(0).build();
            CausalLm m = student(c, 11);
            double promptBefore = LmFineTuner.evaluate(m, manager, promptsAsAnswers, 64, 0);
            LmFineTuner.Result r = LmFineTuner.train(m, manager, train, spec(120, 4, 3e-3, 5, 1), sft(64), null);
            assertEquals(120 * SequencePacker.layout(train, 64, 4, true, false).size(), r.steps());
            double answer = LmFineTuner.evaluate(m, manager, train, 64, 0);
            double prompt = LmFineTuner.evaluate(m, manager, promptsAsAnswers, 64, 0);
            assertTrue(answer < 0.05, "answer NLL per token after SFT: " + answer);
            // the prompts carried no loss: their NLL stays near its initial value, far above the answers'
            assertTrue(prompt > 0.5 * promptBefore && prompt > 2.0, "prompt NLL " + promptBefore + " -> " + prompt);
            for (int i = 0; i < QA.length; i++) {
                int[] got = Generation.greedy(m, manager, train.get(i).prompt(), 20, eos);
                assertArrayEquals(train.get(i).answer(), got, "greedy answer to '" + QA[i][0] + "' was '"
                        + tok.decode(got) + "'");
            }
        }
    }

    @Test
    void tokenLevelDistillationMatchesTheTeachersDistributions() {
        try (HfFolder.Loaded teacher = HfFolder.load(Fixtures.folder("llama-tiny"), manager)) {
            LmTokenizer tok = teacher.tokenizer();
            // cached responses: the teacher's own greedy continuations of short prompts
            String[] prompts = {"The student", "A teacher", "Rotary position", "Layer normalisation", "Hello world",
                "Question: Why", "Averaging k samples", "The next token"};
            List<LmExample> plain = new ArrayList<>();
            for (String p : prompts) {
                int[] ids = tok.encode(p);
                plain.add(LmExample.of(ids, Generation.greedy(teacher.model(), manager, ids, 6, -1)));
            }
            List<LmExample> cached = Generation.topK(teacher.model(), manager, plain, 8);
            CausalLmConfig c = CausalLmConfig.builder(LmFamily.LLAMA).vocabSize(tok.vocabSize()).hiddenSize(64)
                    .numLayers(2).numHeads(4).numKvHeads(2).intermediateSize(128).maxPositions(64).build();
            CausalLm s = student(c, 5);
            double before = LmFineTuner.evaluate(s, manager, cached, 64, 1);
            LmFineTuner.Result r = LmFineTuner.train(s, manager, cached, spec(100, 4, 3e-3, 10, 2),
                    LmOptions.of(LmOptions.Mode.TOKEN_KD, 1.0, 64, true), null);
            double after = LmFineTuner.evaluate(s, manager, cached, 64, 1);
            assertTrue(after < 0.15 * before, "top-K KL to the teacher " + before + " -> " + after);
            assertTrue(r.lastMean(10) < r.losses().get(0), "training loss must fall");
            // the student's top-1 agrees with the teacher's on the answer positions
            int agree = 0;
            int total = 0;
            for (LmExample e : cached) {
                for (int j = 0; j < e.answer().length; j++) {
                    int[] prefix = Arrays.copyOf(e.tokens(), e.prompt().length + j);
                    int next = Generation.greedy(s, manager, prefix, 1, -1)[0];
                    agree += next == e.teacher().ids()[j * 8] ? 1 : 0;
                    total++;
                }
            }
            assertTrue(agree >= 0.9 * total, "top-1 agreement " + agree + "/" + total);
        }
    }

    @Test
    void runsAreReproducibleFromTheSeed() {
        CausalLmConfig c = CausalLmConfig.builder(LmFamily.LLAMA).vocabSize(50).hiddenSize(32).numLayers(1)
                .numHeads(4).numKvHeads(2).intermediateSize(64).maxPositions(32).attnDropout(0.1).build();
        List<LmExample> ex = List.of(LmExample.of(new int[] {1, 2, 3}, new int[] {4, 5}),
                LmExample.of(new int[] {6, 7}, new int[] {8, 9, 10}), LmExample.of(new int[] {11}, new int[] {12}));
        TrainingSpec spec = spec(3, 1, 5e-4, 10, 9);
        LmOptions lm = LmOptions.of(LmOptions.Mode.SFT_ALL, null, 16, false);
        List<Double> a = LmFineTuner.train(student(c, 3), manager, ex, spec, lm, null).losses();
        List<Double> b = LmFineTuner.train(student(c, 3), manager, ex, spec, lm, null).losses();
        assertEquals(9, a.size());
        assertEquals(a, b);
    }

    @Test
    void badInputIsRejectedBeforeTraining() {
        CausalLmConfig c = CausalLmConfig.builder(LmFamily.GPT2).vocabSize(30).hiddenSize(16).numLayers(1)
                .numHeads(2).maxPositions(16).build();
        CausalLm m = student(c, 1);
        TrainingSpec spec = spec(3, 2, 5e-4, 10, 0);
        BadInputException e = assertThrows(BadInputException.class, () -> LmFineTuner.train(m, manager,
                List.of(LmExample.of(new int[] {1}, new int[] {2}), LmExample.of(new int[] {3}, new int[] {4, 31})),
                spec, sft(16), null));
        assertEquals("fine-tuning examples: example 1: field answer[1] = 31 is outside the model's vocabulary of 30 "
                + "(tokenizer and model differ?)", e.getMessage());
        e = assertThrows(BadInputException.class, () -> LmFineTuner.train(m, manager,
                List.of(LmExample.of(new int[] {1}, new int[] {2})), spec,
                LmOptions.of(LmOptions.Mode.TOKEN_KD, null, 16, true), null));
        assertTrue(e.getMessage().contains("example 0: field teacher top-K is missing"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> LmFineTuner.train(m, manager,
                List.of(LmExample.of(new int[] {1}, new int[] {2})), spec, sft(32), null));
        assertTrue(e.getMessage().contains("context 32 exceeds the model's 16 positions"), e.getMessage());
    }

    @Test
    void theRowLengthIsTheSetContextOrTheLongestExampleCutToTheModel() {
        assertEquals(16, sft(16).rowLength(40, 64));
        LmOptions fromData = LmOptions.of(LmOptions.Mode.SFT_ALL, null, 0, true);
        assertEquals(40, fromData.rowLength(40, 64));
        assertEquals(64, fromData.rowLength(90, 64));
        assertEquals(2, fromData.rowLength(1, 64));
    }
}

package io.distill4j.trainer.lm;







import io.distill4j.models.lm.Fixtures;
import io.distill4j.models.lm.LmTokenizer;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.CausalLm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.distill4j.data.BadInputException;
import io.distill4j.trainer.Checkpoint;
import io.distill4j.trainer.EarlyStopping;
import io.distill4j.trainer.TrainingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Causal-LM fine-tuning on the shared training engine: a resumed run continues the same run, gradient
 * accumulation equals the larger batch, early stopping on the validation loss, and a checkpoint of another
 * architecture is refused before training.
 */
class LmFineTunerEngineTest {
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static CausalLmConfig gpt2(int width, double dropout) {
        return CausalLmConfig.builder(LmFamily.GPT2).vocabSize(40).hiddenSize(width).numLayers(2).numHeads(4)
                .maxPositions(32).dropout(dropout).build();
    }

    static CausalLm student(CausalLmConfig c, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        CausalLm m = new CausalLm(c);
        m.initialize(manager);
        return m;
    }

    /** Examples of different lengths (so micro-batches hold different numbers of answer tokens). */
    static List<LmExample> examples(int n, long seed) {
        Random r = new Random(seed);
        List<LmExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] p = new int[2 + r.nextInt(4)];
            int[] a = new int[1 + r.nextInt(6)];
            for (int j = 0; j < p.length; j++) {
                p[j] = 1 + r.nextInt(39);
            }
            for (int j = 0; j < a.length; j++) {
                a[j] = 1 + r.nextInt(39);
            }
            out.add(LmExample.of(p, a));
        }
        return out;
    }

    static float[][] parameters(CausalLm m) {
        List<float[]> out = new ArrayList<>();
        for (Pair<String, Parameter> p : m.getParameters()) {
            out.add(p.getValue().getArray().toFloatArray());
        }
        return out.toArray(new float[0][]);
    }

    @Test
    void aResumedRunContinuesTheSameRun(@TempDir Path tmp) {
        List<LmExample> ex = examples(14, 1);
        // dropout on: the resumed half must also draw the same masks
        CausalLmConfig c = gpt2(32, 0.1);
        TrainingSpec cfg = LmFineTunerTest.spec(4, 2, 3e-3, 3, 7);
        LmOptions unpacked = LmOptions.of(LmOptions.Mode.SFT_ALL, null, 16, false);
        int perEpoch = new LmBatchSource(ex, 16, 2, false, false, 1).batchesPerEpoch();
        int n = perEpoch * 4;
        assertEquals(0, n % 2);
        List<Integer> stepsA = new ArrayList<>();
        CausalLm a = student(c, 3);
        LmFineTuner.Outcome straight = LmFineTuner.train(a, manager, ex,
                cfg.toBuilder().optCheckpoints(n / 2, tmp.resolve("a"), 0).build(), unpacked, List.of(), "lm",
                (step, loss, lr) -> stepsA.add(step));
        assertEquals(n, straight.result().steps());
        Path half = tmp.resolve("a").resolve(String.format("step-%09d", n / 2));
        assertTrue(Files.isDirectory(half), "checkpoint " + half);

        // a fresh model with other initial weights, and a fresh optimiser: everything comes from the checkpoint
        List<Integer> stepsB = new ArrayList<>();
        CausalLm b = student(c, 99);
        LmFineTuner.Outcome resumed = LmFineTuner.train(b, manager, ex, cfg.toBuilder()
                .optCheckpoints(n / 2, tmp.resolve("b"), 0).optResumeFrom(half).build(), unpacked, List.of(), "lm",
                (step, loss, lr) -> stepsB.add(step));
        assertEquals(n / 2, resumed.result().steps());
        assertEquals(n, resumed.training().steps());
        assertEquals(stepsA.subList(n / 2, n), stepsB);
        // same data, same dropout masks, same optimiser state: the same loss at every step, to the bit
        assertEquals(straight.result().losses().subList(n / 2, n), resumed.result().losses());
        float[][] pa = parameters(a);
        float[][] pb = parameters(b);
        for (int i = 0; i < pa.length; i++) {
            assertArrayEquals(pa[i], pb[i], 1e-6f, "parameter " + i);
        }
        // the second half saw the rows in the order the batch source promises
        LmBatchSource src = new LmBatchSource(ex, 16, 2, false, false, 1);
        assertFalse(java.util.Arrays.equals(src.order(7, 2), src.order(7, 3)), "epochs are shuffled differently");
    }

    @Test
    void aLoraStudentsCheckpointsHoldOnlyItsAdaptersAndResumeTheSameRun(@TempDir Path tmp) throws IOException {
        List<LmExample> ex = examples(10, 2);
        CausalLmConfig c = gpt2(32, 0);
        TrainingSpec cfg = LmFineTunerTest.spec(2, 2, 3e-3, 2, 7);
        LmOptions unpacked = LmOptions.of(LmOptions.Mode.SFT_ALL, null, 16, false);
        int n = new LmBatchSource(ex, 16, 2, false, false, 1).batchesPerEpoch() * 2;
        CausalLm a = student(c, 3);
        Engine.getInstance().setRandomSeed(11);
        io.distill4j.models.lm.Lora.attach(a, io.distill4j.models.lm.LoraConfig.of(2, 4, "q", "v"));
        List<String> trainable = new ArrayList<>();
        for (Pair<String, Parameter> p : a.getParameters()) {
            if (p.getValue().requiresGradient()) {
                trainable.add(p.getKey());
            }
        }
        assertTrue(!trainable.isEmpty() && trainable.stream().allMatch(k -> k.contains("lora")), trainable.toString());
        LmFineTuner.Outcome straight = LmFineTuner.train(a, manager, ex,
                cfg.toBuilder().optCheckpoints(n / 2, tmp.resolve("a"), 0).build(), unpacked, List.of(), "lm",
                (step, loss, lr) -> { });
        Path half = tmp.resolve("a").resolve(String.format("step-%09d", n / 2));
        // the checkpoint lists the adapters and nothing of the frozen base
        assertEquals(trainable, Checkpoint.storedParameters(half));
        assertTrue(a.getParameters().size() > trainable.size());
        long adapterBytes = 0;
        long allBytes = 0;
        for (Pair<String, Parameter> p : a.getParameters()) {
            long b = p.getValue().getArray().size() * 4;
            allBytes += b;
            adapterBytes += trainable.contains(p.getKey()) ? b : 0;
        }
        long stored = Files.size(half.resolve(Checkpoint.PARAMETERS));
        assertTrue(stored >= adapterBytes && stored < adapterBytes + (allBytes - adapterBytes) / 4,
                "parameters file " + stored + " bytes; adapters " + adapterBytes + ", the whole model " + allBytes);
        // the same base (seed 3) with other adapters: the checkpoint restores the adapters and the run goes on as before
        CausalLm b = student(c, 3);
        Engine.getInstance().setRandomSeed(99);
        io.distill4j.models.lm.Lora.attach(b, io.distill4j.models.lm.LoraConfig.of(2, 4, "q", "v"));
        LmFineTuner.Outcome resumed = LmFineTuner.train(b, manager, ex, cfg.toBuilder()
                .optCheckpoints(n / 2, tmp.resolve("b"), 0).optResumeFrom(half).build(), unpacked, List.of(), "lm",
                (step, loss, lr) -> { });
        assertEquals(straight.result().losses().subList(n / 2, n), resumed.result().losses());
        float[][] pa = parameters(a);
        float[][] pb = parameters(b);
        for (int i = 0; i < pa.length; i++) {
            assertArrayEquals(pa[i], pb[i], 1e-6f, "parameter " + i);
        }
    }

    @Test
    void accumulatingTwoHalfBatchesEqualsOneBatch() {
        List<LmExample> ex = examples(13, 2);
        CausalLmConfig c = gpt2(32, 0);
        TrainingSpec big = LmFineTunerTest.spec(2, 4, 3e-3, 2, 5);
        CausalLm a = student(c, 4);
        LmFineTuner.Result ra = LmFineTuner.train(a, manager, ex, big, LmFineTunerTest.sft(16), null);
        CausalLm b = student(c, 4);
        LmFineTuner.Result rb = LmFineTuner.train(b, manager, ex,
                big.toBuilder().setBatchSize(2).optAccumulationSteps(2).build(), LmFineTunerTest.sft(16), null);
        assertEquals(ra.steps(), rb.steps());
        assertEquals(ra.answerTokens(), rb.answerTokens());
        for (int s = 0; s < ra.steps(); s++) {
            assertEquals(ra.losses().get(s), rb.losses().get(s), 2e-5, "loss of step " + s);
        }
        float[][] pa = parameters(a);
        float[][] pb = parameters(b);
        for (int i = 0; i < pa.length; i++) {
            assertArrayEquals(pa[i], pb[i], 2e-5f, "parameter " + i);
        }
        // and without the group normaliser it would not be: the micro-batches hold different token counts
        LmBatchSource src = new LmBatchSource(ex, 16, 2, true, false, 2);
        long t0 = src.layout(5, 0, 0).answerTokens();
        long t1 = src.layout(5, 0, 1).answerTokens();
        assertTrue(t0 != t1, "test data must give micro-batches of unequal answer tokens: " + t0 + ", " + t1);
    }

    @Test
    void earlyStoppingOnTheValidationLossRestoresTheBestParameters() {
        // the validation set asks for other answers to the same prompts: fitting the training answers
        // first lowers its loss (common tokens), then raises it
        List<LmExample> train = examples(8, 3);
        List<LmExample> val = new ArrayList<>();
        Random r = new Random(4);
        for (LmExample e : train) {
            int[] other = new int[e.answer().length];
            for (int j = 0; j < other.length; j++) {
                other[j] = 1 + r.nextInt(39);
            }
            val.add(LmExample.of(e.prompt(), other));
        }
        CausalLm m = student(gpt2(32, 0), 6);
        TrainingSpec cfg = LmFineTunerTest.spec(200, 4, 1e-2, 0, 2).toBuilder().optValidateEvery(2)
                .optEarlyStopping(new EarlyStopping(false, 3, 0, true)).build();
        LmFineTuner.Outcome o = LmFineTuner.train(m, manager, train, cfg, LmFineTunerTest.sft(16), val, "lm", null);
        int perEpoch = new LmBatchSource(train, 16, 4, true, false, 1).batchesPerEpoch();
        assertTrue(o.training().stoppedEarly(), "stopped early: " + o.training());
        assertTrue(o.training().steps() < 200L * perEpoch, "steps " + o.training().steps());
        assertTrue(o.training().restoredBest());
        double best = o.training().validations().stream().mapToDouble(d -> d).min().orElseThrow();
        assertEquals(best, o.training().bestMetric(), 0);
        // the model now holds the parameters of the best validation
        assertEquals(best, LmFineTuner.evaluate(m, manager, val, 16, 0), 1e-5);
        List<Double> v = o.training().validations();
        assertTrue(v.get(v.size() - 1) > best, "the last validations were worse: " + v);
    }

    @Test
    void aCheckpointOfAnotherArchitectureIsRefusedBeforeTraining(@TempDir Path tmp) throws IOException {
        List<LmExample> ex = examples(4, 5);
        TrainingSpec cfg = LmFineTunerTest.spec(1, 2, 5e-4, 10, 0);
        LmOptions lm = LmFineTunerTest.sft(16);
        LmFineTuner.train(student(gpt2(32, 0), 1), manager, ex,
                cfg.toBuilder().optCheckpoints(1, tmp.resolve("ck"), 0).build(), lm, null);
        TrainingSpec resume = cfg.toBuilder().optResumeFrom(Checkpoint.latest(tmp.resolve("ck")).orElseThrow()).build();
        Path ckpt = Checkpoint.latest(tmp.resolve("ck")).orElseThrow();
        CausalLm wider = student(gpt2(64, 0), 1);
        float[] before = wider.getParameters().get(0).getValue().getArray().toFloatArray();
        BadInputException e = assertThrows(BadInputException.class, () -> LmFineTuner.train(wider, manager, ex, resume,
                lm, null));
        assertEquals(tmp.resolve("ck").resolve(LmFineTuner.ARCHITECTURE).toAbsolutePath() + ": checkpoint of another "
                + "architecture: field n_embd is 32 in the checkpoint and 64 in the model " + wider, e.getMessage());
        assertArrayEquals(before, wider.getParameters().get(0).getValue().getArray().toFloatArray(), 0f);
        // without the architecture file, the engine's parameter-by-parameter check names the parameter
        Files.delete(tmp.resolve("ck").resolve(LmFineTuner.ARCHITECTURE));
        e = assertThrows(BadInputException.class, () -> LmFineTuner.train(wider, manager, ex, resume, lm, null));
        assertTrue(e.getMessage().startsWith(ckpt + ": checkpoint of another architecture: parameter 0 is 'wte (40, 32)"),
                e.getMessage());
        // another family
        CausalLm llama = student(CausalLmConfig.builder(LmFamily.LLAMA).vocabSize(40).hiddenSize(32).numLayers(2)
                .numHeads(4).numKvHeads(2).intermediateSize(64).maxPositions(32).build(), 1);
        e = assertThrows(BadInputException.class, () -> LmFineTuner.train(llama, manager, ex, resume, lm, null));
        assertTrue(e.getMessage().contains("checkpoint of another architecture"), e.getMessage());
    }

    @Test
    void aRunLeavesNoArraysBehind(@TempDir Path tmp) {
        List<LmExample> ex = examples(10, 6);
        CausalLm m = student(gpt2(32, 0.1), 2);
        TrainingSpec cfg = LmFineTunerTest.spec(2, 2, 5e-4, 10, 0).toBuilder().optAccumulationSteps(2)
                .optCheckpoints(2, tmp.resolve("ck"), 1).optValidateEvery(1)
                .optEarlyStopping(new EarlyStopping(false, 100, 0, true)).optProgressBar(true).optLogEvery(1).build();
        List<LmExample> val = examples(3, 7);
        LmOptions lm = LmFineTunerTest.sft(16);
        BaseNDManager base = (BaseNDManager) manager;
        LmFineTuner.train(m, manager, ex, cfg, lm, val, "lm", null); // the first run caches the model's masks
        int after1 = base.getManagedArrays().size();
        LmFineTuner.train(m, manager, ex, cfg.toBuilder().setSeed(3).optCheckpoints(2, tmp.resolve("ck2"), 1).build(),
                lm, val, "lm", null);
        LmFineTuner.train(m, manager, ex, cfg.toBuilder().setSeed(4).optCheckpoints(2, tmp.resolve("ck3"), 1).build(),
                lm, val, "lm", null);
        assertEquals(after1, base.getManagedArrays().size(), "arrays left in the model's manager");
    }

    @Test
    void theTokenizersVocabularyMustFitTheModel() {
        try (LmTokenizer tok = LmTokenizer.load(Fixtures.folder("gpt2-tiny").resolve("tokenizer.json"))) {
            int v = tok.vocabSize();
            tok.checkFits(v, "models/x.yaml");
            tok.checkFits(v + 10, "models/x.yaml");
            BadInputException e = assertThrows(BadInputException.class, () -> tok.checkFits(v - 1, "models/x.yaml"));
            assertEquals(tok.file() + ": tokenizer vocabulary of " + v + " ids does not match models/x.yaml: vocab_size "
                    + (v - 1) + " (ids up to " + (v - 1) + " would index past the embedding)", e.getMessage());
        }
    }

    @Test
    void optionsThatCannotWorkAreRefused() {
        List<LmExample> ex = examples(2, 1);
        TrainingSpec cfg = LmFineTunerTest.spec(3, 2, 5e-4, 10, 0);
        LmOptions lm = LmFineTunerTest.sft(16);
        TrainingSpec stopping = cfg.toBuilder().optEarlyStopping(new EarlyStopping(false, 2, 0, true)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LmFineTuner.train(
                student(gpt2(32, 0), 1), manager, ex, stopping, lm, List.of(), "lm", null));
        assertTrue(e.getMessage().contains("early stopping needs validation examples"), e.getMessage());
        TrainingSpec higher = cfg.toBuilder().optEarlyStopping(new EarlyStopping(true, 2, 0, true)).build();
        e = assertThrows(IllegalArgumentException.class, () -> LmFineTuner.train(student(gpt2(32, 0), 1), manager, ex,
                higher, lm, examples(1, 1), "lm", null));
        assertTrue(e.getMessage().contains("validation loss"), e.getMessage());
        BadInputException b = assertThrows(BadInputException.class, () -> LmFineTuner.train(student(gpt2(32, 0), 1),
                manager, ex, cfg, lm, List.of(LmExample.of(new int[] {1}, new int[] {40})), "lm", null));
        assertEquals("validation examples: example 0: field answer[0] = 40 is outside the model's vocabulary of 40 "
                + "(tokenizer and model differ?)", b.getMessage());
    }
}

package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill4j train} with causal-LM students: a sequence cache sampled once from the tiny Llama fixture, students
 * from {@code models/llama-tiny.yaml} (vocabulary, context and EOS from the teacher), saved as Hugging Face folders;
 * students and caches of the wrong kind refused in one line.
 */
class LmTrainTest {
    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));
    static final Path TEACHER = HOME.resolve("modules/models/src/test/resources/lm/llama-tiny").toAbsolutePath();

    @TempDir
    static Path shared;
    static Path sample;
    static List<SequenceItem> items;

    @BeforeAll
    static void sampleOnce() throws IOException {
        Path prompts = shared.resolve("prompts.txt");
        Files.writeString(prompts, "hello world\nthe cat sat\non the mat\nwhere is it\nred and blue\n");
        sample = shared.resolve("qa.yaml");
        Files.writeString(sample, "cache: cache\nk: 4\nseed: 3\nprompts: {file: prompts.txt}\n"
                + "teacher: {type: lm, folder: " + TEACHER + ", maxTokens: 6, topLogprobs: 4, temperature: 1.0}\n");
        SampleJob.run(SampleSpec.load(sample), Device.cpu(), (d, n) -> { }, l -> { });
        try (SequenceCacheReader r = TeacherCache.open(shared.resolve("cache")).sequence()) {
            items = new ArrayList<>();
            for (long i = 0; i < r.items(); i++) {
                items.add(r.read(i));
            }
        }
    }

    static Path trainConfig(Path dir, String student, String extra) throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve("train.yaml");
        Files.writeString(f, "sample: " + sample + "\nstudent: " + student + "\nout: runs\nstudents: 2\n" + extra
                + "training: {epochs: 2, batchSize: 4, learningRate: 0.003, warmupSteps: 1}\n");
        return f;
    }

    @Test
    void tokenKdStudentsTakeTheTeachersVocabularyAndAreSavedAsHuggingFaceFolders(@TempDir Path dir) throws IOException {
        Path preset = HOME.resolve("models/llama-tiny.yaml").toAbsolutePath();
        RunResult r = TrainJob.run(trainConfig(dir, preset.toString(), "draws: per-student\nlm: {mode: token-kd, alpha: 0.5, "
                + "heldOut: 0.4}\n"));
        assertEquals(2, r.students());
        int longest = 0;
        for (SequenceItem it : items) {
            for (var s : it.samples()) {
                longest = Math.max(longest, it.prompt().length + s.length());
            }
        }
        JsonNode teacher = new ObjectMapper().readTree(TEACHER.resolve("config.json").toFile());
        for (long seed : List.of(1L, 2L)) {
            Path student = r.runDir().resolve("students/seed-" + seed);
            JsonNode cfg = new ObjectMapper().readTree(student.resolve("config.json").toFile());
            assertEquals(teacher.get("vocab_size").asInt(), cfg.get("vocab_size").asInt(), "vocabulary from the cache");
            assertEquals(teacher.get("eos_token_id").asInt(), cfg.get("eos_token_id").asInt(), "EOS from the teacher");
            assertEquals(teacher.get("bos_token_id").asInt(), cfg.get("bos_token_id").asInt(), "BOS from the teacher");
            assertEquals(longest, cfg.get("max_position_embeddings").asInt(), "context: longest prompt + response");
            assertEquals(32, cfg.get("hidden_size").asInt(), "the preset's own keys");
            assertArrayEquals(Files.readAllBytes(TEACHER.resolve("tokenizer.json")),
                    Files.readAllBytes(student.resolve("tokenizer.json")));
            JsonNode metrics = new ObjectMapper().readTree(student.resolve("metrics.json").toFile()).get("metrics");
            double nll = metrics.get("nll").asDouble();
            assertEquals(Math.exp(nll), metrics.get("perplexity").asDouble(), 1e-9 * Math.exp(nll));
            assertTrue(metrics.get("top-k-kl").asDouble() >= 0);
            // the held-out NLL recomputed from the saved folder with a plain double log-softmax: the last 2 of 5
            // prompts (heldOut 0.4), all 4 teacher answers of each
            assertEquals(referenceNll(student, items.subList(3, 5), 0, 4), nll, 1e-4);
        }
        String card = Files.readString(r.runDir().resolve("model-card.md"));
        assertTrue(card.contains("- mode: token-kd\n- alpha: 0.5") && card.contains("perplexity")
                && card.contains("Results on the held-out prompts") && card.contains("as Hugging Face folders")
                && !card.contains("target: null"), card);
    }

    @Test
    void onPolicyLoraStudentsTrainOnlyAdaptersAndSaveTheMergedModelWithAPeftAdapter(@TempDir Path dir) throws IOException {
        Path preset = HOME.resolve("models/llama-tiny.yaml").toAbsolutePath();
        RunResult r = TrainJob.run(trainConfig(dir, preset.toString(), "draws: shared\n"
                + "lm: {mode: on-policy, lmbda: 1.0, beta: 0.5, continuations: 2, varianceEps: 0.001, maxNewTokens: 4,"
                + " temperature: 1.0, heldOut: 0.4}\nlora: {rank: 4, alpha: 8, targets: [q, v, mlp]}\n"));
        assertEquals(2, r.students());
        for (long seed : List.of(1L, 2L)) {
            Path student = r.runDir().resolve("students/seed-" + seed);
            Path base = student.resolve("base");
            Path adapter = student.resolve("adapter");
            JsonNode ac = new ObjectMapper().readTree(adapter.resolve("adapter_config.json").toFile());
            assertEquals(4, ac.get("r").asInt());
            assertEquals("../base", ac.get("base_model_name_or_path").asText());
            assertTrue(Files.exists(adapter.resolve("adapter_model.safetensors")));
            long[] ids = {items.get(0).prompt()[0], 5, 9, 17, 3};
            try (NDManager m = NDManager.newBaseManager(Device.cpu()); HfFolder.Loaded merged = HfFolder.load(student, m);
                    HfFolder.Loaded frozen = HfFolder.load(base, m)) {
                // the base is the preset's initial weights for this seed, untouched by training
                ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
                io.distill4j.models.lm.CausalLm fresh = new io.distill4j.models.lm.CausalLm(frozen.model().config());
                fresh.initialize(m);
                for (var e : fresh.namedParameters().entrySet()) {
                    assertArrayEquals(e.getValue().getArray().toFloatArray(),
                            frozen.model().namedParameters().get(e.getKey()).getArray().toFloatArray(), 0f, e.getKey());
                }
                float[] before = logits(m, frozen.model(), ids);
                io.distill4j.models.lm.io.PeftAdapter.load(frozen.model(), adapter);
                float[] adapted = logits(m, frozen.model(), ids);
                float[] folded = logits(m, merged.model(), ids);
                double moved = 0;
                for (int i = 0; i < adapted.length; i++) {
                    assertEquals(adapted[i], folded[i], 1e-4, "merged folder vs base + peft adapter, logit " + i);
                    moved = Math.max(moved, Math.abs(adapted[i] - before[i]));
                }
                assertTrue(moved > 1e-3, "training left the adapters at zero: largest logit change " + moved);
            }
            JsonNode metrics = new ObjectMapper().readTree(student.resolve("metrics.json").toFile()).get("metrics");
            assertEquals(referenceNll(student, items.subList(3, 5), 0, 4), metrics.get("nll").asDouble(), 1e-4);
        }
        String card = Files.readString(r.runDir().resolve("model-card.md"));
        assertTrue(card.contains("- mode: on-policy\n- lmbda: 1.0") && card.contains("- lora: rank 4, alpha 8.0"), card);
    }

    static float[] logits(NDManager m, io.distill4j.models.lm.CausalLm model, long[] ids) {
        return model.logits(new ParameterStore(m, false), m.create(new long[][] {ids}), null, null, false).toFloatArray();
    }

    @Test
    void onPolicyAndLoraSettingsAreCheckedInOneLine(@TempDir Path dir) throws IOException {
        String llama = "{model_type: llama, hidden_size: 32, num_attention_heads: 4}";
        Path a = trainConfig(dir.resolve("a"), llama, "lm: {mode: token-kd, lmbda: 0.5}\n");
        BadInputException e = assertThrows(BadInputException.class, () -> TrainJob.prepare(a));
        assertTrue(e.getMessage().contains("field lm: lmbda applies to mode on-policy only"), e.getMessage());
        Path b = trainConfig(dir.resolve("b"), llama, "lm: {mode: on-policy, beta: 1.5}\n");
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(b));
        assertTrue(e.getMessage().contains("field lm: beta must be in [0, 1], got 1.5"), e.getMessage());
        Path c = trainConfig(dir.resolve("c"), llama, "lora: {rank: 0, alpha: 8, targets: [q]}\n");
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(c));
        assertTrue(e.getMessage().startsWith(c.toString()) && e.getMessage().contains("lora")
                && e.getMessage().contains("LoRA rank must be positive, got 0"), e.getMessage());
        Path d = trainConfig(dir.resolve("d"), llama, "lora: {rank: 4, alpha: 8, targets: [q], scale: 2}\n");
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(d));
        assertTrue(e.getMessage().contains("scale"), e.getMessage());
        assertEquals(2, exitCode(c));
        // a server teacher scores the continuations through its API: HttpOnPolicyTrainTest
    }

    /** Mean negative log-likelihood per answer token, teacher forcing, in double precision from the raw logits. */
    static double referenceNll(Path folder, List<SequenceItem> test, int first, int count) {
        double sum = 0;
        long n = 0;
        try (NDManager m = NDManager.newBaseManager(Device.cpu()); HfFolder.Loaded l = HfFolder.load(folder, m)) {
            for (SequenceItem it : test) {
                for (int j = first; j < first + count; j++) {
                    int[] answer = it.samples().get(j).tokens();
                    int p = it.prompt().length;
                    long[] ids = new long[p + answer.length];
                    for (int i = 0; i < p; i++) {
                        ids[i] = it.prompt()[i];
                    }
                    for (int i = 0; i < answer.length; i++) {
                        ids[p + i] = answer[i];
                    }
                    NDArray z = l.model().logits(new ParameterStore(m, false), m.create(new long[][] {ids}), null, null, false);
                    float[] logits = z.toFloatArray();
                    int v = (int) z.getShape().get(2);
                    for (int i = 0; i < answer.length; i++) {
                        int row = (p - 1 + i) * v;
                        double max = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < v; c++) {
                            max = Math.max(max, logits[row + c]);
                        }
                        double s = 0;
                        for (int c = 0; c < v; c++) {
                            s += Math.exp(logits[row + c] - max);
                        }
                        sum += max + Math.log(s) - logits[row + answer[i]];
                        n++;
                    }
                }
            }
        }
        return sum / n;
    }

    @Test
    void anMlpStudentOnASequenceCacheIsRefusedInOneLineWithExit2(@TempDir Path dir) throws IOException {
        Path f = trainConfig(dir, "{model_type: mlp, hidden: [8]}", "");
        BadInputException e = assertThrows(BadInputException.class, () -> TrainJob.prepare(f));
        assertTrue(e.getMessage().startsWith(f + ":2:") && e.getMessage().contains("field student: model_type mlp learns"
                + " from a dense cache") && e.getMessage().contains("(teacher.type lm)"), e.getMessage());
        assertEquals(2, exitCode(f));
    }

    @Test
    void anLmStudentOnADenseJobIsRefused(@TempDir Path dir) throws IOException {
        Path dense = TrainJobTest.sampleConfig(dir.resolve("iris"), "iris", 0.2, "mc-dropout",
                "  model: {hidden: [16], dropout: 0.2}\n");
        Path f = dir.resolve("train.yaml");
        Files.writeString(f, "sample: " + dense + "\nstudent: " + HOME.resolve("models/llama-tiny.yaml").toAbsolutePath()
                + "\n");
        BadInputException e = assertThrows(BadInputException.class, () -> TrainJob.prepare(f));
        assertTrue(e.getMessage().contains("field student: a causal-LM student (model_type llama) learns from a"
                + " language-model sample job") && e.getMessage().contains("(teacher.type mc-dropout) writes a dense cache"),
                e.getMessage());
    }

    @Test
    void aPresetWhoseVocabularyDoesNotFitTheTeacherIsRefusedBeforeTraining(@TempDir Path dir) throws IOException {
        Path f = trainConfig(dir, "{model_type: gpt2, vocab_size: 300, n_embd: 16, n_layer: 1, n_head: 2}", "");
        assertEquals(2, exitCode(f));
        BadInputException e = assertThrows(BadInputException.class, () -> TrainJob.run(f));
        assertTrue(e.getMessage().contains("vocab_size 300 does not match the teacher's vocabulary of 200 ids"),
                e.getMessage());
        assertTrue(!Files.exists(dir.resolve("runs")) || noStudents(dir.resolve("runs")), "nothing trained");
        Path g = trainConfig(dir.resolve("g"), "{model_type: llama, hidden_size: 32, num_attention_heads: 4}",
                "lm: {mode: sft-all, alpha: 0.5}\n");
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(g));
        assertTrue(e.getMessage().contains("field lm: alpha mixes the top-K KL with cross-entropy in mode token-kd only"),
                e.getMessage());
        Path h = trainConfig(dir.resolve("h"), "{model_type: llama, hidden_size: 32, num_attention_heads: 4}",
                "loss: soft-ce\n");
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(h));
        assertTrue(e.getMessage().contains("field loss: does not apply to causal-LM students"), e.getMessage());
        Path i = trainConfig(dir.resolve("i"), "{model_type: llama, hidden_size: 32, num_heads: 4}", "");
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(i));
        assertTrue(e.getMessage().contains("field student.num_heads: unknown key for model_type llama"), e.getMessage());
    }

    static boolean noStudents(Path runs) {
        try (var s = Files.walk(runs)) {
            return s.noneMatch(p -> p.getFileName().toString().equals("model.safetensors"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static int exitCode(Path config) {
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            return Main.run("train", config.toString());
        } finally {
            System.setErr(err);
        }
    }

    @Test
    void theHttpExamplesParseAndSampleHelpNamesEveryTeacherTypeAndItsExample(@TempDir Path dir) throws IOException {
        Path examples = HOME.resolve("modules/teacher/examples").toAbsolutePath();
        SampleSpec llama = SampleSpec.load(examples.resolve("qa-llama-server.yaml"));
        assertEquals("http://127.0.0.1:8080", llama.sequence().http().baseUri().toString());
        SampleSpec vllm = SampleSpec.load(examples.resolve("vllm-api-key.yaml"));
        assertEquals("VLLM_API_KEY", vllm.sequence().http().auth().apiKeyEnv());
        // the train example with its tokenizer pointed at a real file binds every key
        String train = Files.readString(HOME.resolve("modules/cli/examples/train-qa-llama.yaml"))
                .replace("../../teacher/examples/qa-llama-server.yaml", examples.resolve("qa-llama-server.yaml").toString())
                .replace("../../../models/llama-tiny.yaml", HOME.resolve("models/llama-tiny.yaml").toAbsolutePath().toString())
                .replace("../../../runs/teacher-hf/tokenizer.json", TEACHER.resolve("tokenizer.json").toString())
                .replace("../../../runs/train-qa", dir.resolve("runs").toString());
        Path f = dir.resolve("train-qa-llama.yaml");
        Files.writeString(f, train);
        TrainJob.Prepared p = TrainJob.prepare(f);
        assertEquals(List.of(1L, 2L, 3L), p.run().seeds());
        assertEquals(4, p.run().samplesPerStudent(), "draws: shared gives every student all k = 4 answers");
        java.io.StringWriter help = new java.io.StringWriter();
        new picocli.CommandLine(new SampleCommand()).usage(new java.io.PrintWriter(help));
        for (String type : SampleSpec.TYPES) {
            assertTrue(help.toString().contains("  " + type + " "), type + " in\n" + help);
        }
        for (String type : SampleSpec.SEQUENCE_TYPES) {
            assertTrue(help.toString().contains("  " + type + " "), type + " in\n" + help);
        }
        try (var files = Files.list(examples)) {
            for (Path e : (Iterable<Path>) files.filter(x -> x.toString().endsWith(".yaml"))::iterator) {
                assertTrue(help.toString().contains(e.getFileName().toString()), e.getFileName() + " in\n" + help);
            }
        }
    }

    @Test
    void meanEmbeddingSelectionTrainsOnTheAnswerNearestTheMeanAndInverseVarianceRuns(@TempDir Path dir)
            throws IOException {
        Path preset = HOME.resolve("models/llama-tiny.yaml").toAbsolutePath();
        RunResult r = TrainJob.run(trainConfig(dir, preset.toString(), "draws: shared\nlm: {mode: sft-mean, heldOut: 0.2}\n"
                .replace("students: 2", "")));
        io.distill4j.models.lm.SentenceEmbedder emb = io.distill4j.models.lm.SentenceEmbedder.load();
        int[] expected = new int[4];
        try (io.distill4j.models.lm.LmTokenizer tok = io.distill4j.models.lm.LmTokenizer.load(TEACHER.resolve("tokenizer.json"))) {
            for (int q = 0; q < 4; q++) {
                double[][] e = new double[4][];
                for (int j = 0; j < 4; j++) {
                    e[j] = emb.embed(tok.decode(items.get(q).samples().get(j).tokens()));
                }
                expected[q] = io.distill4j.models.lm.AnswerSelection.meanSelection(e);
            }
        }
        for (long seed : List.of(1L, 2L)) {
            JsonNode picked = new ObjectMapper().readTree(r.runDir().resolve("students/seed-" + seed
                    + "/selected-answers.json").toFile());
            assertEquals(4, picked.size(), "4 training prompts after 1 held out");
            for (int q = 0; q < 4; q++) {
                assertEquals(expected[q], picked.get(q).asInt(), "prompt " + q);
            }
        }
        RunResult iv = TrainJob.run(trainConfig(dir.resolve("iv"), preset.toString(),
                "draws: shared\nlm: {mode: sft-inverse-variance, heldOut: 0.2}\n"));
        JsonNode picked = new ObjectMapper().readTree(iv.runDir().resolve("students/seed-1/selected-answers.json").toFile());
        for (JsonNode p : picked) {
            assertTrue(p.asInt() >= 0 && p.asInt() < 4);
        }
        assertTrue(Files.readString(iv.runDir().resolve("model-card.md")).contains("sft-inverse-variance"));
    }

    @Test
    void aHuggingFaceFolderStudentStartsFromItsWeightsAndKeepsItsArchitecture(@TempDir Path dir) throws IOException {
        RunResult r = TrainJob.run(rewrite(trainConfig(dir, TEACHER.toString(), "lm: {mode: sft-one, heldOut: 0.2}\n")));
        JsonNode cfg = new ObjectMapper().readTree(r.runDir().resolve("students/seed-1/config.json").toFile());
        JsonNode teacher = new ObjectMapper().readTree(TEACHER.resolve("config.json").toFile());
        assertEquals(teacher.get("max_position_embeddings").asInt(), cfg.get("max_position_embeddings").asInt(),
                "the folder's own context, not the cache's longest example");
        assertTrue(Files.readString(r.runDir().resolve("model-card.json")).contains(TEACHER.toString()),
                "the card names the initial weights");
        // one epoch of sft-one at a small rate moves the weights only a little away from the folder's
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
                HfFolder.Loaded start = HfFolder.load(TEACHER, m);
                HfFolder.Loaded end = HfFolder.load(r.runDir().resolve("students/seed-1"), m)) {
            float[] a = start.model().namedParameters().get("model.norm.weight").getArray().toFloatArray();
            float[] b = end.model().namedParameters().get("model.norm.weight").getArray().toFloatArray();
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            assertTrue(diff > 0 && diff < 0.1, "max change " + diff);
        }
    }

    /** One student, one epoch, a small rate. */
    static Path rewrite(Path f) throws IOException {
        Files.writeString(f, Files.readString(f).replace("students: 2", "students: 1")
                .replace("epochs: 2", "epochs: 1").replace("learningRate: 0.003", "learningRate: 0.001")
                .replace("warmupSteps: 1", "warmupSteps: 0"));
        return f;
    }
}

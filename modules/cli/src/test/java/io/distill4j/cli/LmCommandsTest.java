package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.models.lm.Generation;
import io.distill4j.models.lm.SentenceEmbedder;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.teacher.lm.SamplingConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill4j generate} and {@code distill4j evaluate} on the tiny committed Llama fixture. */
class LmCommandsTest {
    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));
    static final Path MODEL = HOME.resolve("modules/models/src/test/resources/lm/llama-tiny").toAbsolutePath();

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void greedyGenerationEqualsAFullRecomputeWithoutTheKvCache(@TempDir Path dir) throws IOException {
        Path prompts = dir.resolve("p.txt");
        Files.writeString(prompts, "hello world\nthe cat sat\n");
        Path out = dir.resolve("out.jsonl");
        Run r = run("generate", MODEL.toString(), "--prompts", prompts.toString(), "--max-tokens", "7", "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(2, lines.size());
        try (NDManager m = NDManager.newBaseManager(Device.cpu()); HfFolder.Loaded l = HfFolder.load(MODEL, m)) {
            for (int q = 0; q < 2; q++) {
                JsonNode row = new ObjectMapper().readTree(lines.get(q));
                String prompt = List.of("hello world", "the cat sat").get(q);
                assertEquals(prompt, row.get("prompt").asText());
                int[] ids = Generation.sample(l.model(), m, l.tokenizer().encode(prompt), 7,
                        l.model().config().eosTokenId(), 0, 0, null, false);
                assertEquals(l.tokenizer().decode(ids), row.get("text").asText());
            }
        }
        Run one = run("generate", MODEL.toString(), "--prompt", "hello world", "--max-tokens", "7");
        assertEquals(new ObjectMapper().readTree(lines.get(0)).get("text").asText() + "\n", one.out());
        Run sampled = run("generate", MODEL.toString(), "--prompt", "hello world", "--temperature", "0.9", "--top-p", "0.9",
                "--top-k", "20", "--repetition-penalty", "1.2", "-n", "3", "--seed", "5", "--max-tokens", "5");
        assertEquals(0, sampled.code(), sampled.err());
        assertEquals(3, sampled.out().lines().count());
        assertEquals(sampled.out(), run("generate", MODEL.toString(), "--prompt", "hello world", "--temperature", "0.9",
                "--top-p", "0.9", "--top-k", "20", "--repetition-penalty", "1.2", "-n", "3", "--seed", "5",
                "--max-tokens", "5").out(), "seeded: the same continuations again");
        Run bad = run("generate", MODEL.toString(), "--prompt", "x", "--top-p", "1.5");
        assertEquals(2, bad.code());
        assertEquals("distill4j: error: generate: --top-p must be in (0, 1], got 1.5", bad.err().strip());
    }

    @Test
    void evaluateReportsTheNllOfTheReferenceAnswers(@TempDir Path dir) throws IOException {
        Path pairs = dir.resolve("pairs.jsonl");
        Files.writeString(pairs, "{\"prompt\": \"hello world\", \"answer\": \" the cat\"}\n"
                + "{\"prompt\": \"on the mat\", \"answer\": \" where is it\"}\n");
        Path out = dir.resolve("eval.json");
        Run r = run("evaluate", MODEL.toString(), MODEL.toString(), "--pairs", pairs.toString(), "--no-similarity",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode res = new ObjectMapper().readTree(out.toFile());
        double expected = 0;
        long tokens = 0;
        try (NDManager m = NDManager.newBaseManager(Device.cpu()); HfFolder.Loaded l = HfFolder.load(MODEL, m)) {
            double[] sumAndCount = new double[2];
            for (String[] p : List.of(new String[] {"hello world", " the cat"}, new String[] {"on the mat", " where is it"})) {
                int[] prompt = l.tokenizer().encode(p[0]);
                int[] answer = l.tokenizer().encodePlain(p[1]);
                double[] s = nll(l, m, prompt, answer);
                sumAndCount[0] += s[0];
                sumAndCount[1] += s[1];
            }
            expected = sumAndCount[0] / sumAndCount[1];
            tokens = (long) sumAndCount[1];
        }
        assertTrue(tokens >= 4);
        double nll = res.get("summary").get("nll").get("mean").asDouble();
        assertEquals(expected, nll, 1e-4);
        assertEquals(Math.exp(nll), res.get("summary").get("perplexity").get("mean").asDouble(), 1e-6 * Math.exp(nll));
        assertEquals(0, res.get("summary").get("nll").get("halfWidth").asDouble(), 1e-12, "the same model twice");
        assertTrue(r.out().contains("| nll |"), r.out());
        Run bad = run("evaluate", MODEL.toString(), "--pairs", dir.resolve("none.jsonl").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().strip().endsWith("none.jsonl: no such file"), bad.err());
    }

    /** Summed NLL and token count of an answer, from the raw logits in double precision. */
    static double[] nll(HfFolder.Loaded l, NDManager m, int[] prompt, int[] answer) {
        long[] ids = new long[prompt.length + answer.length];
        for (int i = 0; i < prompt.length; i++) {
            ids[i] = prompt[i];
        }
        for (int i = 0; i < answer.length; i++) {
            ids[prompt.length + i] = answer[i];
        }
        var z = l.model().logits(new ai.djl.training.ParameterStore(m, false), m.create(new long[][] {ids}), null, null,
                false);
        float[] logits = z.toFloatArray();
        int v = (int) z.getShape().get(2);
        double sum = 0;
        for (int i = 0; i < answer.length; i++) {
            int row = (prompt.length - 1 + i) * v;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < v; c++) {
                max = Math.max(max, logits[row + c]);
            }
            double s = 0;
            for (int c = 0; c < v; c++) {
                s += Math.exp(logits[row + c] - max);
            }
            sum += max + Math.log(s) - logits[row + answer[i]];
        }
        return new double[] {sum, answer.length};
    }

    @Test
    void exportWritesGgufAndRefusesAFolderWithoutTokenizer(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("m.gguf");
        Run r = run("export", MODEL.toString(), "--out", out.toString(), "--f16");
        assertEquals(0, r.code(), r.err());
        java.nio.ByteBuffer head = java.nio.ByteBuffer.wrap(Files.readAllBytes(out)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x46554747, head.getInt(), "GGUF magic");
        Path bare = dir.resolve("bare");
        Files.createDirectories(bare);
        Files.copy(MODEL.resolve("config.json"), bare.resolve("config.json"));
        Files.copy(MODEL.resolve("model.safetensors"), bare.resolve("model.safetensors"));
        Run bad = run("export", bare.toString(), "--out", dir.resolve("x.gguf").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("tokenizer.json: missing"), bad.err());
    }

    @Test
    void exportMergesAPeftAdapterIntoItsBase(@TempDir Path dir) throws IOException {
        Path adapter = HOME.resolve("modules/models/src/test/resources/lm/llama-tiny-lora").toAbsolutePath();
        // the reference: the adapter merged by distill4j's Java API into a folder, exported as it is
        Path merged = dir.resolve("merged");
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager(ai.djl.Device.cpu());
                io.distill4j.models.lm.io.HfFolder.Loaded l = io.distill4j.models.lm.io.HfFolder.load(MODEL, m)) {
            io.distill4j.models.lm.io.PeftAdapter.mergeAndSave(io.distill4j.models.lm.io.PeftAdapter.load(l.model(), adapter),
                    l.tokenizer(), merged);
        }
        Path viaFolder = dir.resolve("folder.gguf");
        assertEquals(0, run("export", merged.toString(), "--out", viaFolder.toString()).code());
        Path viaAdapter = dir.resolve("adapter.gguf");
        Run r = run("export", MODEL.toString(), "--adapter", adapter.toString(), "--out", viaAdapter.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("merged"), r.err());
        Path plain = dir.resolve("plain.gguf");
        assertEquals(0, run("export", MODEL.toString(), "--out", plain.toString()).code());
        byte[] a = Files.readAllBytes(viaAdapter);
        assertArrayEquals(Files.readAllBytes(viaFolder), a, "--adapter writes the merged folder's GGUF");
        assertEquals(Files.size(plain), a.length);
        assertTrue(!java.util.Arrays.equals(Files.readAllBytes(plain), a), "the adapter changed no weight");
        Run bad = run("export", MODEL.toString(), "--adapter", dir.toString(), "--out", dir.resolve("x.gguf").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("adapter_config.json"), bad.err());
    }

    @Test
    void evaluateWithSamplesReportsSimilarityAndTheVariancesAsTheLlmExperimentDefinesThem(@TempDir Path dir)
            throws IOException {
        Path pairs = dir.resolve("pairs.jsonl");
        Files.writeString(pairs, "{\"prompt\": \"hello world\", \"answer\": \" the cat\"}\n"
                + "{\"prompt\": \"on the mat\", \"answer\": \" where is it\"}\n");
        Path out = dir.resolve("eval.json");
        Run r = run("evaluate", MODEL.toString(), MODEL.toString(), "--pairs", pairs.toString(), "--samples", "3",
                "--max-tokens", "4", "--seed", "2", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode res = new ObjectMapper().readTree(out.toFile());
        JsonNode s = res.get("summary");
        for (String k : List.of("similarity", "similarity-sampled")) {
            double v = s.get(k).get("mean").asDouble();
            assertTrue(v >= -1 && v <= 1, k + " " + v);
        }
        assertEquals(0, s.get("similarity").get("halfWidth").asDouble(), 1e-12, "greedy answers of one model agree");
        assertTrue(s.get("intra-student-variance").get("mean").asDouble() >= 0);
        // inter-student variance: per pair, the variance over the 2 students of their mean sampled similarity; with
        // 2 students that is (a - b)^2 / 2, so it is zero only if both students' sampled answers scored the same
        JsonNode per = res.get("perStudent");
        assertEquals(2, per.size());
        JsonNode inter = res.get("inter-student-variance");
        assertTrue(inter.get("mean").asDouble() >= 0);
        assertTrue(inter.get("low").asDouble() <= inter.get("mean").asDouble() && inter.get("pairs").asInt() == 2, "" + inter);
        double sys = res.get("systematic-noise").get("mean").asDouble();
        assertTrue(sys >= 0 && sys <= 2, "1 - cosine lies in [0, 2]: " + sys);
        assertTrue(r.out().contains("| systematic-noise |") && r.out().contains("| pairs |"), r.out());
        assertTrue(r.out().contains("± over pairs: mean ± half-width of the 95% Student-t interval of the mean over 2"
                + " pairs, t(1) = 12.706"), r.out());
        assertTrue(r.out().contains("± over students: mean ± half-width of the 95% Student-t interval of the mean over 2"
                + " students"), r.out());
        // one student: no inter-student variance, said so
        Run one = run("evaluate", MODEL.toString(), "--pairs", pairs.toString(), "--samples", "2", "--max-tokens", "2");
        assertEquals(0, one.code(), one.err());
        assertTrue(one.out().contains("| inter-student-variance | n/a: needs at least 2 students |"), one.out());
        Run bad = run("evaluate", MODEL.toString(), "--pairs", pairs.toString(), "--samples", "1");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--samples must be 0 or at least 2"), bad.err());
    }

    /** Lower-case words, split on everything but letters and digits. */
    static List<String> words(String text) {
        return java.util.Arrays.stream(text.toLowerCase(java.util.Locale.ROOT).split("[^\\p{L}\\p{N}]+"))
                .filter(w -> !w.isEmpty()).toList();
    }

    @Test
    void evaluateReportsHallucinationAndSystematicNoiseAsTheLlmExperimentDefinesThem(@TempDir Path dir)
            throws IOException {
        List<String> prompts = List.of("hello world", "on the mat");
        List<String[]> greedy = GenerateCommand.generate(MODEL, prompts, new SamplingConfig(4, 0, 0, 1, 1, 1, -1), 1, 0,
                -2, Device.cpu());
        List<String> first = words(greedy.get(0)[0]);
        assertFalse(first.isEmpty(), "the fixture's greedy answer names a word: " + greedy.get(0)[0]);
        // the first word of the greedy answer to pair 0 is made a known wrong answer of pair 0: a hallucination
        String wrong = first.get(0);
        List<String> refs = List.of("zebra", "quokka");
        assertFalse(refs.contains(wrong));
        Path pairs = dir.resolve("pairs.jsonl");
        Files.writeString(pairs, "{\"prompt\": \"hello world\", \"answer\": \" zebra\", \"wrong\": [\"" + wrong
                + "\", \"walrus\"]}\n{\"prompt\": \"on the mat\", \"answer\": \" quokka\"}\n");
        Path out = dir.resolve("eval.json");
        Run r = run("evaluate", MODEL.toString(), MODEL.toString(), "--pairs", pairs.toString(), "--samples", "3",
                "--max-tokens", "4", "--seed", "2", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode res = new ObjectMapper().readTree(out.toFile());
        assertEquals(4, res.get("knownValues").asInt());
        // independently: an answer hallucinates when one of its words is a known value (every reference and wrong
        // answer of the file) other than its pair's reference
        List<String> known = List.of("zebra", "quokka", wrong, "walrus");
        java.util.function.BiPredicate<Integer, String> contradicts = (q, a) -> words(a).stream()
                .anyMatch(w -> known.contains(w) && !w.equals(refs.get(q)));
        double hallGreedy = (contradicts.test(0, greedy.get(0)[0]) ? 0.5 : 0) + (contradicts.test(1, greedy.get(1)[0]) ? 0.5 : 0);
        assertTrue(hallGreedy >= 0.5);
        JsonNode s = res.get("summary");
        assertEquals(hallGreedy, s.get("hallucination").get("mean").asDouble(), 1e-12);
        SentenceEmbedder emb = SentenceEmbedder.load();
        double[][] sum = new double[2][emb.dimension()];
        double[] hallSampled = new double[2];
        for (int st = 0; st < 2; st++) {
            // evaluate samples student s with seed + s
            List<String[]> sampled = GenerateCommand.generate(MODEL, prompts, new SamplingConfig(4, 1, 0, 1, 1, 1, -1), 3,
                    2 + st, -2, Device.cpu());
            for (int q = 0; q < 2; q++) {
                for (String a : sampled.get(q)) {
                    hallSampled[st] += contradicts.test(q, a) ? 1.0 / 6 : 0;
                    double[] e = emb.embed(a);
                    for (int d = 0; d < e.length; d++) {
                        sum[q][d] += e[d];
                    }
                }
            }
            assertEquals(hallSampled[st], res.get("perStudent").get(st).get("hallucination-sampled").asDouble(), 1e-12);
        }
        double systematic = 0;
        double[] perPair = new double[2];
        for (int q = 0; q < 2; q++) {
            double[] ref = emb.embed(List.of(" zebra", " quokka").get(q));
            double dot = 0;
            double norm = 0;
            double refNorm = 0;
            for (int d = 0; d < ref.length; d++) {
                dot += sum[q][d] * ref[d];
                norm += sum[q][d] * sum[q][d];
                refNorm += ref[d] * ref[d];
            }
            perPair[q] = 1 - dot / Math.sqrt(norm * refNorm);
            systematic += perPair[q] / 2;
        }
        JsonNode sysNode = res.get("systematic-noise");
        assertEquals(systematic, sysNode.get("mean").asDouble(), 1e-9);
        // the 95% Student-t interval over the 2 pairs: t(1) = 12.706204736 (tables) times |x1 - x0| / 2
        assertEquals(12.706204736 * Math.abs(perPair[1] - perPair[0]) / 2, sysNode.get("halfWidth").asDouble(), 1e-8);
        assertTrue(r.out().contains("| hallucination |") && r.out().contains("| hallucination-sampled |"), r.out());
        Files.writeString(pairs, "{\"prompt\": \"hello world\", \"answer\": \" zebra\", \"wrong\": \"red\"}\n");
        Run bad = run("evaluate", MODEL.toString(), "--pairs", pairs.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("pairs.jsonl:1: field wrong: a list of strings is required, got '\"red\"'"),
                bad.err());
        Run help = run("evaluate", "--help");
        assertTrue(help.out().contains("hallucination") && help.out().contains("--wrong-field"), help.out());
    }
}

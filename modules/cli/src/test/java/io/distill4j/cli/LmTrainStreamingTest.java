package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.Sha256;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LM students train on batches streamed from the sequence cache's shards with exactly the data of the former
 * in-memory path: every mode's students, trained from a cache of 8 prompts in 3 shards, have the metrics and the
 * saved weights (SHA-256 of {@code model.safetensors}) recorded in {@code lm-streaming-golden.json} from the
 * in-memory implementation (commit 641b009) before streaming replaced it. Run with
 * {@code -Ddistill4j.golden.write=true} to record the golden file again (only when a change is meant to alter
 * training).
 */
class LmTrainStreamingTest {
    static final Path HOME = LmTrainTest.HOME;
    static final Path GOLDEN = HOME.resolve("modules/cli/src/test/resources/lm-streaming-golden.json");
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The runs: name to the train config's extra lines. */
    static final Map<String, String> RUNS = Map.of(
            "token-kd", "draws: per-student\nlm: {mode: token-kd, alpha: 0.5, heldOut: 0.25}\n"
                    + "training: {epochs: 3, batchSize: 2, accumulationSteps: 2, learningRate: 0.003, warmupSteps: 1}\n",
            "sft-all", "draws: shared\nlm: {mode: sft-all, packing: false, heldOut: 0.25}\n"
                    + "training: {epochs: 2, batchSize: 3, learningRate: 0.003, warmupSteps: 1}\n",
            "sft-mean", "draws: shared\nlm: {mode: sft-mean, heldOut: 0.25}\n"
                    + "training: {epochs: 2, batchSize: 2, learningRate: 0.003, warmupSteps: 1}\n",
            "sft-one", "draws: per-student\nlm: {mode: sft-one, heldOut: 0.25}\n"
                    + "training: {epochs: 2, batchSize: 2, learningRate: 0.003, warmupSteps: 1}\n");

    @TempDir
    static Path shared;
    static Path sample;

    @BeforeAll
    static void sampleOnce() throws IOException {
        Path prompts = shared.resolve("prompts.txt");
        Files.writeString(prompts, "hello world\nthe cat sat\non the mat\nwhere is it\nred and blue\n"
                + "a b c\nsmall tiny model\nwhat is up\n");
        sample = shared.resolve("qa.yaml");
        Files.writeString(sample, "cache: cache\nk: 4\nseed: 5\nrowsPerShard: 3\nprompts: {file: prompts.txt}\n"
                + "teacher: {type: lm, folder: " + LmTrainTest.TEACHER + ", maxTokens: 6, topLogprobs: 4,"
                + " temperature: 1.0}\n");
        SampleJob.run(SampleSpec.load(sample), Device.cpu(), (d, n) -> { }, l -> { });
    }

    @org.junit.jupiter.api.Test
    void aContextThatAPromptFillsLeavesItsAnswersOutOfTheScoresInsteadOfANaN(@TempDir Path dir) throws IOException {
        java.util.List<io.distill4j.data.SequenceItem> items = new java.util.ArrayList<>();
        try (io.distill4j.data.SequenceCacheReader r = io.distill4j.data.TeacherCache.open(shared.resolve("cache")).sequence()) {
            for (long i = 0; i < r.items(); i++) {
                items.add(r.read(i));
            }
        }
        // heldOut 0.25 of 8 prompts: the last 2 are scored; the context is the longer one's prompt length
        java.util.List<io.distill4j.data.SequenceItem> held = items.subList(6, 8);
        int p0 = held.get(0).prompt().length;
        int p1 = held.get(1).prompt().length;
        int context = Math.max(p0, p1);
        Path f = dir.resolve("train.yaml");
        Files.writeString(f, "sample: " + sample + "\nstudent: " + HOME.resolve("models/llama-tiny.yaml").toAbsolutePath()
                + "\nout: runs\nstudents: 1\nlm: {mode: sft-one, context: " + context + ", heldOut: 0.25}\n"
                + "training: {epochs: 1, batchSize: 2, learningRate: 0.003, warmupSteps: 0}\n");
        if (p0 == p1) {
            io.distill4j.data.BadInputException e = org.junit.jupiter.api.Assertions.assertThrows(
                    io.distill4j.data.BadInputException.class, () -> TrainJob.run(f));
            assertTrue(e.getMessage().contains("no held-out answer has a token inside the context"), e.getMessage());
            return;
        }
        RunResult r = TrainJob.run(f);
        Path student = r.runDir().resolve("students/seed-1");
        double nll = JSON.readTree(student.resolve("metrics.json").toFile()).get("metrics").get("nll").asDouble();
        assertTrue(Double.isFinite(nll), "nll " + nll);
        // independently: the answers of the shorter prompt, cut to the context, in double precision
        io.distill4j.data.SequenceItem kept = p0 < p1 ? held.get(0) : held.get(1);
        double sum = 0;
        long n = 0;
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager(Device.cpu());
                io.distill4j.models.lm.io.HfFolder.Loaded l = io.distill4j.models.lm.io.HfFolder.load(student, m)) {
            for (io.distill4j.data.SequenceSample s : kept.samples()) {
                int p = kept.prompt().length;
                int len = Math.min(context, p + s.length());
                long[] ids = new long[len];
                for (int i = 0; i < len; i++) {
                    ids[i] = i < p ? kept.prompt()[i] : s.tokens()[i - p];
                }
                float[] z = l.model().logits(new ai.djl.training.ParameterStore(m, false), m.create(new long[][] {ids}), null,
                        null, false).toFloatArray();
                int v = z.length / len;
                for (int i = p; i < len; i++) { // token i predicted at position i - 1
                    int row = (i - 1) * v;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int c = 0; c < v; c++) {
                        max = Math.max(max, z[row + c]);
                    }
                    double e = 0;
                    for (int c = 0; c < v; c++) {
                        e += Math.exp(z[row + c] - max);
                    }
                    sum += max + Math.log(e) - z[row + (int) ids[i]];
                    n++;
                }
            }
        }
        assertEquals(sum / n, nll, 1e-4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"token-kd", "sft-all", "sft-mean", "sft-one"})
    void streamedTrainingMatchesTheInMemoryGolden(String name, @TempDir Path dir) throws IOException {
        // the default test run leaves the sentence embedder off the class path; the with-embedder run has it
        org.junit.jupiter.api.Assumptions.assumeTrue(!name.equals("sft-mean") || java.util.ServiceLoader.load(
                io.distill4j.models.lm.SentenceEmbedder.class).findFirst().isPresent(), "no sentence embedder");
        Files.createDirectories(dir);
        Path f = dir.resolve("train.yaml");
        Files.writeString(f, "sample: " + sample + "\nstudent: " + HOME.resolve("models/llama-tiny.yaml").toAbsolutePath()
                + "\nout: runs\nstudents: 2\n" + RUNS.get(name));
        RunResult r = TrainJob.run(f);
        ObjectNode got = JSON.createObjectNode();
        for (long seed : new long[] {1, 2}) {
            Path student = r.runDir().resolve("students/seed-" + seed);
            ObjectNode s = got.putObject("seed-" + seed);
            s.set("metrics", JSON.readTree(student.resolve("metrics.json").toFile()).get("metrics"));
            s.put("weights", Sha256.of(student.resolve("model.safetensors")));
        }
        ObjectNode golden = Files.exists(GOLDEN) ? (ObjectNode) JSON.readTree(GOLDEN.toFile()) : JSON.createObjectNode();
        if (Boolean.getBoolean("distill4j.golden.write")) {
            golden.set(name, got);
            Files.writeString(GOLDEN, JSON.writeValueAsString(golden) + "\n");
            return;
        }
        JsonNode want = golden.get(name);
        assertTrue(want != null, "no golden values for " + name + " in " + GOLDEN);
        for (Iterator<String> it = want.fieldNames(); it.hasNext();) {
            String seed = it.next();
            JsonNode w = want.get(seed);
            JsonNode g = got.get(seed);
            for (Iterator<String> m = w.get("metrics").fieldNames(); m.hasNext();) {
                String metric = m.next();
                assertEquals(w.get("metrics").get(metric).asDouble(), g.get("metrics").get(metric).asDouble(), 0,
                        name + " " + seed + " " + metric);
            }
            assertEquals(w.get("weights").asText(), g.get("weights").asText(), name + " " + seed + ": saved weights");
        }
    }
}

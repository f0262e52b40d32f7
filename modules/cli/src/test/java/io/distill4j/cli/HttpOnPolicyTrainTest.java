package io.distill4j.cli;

import static io.distill4j.teacher.http.FakeOpenAiServer.Reply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.TeacherCache;
import io.distill4j.teacher.http.FakeOpenAiServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill4j train} with {@code lm.mode: on-policy} and a server teacher: the student's continuations are
 * scored through vLLM's {@code prompt_logprobs} (a fake server that answers as vLLM does), and a server that offers
 * no scoring route stops the run in one line with exit 3.
 */
class HttpOnPolicyTrainTest {
    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));
    static final Path TOKENIZER = HOME.resolve("modules/models/src/test/resources/lm/llama-tiny/tokenizer.json")
            .toAbsolutePath();
    static final Path PRESET = HOME.resolve("models/llama-tiny.yaml").toAbsolutePath();
    /** The vocabulary of the llama-tiny tokenizer, which the fake server's ids stay inside. */
    static final int V = 200;

    /** A sampled completion in llama.cpp's content layout with ids below V (the fake's own ids reach 1000). */
    static String sampled(JsonNode request) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        ArrayNode cs = root.putArray("choices");
        long seed = request.path("seed").asLong();
        for (int c = 0; c < request.path("n").asInt(1); c++) {
            ObjectNode ch = cs.addObject();
            ch.put("index", c).put("text", "x").put("finish_reason", "length");
            ArrayNode content = ch.putObject("logprobs").putArray("content");
            for (int t = 0; t < 3; t++) {
                int id = 3 + (int) ((seed + 7L * c + 13L * t) % 190);
                ObjectNode e = content.addObject();
                e.put("id", id).put("token", "t" + id).put("logprob", -0.2);
                ArrayNode top = e.putArray("top_logprobs");
                top.addObject().put("id", id).put("token", "t" + id).put("logprob", -0.2);
                top.addObject().put("id", id + 1).put("token", "t" + (id + 1)).put("logprob", -2.5);
                top.addObject().put("id", id + 2).put("token", "t" + (id + 2)).put("logprob", -4.0);
            }
        }
        return root.toString();
    }

    static Path configs(Path dir, FakeOpenAiServer s) throws IOException {
        s.setModels("{\"object\":\"list\",\"data\":[{\"id\":\"fake\",\"meta\":{\"n_vocab\":" + V + "}}]}");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("prompts.txt"), "hello world\nthe cat sat\non the mat\nred and blue\n");
        Files.writeString(dir.resolve("qa.yaml"), "cache: cache\nk: 2\nseed: 3\nprompts: {file: prompts.txt}\n"
                + "teacher: {type: http, server: '" + s.baseUri() + "', maxTokens: 3, topLogprobs: 3, vocabularySize: " + V
                + ", maxRetries: 0}\n");
        Path train = dir.resolve("train.yaml");
        Files.writeString(train, "sample: qa.yaml\nstudent: " + PRESET + "\ntokenizer: " + TOKENIZER + "\nout: runs\n"
                + "students: 1\nlm: {mode: on-policy, lmbda: 1.0, beta: 0.5, maxNewTokens: 3, heldOut: 0.25}\n"
                + "training: {epochs: 1, batchSize: 3, learningRate: 0.003, warmupSteps: 1}\n");
        return train;
    }

    static int run(Path config, ByteArrayOutputStream err) {
        PrintStream saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return Main.run("train", config.toString());
        } finally {
            System.setErr(saved);
        }
    }

    @Test
    void aVllmServerScoresTheStudentsOwnContinuations(@TempDir Path dir) throws IOException {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, body) -> Reply.ok(body.has("prompt_logprobs")
                ? FakeOpenAiServer.promptLogprobsReply(body, V) : sampled(body)))) {
            Path train = configs(dir, s);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(0, run(train, err), err.toString(StandardCharsets.UTF_8));
            List<int[]> prompts = new ArrayList<>();
            try (SequenceCacheReader r = TeacherCache.open(dir.resolve("cache")).sequence()) {
                for (long i = 0; i < r.items(); i++) {
                    SequenceItem it = r.read(i);
                    prompts.add(it.prompt());
                }
            }
            // training prompts: the first 3 of 4 (heldOut 0.25); every scoring request is one of them followed by
            // a continuation of at most maxNewTokens, sent as token ids
            List<JsonNode> scoring = s.bodies().stream().filter(b -> b.has("prompt_logprobs")).toList();
            assertTrue(scoring.size() >= 3, "one probe, then one request per training row: " + scoring.size());
            for (JsonNode b : scoring) {
                assertEquals(3, b.get("prompt_logprobs").asInt());
                int[] ids = new int[b.get("prompt").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = b.get("prompt").get(i).asInt();
                }
                boolean fits = prompts.subList(0, 3).stream().anyMatch(p -> ids.length > p.length
                        && ids.length <= p.length + 3 + 2 && Arrays.equals(Arrays.copyOf(ids, p.length), p));
                assertTrue(fits, "a scored sequence is a training prompt and its continuation: " + Arrays.toString(ids));
            }
            Path runDir;
            try (Stream<Path> runs = Files.list(dir.resolve("runs"))) {
                runDir = runs.findFirst().orElseThrow();
            }
            assertTrue(Files.isDirectory(runDir.resolve("students/seed-1")), "the student is saved");
            String result = Files.readString(runDir.resolve("results.json"));
            assertTrue(result.contains(s.baseUri() + ": top 3 and tail, prompt_logprobs"), result);
        }
    }

    @Test
    void aServerWithoutAScoringRouteStopsTheRunInOneLineWithExit3(@TempDir Path dir) throws IOException {
        // answers completions (as llama.cpp's /v1/completions does, ignoring prompt_logprobs) and has no /completion
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, body) -> Reply.ok(sampled(body)))) {
            Path train = configs(dir, s);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(3, run(train, err));
            String all = err.toString(StandardCharsets.UTF_8);
            // the log goes to stderr too: the error is the one line of distill4j's own, and no stack trace
            List<String> lines = all.lines().filter(l -> l.startsWith("distill4j: ")).toList();
            assertEquals(1, lines.size(), all);
            assertTrue(lines.get(0).startsWith("distill4j: teacher server error: " + s.baseUri()
                    + ": the server offers no way to score a given continuation"), all);
            assertTrue(all.lines().noneMatch(l -> l.startsWith("\tat ")), all);
            assertTrue(!Files.exists(dir.resolve("runs")) || Files.list(dir.resolve("runs"))
                    .noneMatch(r -> Files.exists(r.resolve("students"))), "nothing trained");
        }
    }
}

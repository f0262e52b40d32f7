package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.distill4j.teacher.http.FakeOpenAiServer;
import io.distill4j.teacher.http.FakeOpenAiServer.Reply;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 item 3: an HTTP sample job's {@code teacher.tokenizer} is checked against the server and kept in the cache;
 * {@code train} without a {@code tokenizer:} key gives the students that tokenizer.
 */
class TeacherTokenizerTrainTest {

    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));
    static final Path PRESET = HOME.resolve("models/llama-tiny.yaml").toAbsolutePath();

    static int run(ByteArrayOutputStream err, String... args) {
        PrintStream saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return Main.run(args);
        } finally {
            System.setErr(saved);
        }
    }

    @Test
    void studentsGetTheTokenizerTheSampleJobKeptInTheCache(@TempDir Path dir) throws IOException {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b,
                b.path("n").asInt(1), 2)))) {
            Path tokenizer = Files.writeString(dir.resolve("served-tokenizer.json"),
                    FakeOpenAiServer.tokenizerJson());
            Files.writeString(dir.resolve("prompts.txt"), "hello world\nthe cat sat\non the mat\nred and blue\n");
            Files.writeString(dir.resolve("qa.yaml"), "cache: cache\nk: 2\nseed: 3\nprompts: {file: prompts.txt}\n"
                    + "teacher: {type: http, server: '" + s.baseUri() + "', maxTokens: 2, topLogprobs: 3,"
                    + " tokenizer: served-tokenizer.json}\n");
            Path train = Files.writeString(dir.resolve("train.yaml"), "sample: qa.yaml\nstudent: " + PRESET
                    + "\nout: runs\nstudents: 1\nlm: {mode: sft-one, heldOut: 0.25}\n"
                    + "training: {epochs: 1, batchSize: 2, learningRate: 0.003}\n");
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(0, run(err, "sample", dir.resolve("qa.yaml").toString()), err.toString(StandardCharsets.UTF_8));
            assertArrayEquals(Files.readAllBytes(tokenizer), Files.readAllBytes(dir.resolve("cache/tokenizer.json")));
            assertEquals(0, run(err, "train", train.toString()), err.toString(StandardCharsets.UTF_8));
            List<Path> saved;
            try (Stream<Path> w = Files.walk(dir.resolve("runs"))) {
                saved = w.filter(p -> p.getFileName().toString().equals("tokenizer.json")
                        && p.getParent().getFileName().toString().startsWith("seed-")).toList();
            }
            assertEquals(1, saved.size(), "one student folder: " + saved);
            assertArrayEquals(Files.readAllBytes(tokenizer), Files.readAllBytes(saved.get(0)));
        }
    }
}

package io.distill4j.teacher.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.gguf.TinyLlamaGguf;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP teacher against a real llama.cpp server serving a tiny random-weight Llama written by
 * {@link TinyLlamaGguf}. Skipped, saying so, when llama-server has not been built.
 */
class LlamaServerTest {

    private static final List<String> VOCAB = TinyLlamaGguf.vocabulary();
    private static final String MISSING = "llama-server is not built: run " + LlamaServer.BUILD_SCRIPT
            + " (or set " + LlamaServer.ENV_BINARY + "); skipping the real-server tests";
    private static LlamaServer server;
    private static Path dir;

    @BeforeAll
    static void startServer() throws Exception {
        Path root = Path.of(System.getProperty("distill4j.root", "../..")).toAbsolutePath().normalize();
        Optional<Path> binary = LlamaServer.locate(root);
        if (binary.isEmpty()) {
            System.err.println("LlamaServerTest: " + MISSING);
            return;
        }
        dir = Files.createTempDirectory("llama-server-test");
        Path model = dir.resolve("tiny-llama.gguf");
        TinyLlamaGguf.defaults().write(model);
        server = LlamaServer.start(binary.get(), model, 2, 256, 2, dir.resolve("server.log"), Duration.ofSeconds(60));
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void requireServer() {
        assumeTrue(server != null, MISSING);
    }

    private static HttpTeacherConfig.Builder config() {
        return HttpTeacherConfig.builder().setBaseUri(server.baseUri()).optMaxTokens(8).optTopLogprobs(5).optSeed(3)
                .optConcurrency(4).optRequestTimeout(Duration.ofSeconds(60));
    }

    /**
     * What llama.cpp sends as a token's text: the piece with the word boundary as a space; null for the
     * control and unknown tokens (sent as empty text) and the byte tokens (sent once UTF-8 is complete).
     */
    private static String piece(int id) {
        String t = VOCAB.get(id);
        return id < 3 || t.startsWith("<0x") ? null : t.replace('▁', ' ');
    }

    private static void checkSteps(Completion c) {
        assertFalse(c.steps().isEmpty(), "a response has tokens");
        StringBuilder text = new StringBuilder();
        for (TokenStep s : c.steps()) {
            assertTrue(s.id() >= 0 && s.id() < VOCAB.size(), "id " + s.id());
            String p = piece(s.id());
            if (p != null) {
                // llama.cpp holds back the bytes of incomplete UTF-8 (random byte tokens) and sends them with
                // the next token, so a piece may come with a prefix
                assertTrue(s.token().endsWith(p), "token " + s.id() + ": the server sent '" + s.token()
                        + "', our vocabulary's piece is '" + p + "'");
            }
            text.append(s.token());
            assertEquals(5, s.topK());
            for (int q = 1; q < 5; q++) {
                assertTrue(s.topLogprobs()[q] <= s.topLogprobs()[q - 1], "top-K sorted");
            }
            assertTrue(s.logprob() <= s.topLogprobs()[0] + 1e-4, "no token beats the top-1");
            double tail = s.tailLogMass();
            assertTrue(tail < 0 && Double.isFinite(tail), "390 tokens leave mass outside the top-5: " + tail);
        }
    }

    @Test
    void completionsWithMoreSamplesThanSlotsFallBackToSeededRequests() {
        HttpTeacher t = new HttpTeacher(config().setK(3).build());
        assertEquals(3, t.provenance().get("requestsPerPrompt"), "n=3 exceeds the server's 2 slots");
        assertEquals(VOCAB.size(), t.serverInfo().get("vocabularySize"));
        List<PromptSamples> out = new ArrayList<>();
        t.sample(List.of("The cat", "In the beginning", "Hello world"), 0, out::add, SampleProgress.NONE);
        assertEquals(3, out.size());
        for (PromptSamples p : out) {
            assertEquals(3, p.completions().size());
            p.completions().forEach(LlamaServerTest::checkSteps);
            HttpTeacher.requireTokenIds(p, VOCAB.size());
        }
    }

    @Test
    void nChoicesInOneRequestWhenTheServerHasTheSlots() {
        HttpTeacher t = new HttpTeacher(config().setK(2).build());
        assertEquals(1, t.provenance().get("requestsPerPrompt"));
        List<Completion> c = t.complete("Once upon a time", 0);
        assertEquals(2, c.size());
        c.forEach(LlamaServerTest::checkSteps);
    }

    @Test
    void greedyDecodingSamplesTheTopTokenAndIsReproducible() {
        HttpTeacher t = new HttpTeacher(config().setK(1).optTemperature(0).build());
        List<Completion> a = t.complete("the end of the", 0);
        for (TokenStep s : a.get(0).steps()) {
            assertEquals(s.topIds()[0], s.id(), "greedy picks the most probable token");
            assertEquals(s.topLogprobs()[0], s.logprob(), 1e-5);
        }
        assertEquals(a.get(0).text(), t.complete("the end of the", 0).get(0).text());
    }

    @Test
    void chatCompletionsCarryLogprobsToo() {
        HttpTeacher t = new HttpTeacher(config().setK(2).optEndpoint(HttpTeacherConfig.Endpoint.CHAT)
                .optNMode(HttpTeacherConfig.NMode.SINGLE).optTopK(40).optTopP(0.95).optRepetitionPenalty(1.2).build());
        List<Completion> c = t.complete("What is distillation?", 1);
        assertEquals(2, c.size());
        c.forEach(LlamaServerTest::checkSteps);
    }

    @Test
    void theServerTokenizesWithOurVocabulary() {
        HttpTeacher t = new HttpTeacher(config().setK(1).build());
        // SentencePiece merges by score: "at" outranks "▁c", "▁t" then "he" build "▁the"
        int[] ids = t.tokenize("the cat", true);
        assertEquals(List.of("<s>", "▁the", "▁c", "at"), java.util.Arrays.stream(ids).mapToObj(VOCAB::get).toList());
        int[] bytes = t.tokenize("\n", false);
        assertEquals(List.of("▁", "<0x0A>"), java.util.Arrays.stream(bytes).mapToObj(VOCAB::get).toList(),
                "a newline falls back to its byte");
        assertEquals(64, t.tokenizerFingerprint().length());
    }

    @Test
    void fillsAndResumesASequenceCache(@org.junit.jupiter.api.io.TempDir Path cacheDir) {
        HttpTeacher http = new HttpTeacher(config().setK(3).optMaxTokens(6).build());
        List<String> prompts = List.of("alpha", "beta gamma", "delta", "epsilon zeta eta", "theta");
        HttpSequenceTeacher t = new HttpSequenceTeacher(http, 0);
        assertEquals(VOCAB.size(), t.vocabularySize());
        int[] calls = {0};
        assertThrows(IllegalStateException.class, () -> io.distill4j.teacher.sequence.SequenceTeacherSampler.fill(t, prompts,
                cacheDir, 2, (done, total) -> {
                    if (++calls[0] == 4) {
                        throw new IllegalStateException("interrupted after 3 prompts");
                    }
                }));
        assertEquals(3, io.distill4j.data.TeacherCache.open(cacheDir).manifest().items());
        assertEquals(5, io.distill4j.teacher.sequence.SequenceTeacherSampler.fill(new HttpSequenceTeacher(http, 0), prompts,
                cacheDir, 2, SampleProgress.NONE));
        io.distill4j.data.TeacherCache cache = io.distill4j.data.TeacherCache.open(cacheDir);
        cache.verify();
        try (io.distill4j.data.SequenceCacheReader r = cache.sequence()) {
            for (int i = 0; i < 5; i++) {
                io.distill4j.data.SequenceItem item = r.read(i);
                assertArrayEquals(http.tokenize(prompts.get(i), true), item.prompt(), "prompt " + i);
                assertEquals(3, item.samples().size());
                for (io.distill4j.data.SequenceSample s : item.samples()) {
                    assertTrue(s.length() >= 1 && s.length() <= 6);
                    for (int q = 0; q < s.length(); q++) {
                        double mass = Math.exp(s.tailLogMass()[q]);
                        for (int r5 = 0; r5 < 5; r5++) {
                            mass += Math.exp(s.topLogprobs()[q * 5 + r5]);
                        }
                        assertEquals(1.0, mass, 0.02, "top-5 plus tail is a distribution (8-bit quantised)");
                    }
                }
            }
        }
    }
}

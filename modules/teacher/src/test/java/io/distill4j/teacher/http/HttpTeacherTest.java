package io.distill4j.teacher.http;

import static io.distill4j.teacher.http.FakeOpenAiServer.Reply;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distill4j.teacher.SampleProgress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class HttpTeacherTest {

    private static HttpTeacherConfig.Builder config(FakeOpenAiServer s) {
        return HttpTeacherConfig.builder().setBaseUri(s.baseUri()).setK(3).optMaxTokens(4).optTopLogprobs(3)
                .optSeed(42).optBackoff(Duration.ofMillis(1), Duration.ofMillis(20)).optMaxRetries(3);
    }

    private static List<String> prompts(int n) {
        return IntStream.range(0, n).mapToObj(i -> "prompt " + i).toList();
    }

    private static List<PromptSamples> run(HttpTeacher t, List<String> prompts, long from) {
        List<PromptSamples> out = new ArrayList<>();
        t.sample(prompts, from, out::add, SampleProgress.NONE);
        return out;
    }

    @Test
    void theFirstRequestsAreOutBeforeProgressIsFirstTold() throws Exception {
        // a progress display's start can take most of a second (jline probes the terminal with external commands):
        // the requests must not wait for it. The first update blocks until the server has seen a completion request;
        // had it come before any request was sent, it would wait out its 5 s and record 0.
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 2)))) {
            HttpTeacher t = new HttpTeacher(config(s).optNMode(HttpTeacherConfig.NMode.SINGLE).setK(2).build());
            t.negotiate();
            int before = s.posts();
            List<Integer> seenAtFirstUpdate = new ArrayList<>();
            List<long[]> updates = new ArrayList<>();
            List<PromptSamples> out = new ArrayList<>();
            t.sample(prompts(5), 0, out::add, (done, total) -> {
                if (updates.isEmpty()) {
                    long end = System.nanoTime() + 5_000_000_000L;
                    while (s.posts() == before && System.nanoTime() < end) {
                        Thread.onSpinWait();
                    }
                    seenAtFirstUpdate.add(s.posts() - before);
                }
                updates.add(new long[] {done, total});
            });
            assertTrue(seenAtFirstUpdate.get(0) > 0, "no request had reached the server at the first progress update");
            assertArrayEquals(new long[] {0, 5}, updates.get(0));
            assertArrayEquals(new long[] {5, 5}, updates.get(updates.size() - 1));
            assertEquals(6, updates.size(), "the start, then once per prompt");
            assertEquals(5, out.size());
            // a resumed run with nothing left is still told where it stands
            List<long[]> done = new ArrayList<>();
            t.sample(prompts(5), 5, out::add, (d, total) -> done.add(new long[] {d, total}));
            assertEquals(1, done.size());
            assertArrayEquals(new long[] {5, 5}, done.get(0));
        }
    }

    @Test
    void parsesTheContentLayoutWithIdsSortedTopKAndTailMass() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 2)))) {
            HttpTeacher t = new HttpTeacher(config(s).optNMode(HttpTeacherConfig.NMode.SINGLE).setK(1).build());
            List<Completion> c = t.complete("hello", 0);
            assertEquals(1, c.size());
            long seed = t.seedFor(0, 0);
            int id0 = (int) (seed % 900);
            TokenStep st = c.get(0).steps().get(0);
            assertEquals(id0, st.id());
            assertEquals(-0.2f, st.logprob());
            assertArrayEquals(new int[] {id0, id0 + 1, id0 + 2}, st.topIds());
            assertArrayEquals(new float[] {-0.2f, -2.5f, -4.0f}, st.topLogprobs());
            // tail = log(1 - e^-0.2 - e^-2.5 - e^-4) = log(1 - 0.81873 - 0.08208 - 0.01832) = log(0.08087)
            double tail = Math.log(1 - Math.exp(-0.2f) - Math.exp(-2.5f) - Math.exp(-4.0f));
            assertEquals(-2.5149, tail, 1e-3);
            assertEquals(tail, st.tailLogMass(), 1e-9);
            assertArrayEquals(new int[] {id0, id0 + 1}, c.get(0).tokenIds());
            assertEquals("t" + id0 + "t" + (id0 + 1), c.get(0).text());
            assertEquals(seed, c.get(0).seed());
            JsonNode body = s.bodies.get(0);
            assertEquals("hello", body.get("prompt").asText());
            assertEquals(3, body.get("logprobs").asInt());
            assertEquals(4, body.get("max_tokens").asInt());
            assertEquals(seed, body.get("seed").asLong());
            assertFalse(body.has("n"));
        }
    }

    @Test
    void chatRequestsCarryMessagesAndTopLogprobsAndSamplingOptions() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 3)))) {
            HttpTeacher t = new HttpTeacher(config(s).optEndpoint(HttpTeacherConfig.Endpoint.CHAT).optSystemPrompt("Be brief.")
                    .optNMode(HttpTeacherConfig.NMode.SINGLE).setK(2).optTemperature(0.7).optTopK(50).optTopP(0.9)
                    .optRepetitionPenalty(1.2).build());
            List<Completion> c = t.complete("What is KD?", 5);
            assertEquals(2, c.size());
            assertEquals(3, c.get(1).steps().size());
            JsonNode body = s.bodies.get(0);
            assertEquals("system", body.at("/messages/0/role").asText());
            assertEquals("What is KD?", body.at("/messages/1/content").asText());
            assertTrue(body.get("logprobs").asBoolean());
            assertEquals(3, body.get("top_logprobs").asInt());
            assertEquals(50, body.get("top_k").asInt());
            assertEquals(0.9, body.get("top_p").asDouble());
            assertEquals(1.2, body.get("repetition_penalty").asDouble());
            assertEquals(1.2, body.get("repeat_penalty").asDouble());
            assertEquals(0.7, body.get("temperature").asDouble());
        }
    }

    @Test
    void parsesVllmLegacyLayoutWithTokenIdStrings() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.legacyReply(b, 3, 2)))) {
            HttpTeacher t = new HttpTeacher(config(s).optNMode(HttpTeacherConfig.NMode.MULTI).build());
            List<Completion> c = t.complete("x", 0);
            assertEquals(3, c.size());
            TokenStep st = c.get(2).steps().get(1);
            assertEquals(121, st.id());
            assertArrayEquals(new int[] {121, 122}, st.topIds());
            assertArrayEquals(new float[] {-0.5f, -3.0f}, st.topLogprobs());
            assertEquals(Math.log(1 - Math.exp(-0.5f) - Math.exp(-3.0f)), st.tailLogMass(), 1e-9);
            assertEquals("stop", c.get(0).finishReason());
            assertEquals(3, s.bodies.get(0).get("n").asInt());
        }
    }

    @Test
    void autoModeUsesOneRequestPerPromptWhenTheServerReturnsNChoices() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) ->
                Reply.ok(FakeOpenAiServer.contentReply(b, b.path("n").asInt(1), 2)))) {
            HttpTeacher t = new HttpTeacher(config(s).build());
            List<PromptSamples> out = run(t, prompts(4), 0);
            assertEquals(4, out.size());
            assertEquals(1 + 4, s.posts(), "one probe, then one request per prompt");
            assertEquals(1, t.provenance().get("requestsPerPrompt"));
            assertEquals("fake-model", t.provenance().get("serverModel"));
            assertEquals(1000, t.provenance().get("vocabularySize"));
        }
    }

    @Test
    void autoModeFallsBackToKRequestsWithDistinctSeedsWhenNIsRejected() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> b.path("n").asInt(1) > 1
                ? Reply.status(400, "{\"error\":{\"message\":\"n_cmpl must be <= 1\"}}")
                : Reply.ok(FakeOpenAiServer.contentReply(b, 1, 2)))) {
            HttpTeacher t = new HttpTeacher(config(s).build());
            List<PromptSamples> out = run(t, prompts(5), 0);
            assertEquals(1 + 5 * 3, s.posts(), "one rejected probe, then k requests per prompt");
            Set<Long> seeds = new HashSet<>();
            for (JsonNode b : s.bodies.subList(1, s.bodies.size())) {
                assertFalse(b.has("n"));
                seeds.add(b.get("seed").asLong());
            }
            assertEquals(15, seeds.size(), "every request has its own seed");
            for (PromptSamples p : out) {
                for (int j = 0; j < 3; j++) {
                    Completion c = p.completions().get(j);
                    assertEquals(t.seedFor(p.item(), j), c.seed(), "sample j carries seed j");
                    assertEquals((int) (c.seed() % 900), c.steps().get(0).id(), "sample j is the answer to request j");
                }
            }
            assertEquals(3, t.provenance().get("requestsPerPrompt"));
        }
    }

    @Test
    void retries429And5xxAndTimeoutsWithBackoff() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> switch (n) {
            case 0 -> Reply.status(429, "{\"error\":{\"message\":\"slow down\"}}").withHeader("Retry-After", "0");
            case 1 -> Reply.status(503, "busy");
            case 2 -> Reply.status(500, "{\"error\":\"oops\"}");
            case 3 -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 1)).delayed(1500);
            default -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 1));
        })) {
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optMaxRetries(4).optRequestTimeout(Duration.ofMillis(400))
                    .optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            List<Completion> c = t.complete("p", 0);
            assertEquals(1, c.size());
            assertEquals(5, s.posts(), "four scripted failures, then success");
            // a keep-alive connection the server dropped may cost one more (transport) retry
            assertTrue(t.retriesDone() >= 4, "retries " + t.retriesDone());
            assertEquals(t.requestsSent() - 2, t.retriesDone(), "one model-list request, one first attempt");
        }
    }

    @Test
    void malformedOrPartialJsonIsRetriedThenReportedClearly() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> n == 0
                ? Reply.ok(FakeOpenAiServer.contentReply(b, 1, 2).substring(0, 40))
                : Reply.ok(FakeOpenAiServer.contentReply(b, 1, 2)))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            assertEquals(2, t.complete("p", 0).get(0).steps().size(), "a truncated body is retried");
            assertEquals(1, t.retriesDone());
        }
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok("{\"choices\": [ {\"text\": \"abc\", "))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optMaxRetries(2).optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> t.complete("p", 7));
            assertTrue(e.getMessage().contains("item 7") && e.getMessage().contains("malformed JSON")
                    && e.getMessage().contains("gave up after 3 attempts") && e.getMessage().contains(s.baseUri()), e.getMessage());
            assertEquals(3, s.posts());
        }
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok("{\"choices\": []}"))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optMaxRetries(0).optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> t.complete("p", 0));
            assertTrue(e.getMessage().contains("field choices"), e.getMessage());
        }
    }

    @Test
    void responsesWithoutLogprobsFailAtOnceNamingTheField() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) ->
                Reply.ok("{\"choices\":[{\"index\":0,\"text\":\"hi\",\"logprobs\":null,\"finish_reason\":\"stop\"}]}"))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> t.complete("p", 2));
            assertTrue(e.getMessage().contains("field logprobs: missing") && e.getMessage().contains("item 2"), e.getMessage());
            assertFalse(e.retryable());
            assertEquals(1, s.posts(), "not retried");
            HttpTeacher textOnly = new HttpTeacher(config(s).setK(1).optTopLogprobs(0)
                    .optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            assertEquals("hi", textOnly.complete("p", 0).get(0).text(), "without top_logprobs none are needed");
        }
    }

    @Test
    void aClientErrorIsNotRetriedAndQuotesTheServer() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) ->
                Reply.status(400, "{\"error\":{\"message\":\"the prompt exceeds the context size\"}}"))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> t.complete("p", 0));
            assertTrue(e.getMessage().contains("HTTP 400 the prompt exceeds the context size"), e.getMessage());
            assertEquals(1, s.posts());
        }
    }

    @Test
    void anUnreachableServerIsRetriedThenReported() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        HttpTeacher t = new HttpTeacher(HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:" + port).setK(2)
                .optMaxRetries(2).optBackoff(Duration.ofMillis(1), Duration.ofMillis(5)).build());
        TeacherServerException e = assertThrows(TeacherServerException.class, () -> t.sample(prompts(3), 0, p -> { },
                SampleProgress.NONE));
        assertTrue(e.getMessage().contains("127.0.0.1:" + port) && e.getMessage().contains("cannot connect")
                && e.getMessage().contains("gave up after 3 attempts"), e.getMessage());
        assertEquals(3, t.requestsSent());
    }

    @Test
    void concurrencyIsBoundedAndUsed() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 1)).delayed(40))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(2).optConcurrency(3).optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            List<PromptSamples> out = run(t, prompts(12), 0);
            assertEquals(12, out.size());
            assertEquals(24, s.posts());
            assertEquals(3, s.maxInFlight.get(), "at most 3 requests in flight, and 3 reached");
        }
    }

    @Test
    void resultsArriveInPromptOrderAndAFailureKeepsThePrefix() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> {
            String prompt = b.path("prompt").asText();
            if (prompt.equals("prompt 5")) {
                return Reply.status(422, "{\"error\":{\"message\":\"bad prompt\"}}");
            }
            // later prompts answer faster than earlier ones
            int idx = Integer.parseInt(prompt.substring(7));
            return Reply.ok(FakeOpenAiServer.contentReply(b, 1, 1)).delayed(Math.max(0, 60 - 10L * idx));
        })) {
            HttpTeacher t = new HttpTeacher(config(s).setK(2).optConcurrency(4).optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            List<PromptSamples> got = new ArrayList<>();
            List<Long> progress = new ArrayList<>();
            TeacherServerException e = assertThrows(TeacherServerException.class,
                    () -> t.sample(prompts(10), 0, got::add, (done, total) -> progress.add(done)));
            assertTrue(e.getMessage().contains("item 5") && e.getMessage().contains("HTTP 422 bad prompt"), e.getMessage());
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), got.stream().map(PromptSamples::item).toList());
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), progress);
            assertEquals("prompt 3", got.get(3).prompt());
        }
    }

    @Test
    void aResumedRunAsksOnlyForTheMissingPrompts() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 1)))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(2).optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            List<PromptSamples> out = run(t, prompts(6), 4);
            assertEquals(List.of(4L, 5L), out.stream().map(PromptSamples::item).toList());
            assertEquals(4, s.posts());
            Set<String> asked = new HashSet<>();
            s.bodies.forEach(b -> asked.add(b.get("prompt").asText()));
            assertEquals(Set.of("prompt 4", "prompt 5"), asked);
            // the same item gets the same seeds in any run
            assertEquals(t.seedFor(4, 1), out.get(0).completions().get(1).seed());
        }
    }

    @Test
    void tokenIdsOutsideTheCacheVocabularyAreATokenizerMismatch() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 2)))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optNMode(HttpTeacherConfig.NMode.SINGLE).build());
            PromptSamples p = new PromptSamples(3, "p", t.complete("p", 3));
            HttpTeacher.requireTokenIds(p, 1000);
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> HttpTeacher.requireTokenIds(p, 5));
            assertTrue(e.getMessage().contains("item 3, sample 0, position 0") && e.getMessage().contains("outside the vocabulary of 5")
                    && e.getMessage().contains("tokenizer"), e.getMessage());
        }
        TokenStep noId = new TokenStep(-1, "the", -0.2f, new int[] {-1}, new String[] {"the"}, new float[] {-0.2f});
        PromptSamples p = new PromptSamples(0, "p", List.of(new Completion("the", List.of(noId), "stop", 1)));
        TeacherServerException e = assertThrows(TeacherServerException.class, () -> HttpTeacher.requireTokenIds(p, 10));
        assertTrue(e.getMessage().contains("no id for token 'the'"), e.getMessage());
    }

    @Test
    void configRejectsBadValuesNamingThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:1/v1/completions").build());
        assertTrue(e.getMessage().contains("baseUri"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:1").optTopP(0).build());
        assertTrue(e.getMessage().contains("topP"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:1").optConcurrency(0).build());
        assertTrue(e.getMessage().contains("concurrency"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder().build());
        assertTrue(e.getMessage().contains("baseUri"), e.getMessage());
    }

    @Test
    void tokenizesPromptsAndFingerprintsTheTokenizer() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 1)))) {
            HttpTeacher t = new HttpTeacher(config(s).optModel("m").build());
            assertArrayEquals(new int[] {1, 'a' + 3, 'b' + 3}, t.tokenize("ab", true));
            assertArrayEquals(new int[] {'a' + 3}, t.tokenize("a", false));
            JsonNode body = s.tokenizeBodies.get(0);
            assertEquals("ab", body.get("prompt").asText(), "vLLM's field");
            assertEquals("m", body.get("model").asText());
            // SHA-256 over the big-endian int32 ids of the probe, computed here independently
            java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
            for (char c : HttpTeacher.TOKENIZER_PROBE.toCharArray()) {
                d.update(java.nio.ByteBuffer.allocate(4).putInt(c + 3).array());
            }
            assertEquals(java.util.HexFormat.of().formatHex(d.digest()), t.tokenizerFingerprint());
        }
    }
}

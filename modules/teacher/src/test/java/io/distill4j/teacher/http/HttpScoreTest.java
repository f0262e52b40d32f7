package io.distill4j.teacher.http;

import static io.distill4j.teacher.http.FakeOpenAiServer.Reply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Scoring given continuations through vLLM's prompt_logprobs and llama.cpp's per-position n_probs. */
class HttpScoreTest {

    private static final int VOCAB = 40;
    private static final int K = 4;
    private static final List<int[]> PROMPTS = List.of(new int[] {1, 5, 9}, new int[] {1, 7}, new int[] {1, 2, 3, 4});
    private static final List<int[]> CONTINUATIONS = List.of(new int[] {12, 3, 30}, new int[] {}, new int[] {8, 8});

    private static HttpTeacher teacher(FakeOpenAiServer s) {
        return new HttpTeacher(HttpTeacherConfig.builder().setBaseUri(s.baseUri()).setK(1).optMaxTokens(4)
                .optTopLogprobs(K).optConcurrency(3).optBackoff(Duration.ofMillis(1), Duration.ofMillis(5))
                .optMaxRetries(2).build());
    }

    /** The scores equal the fake teacher's log-probabilities position by position, recomputed here. */
    private static void assertScores(List<List<TokenStep>> got) {
        assertEquals(PROMPTS.size(), got.size());
        for (int r = 0; r < PROMPTS.size(); r++) {
            int[] p = PROMPTS.get(r);
            int[] c = CONTINUATIONS.get(r);
            assertEquals(c.length, got.get(r).size(), "row " + r);
            for (int t = 0; t < c.length; t++) {
                int[] prefix = Arrays.copyOf(p, p.length + t);
                System.arraycopy(c, 0, prefix, p.length, t);
                double[] lp = FakeOpenAiServer.nextLogprobs(prefix, VOCAB);
                int[] order = FakeOpenAiServer.ranked(lp);
                TokenStep s = got.get(r).get(t);
                String at = "row " + r + ", position " + t;
                assertEquals(c[t], s.id(), at);
                assertEquals(K, s.topK(), at);
                double top = 0;
                for (int q = 0; q < K; q++) {
                    assertEquals(order[q], s.topIds()[q], at + ", top-" + (q + 1));
                    assertEquals(lp[order[q]], s.topLogprobs()[q], 1e-6, at + ", top-" + (q + 1));
                    top += Math.exp(lp[order[q]]);
                }
                assertEquals(Math.log(1 - top), s.tailLogMass(), 1e-5, at + ", tail");
                int token = c[t];
                boolean inTop = Arrays.stream(order, 0, K).anyMatch(id -> id == token);
                if (inTop || !Float.isNaN(s.logprob())) {
                    assertEquals(lp[c[t]], s.logprob(), 1e-6, at + ", the continuation's token");
                }
            }
        }
    }

    @Test
    void vllmScoresEachSequenceInOneRequest() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, body) -> body.has("prompt_logprobs")
                ? Reply.ok(FakeOpenAiServer.promptLogprobsReply(body, VOCAB))
                : Reply.status(400, "{\"error\":{\"message\":\"no\"}}"))) {
            HttpTeacher t = teacher(s);
            List<List<TokenStep>> got = t.score(PROMPTS, CONTINUATIONS);
            assertScores(got);
            assertEquals(HttpTeacher.ScoringRoute.PROMPT_LOGPROBS, t.scoringRoute(new int[] {1, 2}));
            // vLLM lists the sent token even outside the top K: its log-probability is known everywhere
            got.forEach(row -> row.forEach(step -> assertTrue(!Float.isNaN(step.logprob()))));
            // one probe, then one request per non-empty row, prompts sent as token ids
            assertEquals(3, s.posts());
            assertEquals(0, s.llamaBodies.size());
            var last = s.bodies.get(s.bodies.size() - 1);
            assertEquals(1, last.get("max_tokens").asInt());
            assertEquals(K, last.get("prompt_logprobs").asInt());
            assertTrue(last.get("prompt").isArray());
        }
    }

    @Test
    void llamaCppScoresOnePositionPerRequest() throws Exception {
        // llama-server ignores prompt_logprobs on /v1/completions and answers a plain completion
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, body) -> Reply.ok(
                "{\"choices\":[{\"index\":0,\"text\":\"x\",\"finish_reason\":\"length\"}]}"))) {
            s.setLlamaScript((n, body) -> Reply.ok(FakeOpenAiServer.nProbsReply(body, VOCAB)));
            HttpTeacher t = teacher(s);
            assertScores(t.score(PROMPTS, CONTINUATIONS));
            assertEquals(HttpTeacher.ScoringRoute.PER_POSITION, t.scoringRoute(new int[] {1, 2}));
            // one probe, then one request per continuation token (3 + 0 + 2), each with the prefix as its prompt
            assertEquals(1 + 5, s.llamaBodies.size());
            var b = s.llamaBodies.stream().filter(x -> x.get("prompt").size() == 5).findFirst().orElseThrow();
            assertEquals(1, b.get("n_predict").asInt());
            assertEquals(K, b.get("n_probs").asInt());
            assertTrue(b.get("cache_prompt").asBoolean());
            assertTrue(s.maxInFlight.get() <= 3);
        }
    }

    @Test
    void aServerWithoutAScoringRouteIsNamedInOneLine() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, body) -> Reply.ok(
                "{\"choices\":[{\"index\":0,\"text\":\"x\",\"finish_reason\":\"length\"}]}"))) {
            TeacherServerException e = assertThrows(TeacherServerException.class,
                    () -> teacher(s).score(PROMPTS, CONTINUATIONS));
            assertTrue(e.getMessage().startsWith(s.baseUri() + ": the server offers no way to score a given continuation"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("answered without prompt_logprobs") && e.getMessage().contains("HTTP 404"),
                    e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void fewerAlternativesThanAskedAreRefused() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, body) -> Reply.ok(
                "{\"choices\":[{\"index\":0,\"text\":\"x\",\"finish_reason\":\"length\"}]}"))) {
            // a vocabulary of 3 gives 3 alternatives where 4 were asked for
            s.setLlamaScript((n, body) -> Reply.ok(FakeOpenAiServer.nProbsReply(body, 3)));
            TeacherServerException e = assertThrows(TeacherServerException.class,
                    () -> teacher(s).score(List.of(new int[] {1}), List.of(new int[] {2})));
            assertTrue(e.getMessage().contains("3 alternatives, asked for 4"), e.getMessage());
        }
    }
}

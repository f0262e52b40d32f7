package io.distill4j.teacher.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The streaming pass of {@link ResponseParser} against its tree parse: the same completions for every body the
 * streaming pass accepts, and the tree parse's results and messages for the bodies it leaves to it.
 */
class ResponseParserTest {

    /** A chat-layout entry as llama.cpp writes it (id, token, bytes, logprob). */
    static String entry(int id, String token, double logprob) {
        return String.format(Locale.ROOT, "{\"id\": %d, \"token\": \"%s\", \"bytes\": [116, 49], \"logprob\": %s}", id, token,
                logprob);
    }

    /** A llama.cpp-shaped body: tokens x top alternatives, the sampled token's alternatives in shuffled order. */
    static String llamaBody(Random rnd, int index, int tokens, int top) {
        StringBuilder content = new StringBuilder();
        StringBuilder text = new StringBuilder();
        for (int t = 0; t < tokens; t++) {
            int id = rnd.nextInt(500);
            String tok = t % 3 == 0 ? " \\u00e9t" + id : "t" + id;
            text.append(tok);
            double lp = -rnd.nextDouble() * 3;
            String e = entry(id, tok, lp);
            content.append(t > 0 ? "," : "").append(e, 0, e.length() - 1).append(", \"top_logprobs\": [");
            for (int r = 0; r < top; r++) {
                content.append(r > 0 ? "," : "").append(entry(id + r, "t" + (id + r), -rnd.nextDouble() * 6));
            }
            content.append("]}");
        }
        return "{\"index\": " + index + ", \"text\": \"" + text + "\", \"finish_reason\": " + (index % 2 == 0 ? "\"length\""
                : "null") + ", \"logprobs\": {\"content\": [" + content + "]}}";
    }

    static String response(String... choices) {
        return "{\"id\": \"cmpl-1\", \"object\": \"text_completion\", \"choices\": [" + String.join(",", choices)
                + "], \"usage\": {\"completion_tokens\": 3, \"nested\": [{\"a\": [1, 2]}]}}";
    }

    static void same(ResponseParser p, String body) {
        List<Completion> streamed = p.parseStreaming(body, 9);
        assertNotNull(streamed, "the streaming pass declined " + body);
        assertEquals(p.parseTree(body, "x", 9), streamed, body);
        assertEquals(streamed, p.parse(body, "x", 9));
    }

    @Test
    void streamingEqualsTheTreeParseOnServerShapedBodies() {
        Random rnd = new Random(13);
        for (int top : new int[] {0, 1, 3, 5}) {
            ResponseParser p = new ResponseParser(top);
            for (int i = 0; i < 20; i++) {
                // several choices out of order; more alternatives than requested (truncated to the top by log-prob)
                same(p, response(llamaBody(rnd, 2, 1 + rnd.nextInt(16), 5), llamaBody(rnd, 0, 1 + rnd.nextInt(16), 7),
                        llamaBody(rnd, 1, 1, 5)));
            }
            // vLLM chat with token ids in the text, chat message content, no finish reason, an empty completion
            String vllm = "{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"ab\"}, \"logprobs\": {\"content\": ["
                    + "{\"token\": \"token_id:17\", \"logprob\": -0.25, \"top_logprobs\": [{\"token\": \"token_id:3\", \"logprob\": -2},"
                    + " {\"token\": \"token_id:17\", \"logprob\": -0.25}, {\"token\": \"x\", \"logprob\": 0.0}]}]}}";
            same(p, response(vllm));
            same(p, "{\"choices\": [{\"text\": \"\", \"logprobs\": {\"content\": []}, \"finish_reason\": \"stop\"}]}");
            // the id as a string (taken from the token), null text with message content, duplicate keys (last wins)
            same(p, "{\"choices\": [{\"text\": null, \"text\": \"q\", \"message\": {\"content\": \"m\"}, \"logprobs\": {\"content\": ["
                    + "{\"id\": \"7\", \"token\": \"token_id:8\", \"logprob\": -1e-4, \"top_logprobs\": [{\"id\": 4, \"token\": \"a\","
                    + " \"logprob\": -1}]}]}}]}");
        }
        // without log-probabilities requested, whatever logprobs holds is not read
        same(new ResponseParser(0), "{\"choices\": [{\"text\": \"hi\", \"logprobs\": null}]}");
        same(new ResponseParser(0), "{\"choices\": [{\"text\": \"hi\", \"logprobs\": {\"tokens\": 5}}]} trailing");
    }

    @Test
    void bodiesTheStreamingPassDeclinesGetTheTreeParsesResultsAndMessages() {
        ResponseParser p = new ResponseParser(2);
        String legacy = "{\"choices\": [{\"text\": \"ab\", \"logprobs\": {\"tokens\": [\"a\", \"b\"], \"token_logprobs\": [-1, -2],"
                + " \"top_logprobs\": [{\"a\": -1, \"c\": -3}, {\"b\": -2, \"token_id:5\": -0.5}]}}]}";
        String floatId = "{\"choices\": [{\"text\": \"a\", \"logprobs\": {\"content\": [{\"id\": 3.0, \"token\": \"a\", \"logprob\": -1,"
                + " \"top_logprobs\": [{\"id\": 3, \"token\": \"a\", \"logprob\": -1}]}]}}]}";
        String numberText = "{\"choices\": [{\"text\": 5, \"logprobs\": {\"content\": []}}]}";
        for (String body : List.of(legacy, floatId, numberText)) {
            assertNull(p.parseStreaming(body, 1), body);
            assertEquals(p.parseTree(body, "x", 1), p.parse(body, "x", 1));
        }
        for (String body : List.of("{\"choices\": [{\"text\": \"a\"", "[]", "{\"choices\": []}",
                "{\"choices\": [{\"text\": \"a\", \"logprobs\": {\"content\": [{\"token\": \"a\", \"logprob\": 0.5, \"top_logprobs\": []}]}}]}",
                "{\"choices\": [{\"text\": \"a\"}]}")) {
            assertNull(p.parseStreaming(body, 1), body);
            TeacherServerException tree = assertThrows(TeacherServerException.class, () -> p.parseTree(body, "x", 1));
            TeacherServerException both = assertThrows(TeacherServerException.class, () -> p.parse(body, "x", 1));
            assertEquals(tree.getMessage(), both.getMessage());
            assertEquals(tree.retryable(), both.retryable());
        }
    }
}

package io.distill4j.teacher.http;

import static io.distill4j.teacher.http.FakeOpenAiServer.Reply;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.BadInputException;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.sequence.SequenceTeacherSampler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpSequenceTeacherTest {

    private static HttpTeacher teacher(FakeOpenAiServer s) {
        return new HttpTeacher(HttpTeacherConfig.builder().setBaseUri(s.baseUri()).setK(2).optMaxTokens(3).optTopLogprobs(3)
                .optSeed(5).optConcurrency(3).optNMode(HttpTeacherConfig.NMode.SINGLE).optMaxRetries(1)
                .optBackoff(Duration.ofMillis(1), Duration.ofMillis(5)).build());
    }

    private static List<String> prompts(int n) {
        return IntStream.range(0, n).mapToObj(i -> "q" + i).toList();
    }

    @Test
    void fillsASequenceCacheWithIdsTopKAndTailMass(@TempDir Path dir) throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 3)))) {
            HttpTeacher http = teacher(s);
            HttpSequenceTeacher t = new HttpSequenceTeacher(http, 0);
            assertEquals(1000, t.vocabularySize(), "from the server's n_vocab");
            long items = SequenceTeacherSampler.fill(t, prompts(5), dir, 2, SampleProgress.NONE);
            assertEquals(5, items);
            TeacherCache cache = TeacherCache.open(dir);
            cache.verify();
            assertEquals(2, cache.manifest().k());
            assertEquals(64, ((String) cache.manifest().teacher().get("tokenizerFingerprint")).length());
            try (SequenceCacheReader r = cache.sequence()) {
                SequenceItem it = r.read(3);
                assertArrayEquals(new int[] {1, 'q' + 3, '3' + 3}, it.prompt(), "BOS + one id per character");
                for (int j = 0; j < 2; j++) {
                    SequenceSample smp = it.samples().get(j);
                    int id0 = (int) (http.seedFor(3, j) % 900);
                    assertArrayEquals(new int[] {id0, id0 + 1, id0 + 2}, smp.tokens());
                    assertArrayEquals(new int[] {id0, id0 + 1, id0 + 2}, java.util.Arrays.copyOfRange(smp.topIds(), 0, 3));
                    assertEquals(-0.2f, smp.topLogprobs()[0], 1e-6f, "the top log-probability is stored exactly");
                    assertEquals(-2.5f, smp.topLogprobs()[1], 0.05f, "8-bit quantised");
                    assertEquals(-4.0f, smp.topLogprobs()[2], 1e-3f, "the last is the top minus the scale");
                    double tail = Math.log(1 - Math.exp(-0.2) - Math.exp(-2.5) - Math.exp(-4.0));
                    assertEquals(tail, smp.tailLogMass()[0], 1e-4);
                }
            }
        }
    }

    @Test
    void aFailedRunKeepsItsPrefixAndARestartAsksOnlyForTheRest(@TempDir Path dir) throws Exception {
        boolean[] broken = {true};
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> broken[0] && b.path("prompt").asText().equals("q4")
                ? Reply.status(400, "{\"error\":{\"message\":\"context overflow\"}}")
                : Reply.ok(FakeOpenAiServer.contentReply(b, 1, 2)))) {
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> SequenceTeacherSampler.fill(
                    new HttpSequenceTeacher(teacher(s), 0), prompts(7), dir, 3, SampleProgress.NONE));
            assertTrue(e.getMessage().contains("item 4") && e.getMessage().contains("context overflow"), e.getMessage());
            assertEquals(4, TeacherCache.open(dir).manifest().items(), "items 0..3 committed");
            broken[0] = false;
            int before = s.bodies.size();
            assertEquals(7, SequenceTeacherSampler.fill(new HttpSequenceTeacher(teacher(s), 0), prompts(7), dir, 3,
                    SampleProgress.NONE));
            Set<String> asked = new HashSet<>();
            s.bodies.subList(before, s.bodies.size()).forEach(b -> asked.add(b.get("prompt").asText()));
            assertEquals(Set.of("q4", "q5", "q6"), asked);
            TeacherCache.open(dir).verify();
        }
    }

    /** A content reply whose position 1 of every choice has its top-K rewritten by {@code edit}. */
    private static String damaged(JsonNode request, java.util.function.Consumer<ArrayNode> edit) throws Exception {
        JsonNode root = new ObjectMapper().readTree(FakeOpenAiServer.contentReply(request, 1, 3));
        for (JsonNode c : root.get("choices")) {
            edit.accept((ArrayNode) c.get("logprobs").get("content").get(1).get("top_logprobs"));
        }
        return root.toString();
    }

    @Test
    void topKProbabilitiesAboveOneAreAServerFaultNamingItemSampleAndPosition(@TempDir Path dir) throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> {
            try {
                return Reply.ok(b.path("prompt").asText().equals("q2")
                        ? damaged(b, top -> top.forEach(a -> ((ObjectNode) a).put("logprob", -0.01)))
                        : FakeOpenAiServer.contentReply(b, 1, 3));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        })) {
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> SequenceTeacherSampler.fill(
                    new HttpSequenceTeacher(teacher(s), 0), prompts(4), dir, 2, SampleProgress.NONE));
            assertEquals("item 2, sample 0, position 1: the server's top_logprobs sum to probability 2.97015, above 1 "
                    + "(by more than 0.00100): not log-probabilities of one distribution", e.getMessage());
            assertEquals(false, e.retryable());
            assertEquals(2, TeacherCache.open(dir).manifest().items(), "items 0 and 1 stay committed");
            TeacherCache.open(dir).verify();
        }
    }

    @Test
    void aTokenIdListedTwiceAmongTheTopKIsAServerFault(@TempDir Path dir) throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> {
            try {
                return Reply.ok(damaged(b, top -> ((ObjectNode) top.get(2)).put("id", top.get(0).get("id").asInt())));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        })) {
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> SequenceTeacherSampler.fill(
                    new HttpSequenceTeacher(teacher(s), 0), prompts(2), dir, 2, SampleProgress.NONE));
            assertTrue(e.getMessage().matches("item 0, sample 0, position 1: the server listed token id \\d+ twice among "
                    + "its top_logprobs"), e.getMessage());
        }
    }

    @Test
    void anotherTokenizerOrVocabularyIsRefused(@TempDir Path dir) throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 2)))) {
            SequenceTeacherSampler.fill(new HttpSequenceTeacher(teacher(s), 0), prompts(2), dir, 2, SampleProgress.NONE);
            TeacherServerException v = assertThrows(TeacherServerException.class, () -> new HttpSequenceTeacher(teacher(s), 500));
            assertTrue(v.getMessage().contains("vocabulary has 1000 tokens") && v.getMessage().contains("500"), v.getMessage());
            s.setModels("{\"data\":[{\"id\":\"other-model\",\"meta\":{\"n_vocab\":1000}}]}");
            BadInputException e = assertThrows(BadInputException.class, () -> SequenceTeacherSampler.fill(
                    new HttpSequenceTeacher(teacher(s), 0), prompts(2), dir, 2, SampleProgress.NONE));
            assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("teacher.serverModel"), e.getMessage());
        }
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, 1, 2)))) {
            s.setModels("{\"data\":[{\"id\":\"fake-model\",\"meta\":{\"n_vocab\":100}}]}");
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> SequenceTeacherSampler.fill(
                    new HttpSequenceTeacher(teacher(s), 0), prompts(2), dir.resolve("small"), 2, SampleProgress.NONE));
            assertTrue(e.getMessage().contains("outside the vocabulary of 100"), e.getMessage());
        }
    }
}

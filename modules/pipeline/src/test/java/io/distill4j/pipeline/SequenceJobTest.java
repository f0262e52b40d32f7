package io.distill4j.pipeline;

import io.distill4j.teacher.http.FakeOpenAiServer;
import io.distill4j.teacher.http.FakeOpenAiServer.Reply;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.data.BadInputException;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.TeacherCache;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill4j sample} jobs that write sequence caches: an HTTP server and a local Hugging Face folder. */
class SequenceJobTest {

    private static final Path ROOT = Path.of(System.getProperty("distill4j.root", "../.."));

    @Test
    void anHttpJobFillsAndResumesASequenceCache(@TempDir Path dir) throws Exception {
        Path prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"one\"}\n{\"prompt\": \"two\"}\n\n{\"prompt\": \"three\"}\n");
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b,
                b.path("n").asInt(1), 2)))) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("cache", dir.resolve("cache").toString());
            c.put("k", 3);
            c.put("rowsPerShard", 2);
            c.put("prompts", Map.of("file", prompts.toString()));
            c.put("teacher", new LinkedHashMap<>(Map.of("type", "http", "server", s.baseUri(), "maxTokens", 2, "topLogprobs", 3,
                    "concurrency", 2)));
            SampleSpec spec = SampleSpec.parse(c, ROOT.resolve("qa.yaml"));
            SampleJob.Result r = SampleJob.run(spec, Device.cpu(), SampleProgress.NONE, l -> { });
            assertEquals(3, r.items());
            TeacherCache cache = TeacherCache.open(dir.resolve("cache"));
            assertEquals("openai-http", cache.manifest().teacher().get("name"));
            try (SequenceCacheReader rd = cache.sequence()) {
                SequenceItem it = rd.read(2);
                assertEquals(3, it.samples().size());
                assertEquals(6, it.prompt().length, "BOS + 5 characters of 'three'");
            }
            SampleJob.Result again = SampleJob.run(spec, Device.cpu(), SampleProgress.NONE, l -> { });
            assertEquals(3, again.resumedFrom());
            assertEquals(3, again.items());
        }
    }

    @Test
    void sequenceConfigFaultsNameTheField(@TempDir Path dir) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("cache", dir.resolve("c").toString());
        c.put("prompts", Map.of("file", "p.txt"));
        c.put("teacher", new LinkedHashMap<>(Map.of("type", "http", "server", "http://127.0.0.1:1", "topP", 2)));
        BadInputException e = assertThrows(BadInputException.class, () -> SampleSpec.parse(c, ROOT.resolve("qa.yaml")));
        assertTrue(e.getMessage().contains("qa.yaml") && e.getMessage().contains("topP"), e.getMessage());
        c.put("teacher", new LinkedHashMap<>(Map.of("type", "http", "sever", "http://127.0.0.1:1")));
        e = assertThrows(BadInputException.class, () -> SampleSpec.parse(c, ROOT.resolve("qa.yaml")));
        assertTrue(e.getMessage().contains("field teacher.sever: unknown key 'sever'; known keys: apiKey, apiKeyEnv"), e.getMessage());
        c.put("teacher", new LinkedHashMap<>(Map.of("type", "http")));
        e = assertThrows(BadInputException.class, () -> SampleSpec.parse(c, ROOT.resolve("qa.yaml")));
        assertTrue(e.getMessage().contains("field teacher.server: required"), e.getMessage());
        c.put("teacher", new LinkedHashMap<>(Map.of("type", "lm", "folder", dir.toString(), "colour", "red")));
        e = assertThrows(BadInputException.class, () -> SampleSpec.parse(c, ROOT.resolve("qa.yaml")));
        assertTrue(e.getMessage().contains("field teacher.colour: unknown"), e.getMessage());
    }

    @Test
    void anLmJobSamplesAnImportedHuggingFaceModel(@TempDir Path dir) throws Exception {
        Path folder = ROOT.resolve("modules/models/src/test/resources/lm/llama-tiny");
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "hello world\nthe cat sat\n");
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("cache", dir.resolve("cache").toString());
        c.put("k", 2);
        c.put("seed", 1);
        c.put("prompts", Map.of("file", prompts.toString()));
        c.put("teacher", new LinkedHashMap<>(Map.of("type", "lm", "folder", folder.toString(), "maxTokens", 5,
                "topLogprobs", 4, "temperature", 0.8, "topK", 20, "repetitionPenalty", 1.1)));
        SampleJob.Result r = SampleJob.run(SampleSpec.parse(c, ROOT.resolve("lm.yaml")), Device.cpu(), SampleProgress.NONE, l -> { });
        assertEquals(2, r.items());
        TeacherCache cache = TeacherCache.open(dir.resolve("cache"));
        cache.verify();
        assertEquals("causal-lm", cache.manifest().teacher().get("name"));
        assertEquals("tokenizer.json", cache.manifest().teacher().get("tokenizer"));
        assertArrayEquals(Files.readAllBytes(folder.resolve("tokenizer.json")),
                Files.readAllBytes(dir.resolve("cache/tokenizer.json")), "the cache keeps the teacher's tokenizer");
        try (SequenceCacheReader rd = cache.sequence()) {
            SequenceItem it = rd.read(1);
            assertEquals(2, it.samples().size());
            assertTrue(it.samples().get(0).length() >= 1 && it.samples().get(0).length() <= 5);
        }
    }

    /**
     * Issue 13 item 3: an HTTP job's teacher.tokenizer is checked against the server's /tokenize before any request
     * for answers and kept in the cache, where train finds it; another model's tokenizer is one line naming the field.
     */
    @Test
    void anHttpJobKeepsTheServersTokenizerInTheCacheAfterCheckingIt(@TempDir Path dir) throws Exception {
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "one\ntwo\nthree\n");
        Path good = Files.writeString(dir.resolve("tokenizer.json"), FakeOpenAiServer.tokenizerJson());
        Path other = Files.writeString(dir.resolve("other.json"),
                FakeOpenAiServer.tokenizerJson().replace("\"o\": 114", "\"o\": 130"));   // another model's id for 'o'
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b,
                b.path("n").asInt(1), 2)))) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("cache", dir.resolve("cache").toString());
            c.put("k", 2);
            c.put("prompts", Map.of("file", prompts.toString()));
            Map<String, Object> t = new LinkedHashMap<>(Map.of("type", "http", "server", s.baseUri(), "maxTokens", 2,
                    "topLogprobs", 3, "concurrency", 2, "tokenizer", other.toString()));
            c.put("teacher", t);
            BadInputException e = assertThrows(BadInputException.class, () -> SampleJob.run(SampleSpec.parse(c,
                    ROOT.resolve("qa.yaml")), Device.cpu(), SampleProgress.NONE, l -> { }));
            assertEquals(ROOT.resolve("qa.yaml") + ": field teacher.tokenizer: " + other + " encodes the prompt 'one' as"
                    + " [1, 130, 113, 104], the server's /tokenize as [1, 114, 113, 104] (another model's"
                    + " tokenizer?)", e.getMessage());
            assertFalse(Files.exists(dir.resolve("cache")), "refused before sampling: nothing written");

            t.put("tokenizer", good.toString());
            SampleJob.Result r = SampleJob.run(SampleSpec.parse(c, ROOT.resolve("qa.yaml")), Device.cpu(),
                    SampleProgress.NONE, l -> { });
            assertEquals(3, r.items());
            assertArrayEquals(Files.readAllBytes(good), Files.readAllBytes(dir.resolve("cache/tokenizer.json")));

            // a rerun naming another tokenizer than the one the cache keeps is refused
            Path rewritten = Files.writeString(dir.resolve("same-ids.json"), FakeOpenAiServer.tokenizerJson().replace("\"version\": \"1.0\"",
                    "\"version\": \"1.0\" "));
            t.put("tokenizer", rewritten.toString());
            BadInputException again = assertThrows(BadInputException.class, () -> SampleJob.run(SampleSpec.parse(c,
                    ROOT.resolve("qa.yaml")), Device.cpu(), SampleProgress.NONE, l -> { }));
            assertEquals(dir.resolve("cache/tokenizer.json") + ": the cache keeps another tokenizer than the job's"
                    + " teacher.tokenizer (another teacher's cache?)", again.getMessage());

            t.put("tokenizer", dir.resolve("missing.json").toString());
            BadInputException missing = assertThrows(BadInputException.class, () -> SampleJob.run(SampleSpec.parse(c,
                    ROOT.resolve("qa.yaml")), Device.cpu(), SampleProgress.NONE, l -> { }));
            assertEquals(ROOT.resolve("qa.yaml") + ": field teacher.tokenizer: " + dir.resolve("missing.json")
                    + ": no such file", missing.getMessage());
        }
    }
}

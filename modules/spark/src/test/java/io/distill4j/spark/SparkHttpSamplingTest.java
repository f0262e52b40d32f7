package io.distill4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.TeacherCache;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.http.FakeOpenAiServer;
import io.distill4j.teacher.http.FakeOpenAiServer.Reply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http} jobs (sequence caches) on {@code local[2,2]} with two in-process OpenAI-compatible stub servers: shard
 * {@code i}'s prompts go to server {@code i % 2}, and the cache equals the one a plain local run writes (manifest as a
 * record, shards byte for byte); retried attempts, adopted shards, and a job whose task fails on every attempt.
 */
class SparkHttpSamplingTest {

    @TempDir
    static Path dir;
    static Path prompts;
    static FakeOpenAiServer a;
    static FakeOpenAiServer b;
    /** 23 prompts: 5 shards of 5 (the last of 3). */
    static final int PROMPTS = 23;

    /** The stub's answer: k choices (n) of 3 tokens, each token and its alternatives derived from the request's seed. */
    static Reply answer(JsonNode body) {
        return Reply.ok(FakeOpenAiServer.contentReply(body, body.path("n").asInt(1), 3));
    }

    @BeforeAll
    static void servers() throws IOException {
        a = new FakeOpenAiServer((n, body) -> answer(body));
        b = new FakeOpenAiServer((n, body) -> answer(body));
        prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, IntStream.range(0, PROMPTS).mapToObj(i -> "question " + i + "?")
                .collect(Collectors.joining("\n")) + "\n");
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
    }

    /** An http job of k = 3 on the prompts, 5 prompts a shard, over the servers given (one: the single-string form). */
    static Path job(String name, List<FakeOpenAiServer> servers) throws IOException {
        String server = servers.size() == 1 ? servers.get(0).baseUri()
                : servers.stream().map(FakeOpenAiServer::baseUri).collect(Collectors.joining(", ", "[", "]"));
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, "cache: " + dir.resolve(name) + "\nk: 3\nseed: 11\nrowsPerShard: 5\n"
                + "prompts: {file: " + prompts + "}\n"
                + "teacher:\n  type: http\n  server: " + server + "\n  maxTokens: 3\n  topLogprobs: 3\n  concurrency: 2\n");
        return file;
    }

    static Path local(String name, List<FakeOpenAiServer> servers) throws IOException {
        SampleJob.run(SampleSpec.load(job(name, servers)), Device.cpu(), SampleProgress.NONE, l -> { });
        return dir.resolve(name);
    }

    static SparkSampling.Outcome spark(Path job, List<Integer> crash) {
        return SparkSampling.sample(TestSpark.context(), job, new SparkSampling.Options("cpu", false, crash), l -> { });
    }

    /** The prompts a server was asked to complete (the one-token probe of n = k left out), as a set. */
    static Set<String> asked(FakeOpenAiServer s, int from) {
        Set<String> out = new TreeSet<>();
        List<JsonNode> bodies = s.bodies();
        for (JsonNode body : bodies.subList(from, bodies.size())) {
            if (body.path("max_tokens").asInt() > 1) {
                out.add(body.path("prompt").asText());
            }
        }
        return out;
    }

    static Set<String> promptsOfShards(int... shards) {
        Set<String> out = new TreeSet<>();
        for (int s : shards) {
            for (int i = 5 * s; i < Math.min(PROMPTS, 5 * s + 5); i++) {
                out.add("question " + i + "?");
            }
        }
        return out;
    }

    @Test
    void shardsGoToTheServersInTurnAndTheCacheEqualsTheLocalOneByteForByte() throws IOException {
        Path want = local("local-two", List.of(a, b));
        int fromA = a.bodies().size();
        int fromB = b.bodies().size();
        SparkSampling.Outcome o = spark(job("spark-two", List.of(a, b)), List.of());
        assertEquals(5, o.shards());
        assertEquals(5, o.scheduled());
        assertEquals(PROMPTS, o.result().items());
        SparkSamplingTest.assertSameCache(want, dir.resolve("spark-two"));
        assertEquals(List.of(a.baseUri(), b.baseUri()), CacheManifest.read(want).teacher().get("server"),
                "the cache records every server, whichever answered");
        assertEquals(promptsOfShards(0, 2, 4), asked(a, fromA), "shards 0, 2, 4 from the first server");
        assertEquals(promptsOfShards(1, 3), asked(b, fromB), "shards 1, 3 from the second");
        TeacherCache.open(dir.resolve("spark-two")).verify();
    }

    @Test
    void aTaskFailingOnItsFirstAttemptIsRetriedAndARerunAdoptsCommittedShards() throws IOException {
        Path want = local("local-one", List.of(a));
        Path job = job("retry", List.of(a));
        SparkSampling.Outcome o = spark(job, List.of(1, 4));
        assertEquals(5, o.scheduled());
        SparkSamplingTest.assertSameCache(want, dir.resolve("retry"));

        // the driver died after the tasks: the manifest lists shard 0; shard 3 was never committed
        Path cache = dir.resolve("retry");
        CacheManifest full = CacheManifest.read(cache);
        new CacheManifest(full.formatVersion(), full.task(), full.k(), full.width(), full.signal(), full.dtype(), 5,
                full.teacher(), full.datasetFingerprint(), full.sequence(), List.of(full.shards().get(0)))
                .writeAtomically(cache, false);
        Files.delete(cache.resolve("part-00003.arrow"));
        SparkSampling.Outcome again = spark(job, List.of());
        assertEquals(5, again.result().resumedFrom());
        assertEquals(3, again.adopted(), "shards 1, 2, 4 read back (sequence layout, k rows an item)");
        assertEquals(1, again.scheduled(), "shard 3");
        SparkSamplingTest.assertSameCache(want, cache);
        assertEquals(0, spark(job, List.of()).scheduled(), "a complete cache schedules nothing");
    }

    @Test
    void theCommandLineSamplesOverAListOfServersAndRecordsTheRun() throws IOException {
        Path want = local("cli-local", List.of(a, b));
        TestSpark.stop();   // the command starts (and stops) its own context
        Object[] r = CommandLineEngineTest.cli("sample", "--engine", "local[2]", job("cli-spark", List.of(a, b))
                .toString());
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains(": 23 items x 3 samples (23 new, resumed from 0)"), (String) r[1]);
        assertTrue(Files.exists(dir.resolve("cli-spark").resolve(SampleJob.RUNS_FILE)), "the run is recorded");
        SparkSamplingTest.assertSameCache(want, dir.resolve("cli-spark"));
    }

    @Test
    void aTaskFailingOnEveryAttemptIsOneLineExitThreeAndLeavesNoManifestOrTemporaryFiles() throws IOException {
        // a server that refuses one prompt for good (400 is not retried): shard 2's task fails on both attempts
        try (FakeOpenAiServer refusing = new FakeOpenAiServer((n, body) -> body.path("prompt").asText()
                .equals("question 12?") ? Reply.status(400, "{\"error\":{\"message\":\"prompt refused\"}}")
                : answer(body))) {
            TestSpark.stop();
            Path job = job("failing", List.of(refusing));
            Object[] r = CommandLineEngineTest.cli("sample", "--engine", "local[2]", job.toString());
            assertEquals(3, r[0], (String) r[2]);
            String err = (String) r[2];
            assertFalse(err.contains("\tat "), "no stack trace: " + err);
            List<String> lines = err.lines().filter(l -> !l.isBlank()).toList();
            String line = lines.get(lines.size() - 1);
            assertTrue(line.startsWith("distill4j: ") && line.contains("item 12") && line.contains("400"), err);
            Path cache = dir.resolve("failing");
            assertFalse(Files.exists(cache.resolve(CacheManifest.FILE_NAME)), "no manifest");
            assertFalse(Files.exists(cache.resolve(SparkSampling.ATTEMPTS)), "no attempt folders");
            try (Stream<Path> files = Files.list(cache)) {
                List<String> left = files.map(p -> p.getFileName().toString()).sorted().toList();
                assertTrue(left.stream().allMatch(f -> f.matches("part-0000[0134]\\.arrow")),
                        "only shards committed whole by the tasks that succeeded: " + left);
            }
            // on local[2,2] the task fails on both of its attempts: the same end
            Exception e = assertThrows(Exception.class, () -> spark(job, List.of()));
            assertTrue(SparkFaults.oneLine(e).contains("failed 2 times"), SparkFaults.oneLine(e));
            assertFalse(Files.exists(cache.resolve(CacheManifest.FILE_NAME)), "no manifest");
            assertFalse(Files.exists(cache.resolve(SparkSampling.ATTEMPTS)), "no attempt folders");
        }
    }
}

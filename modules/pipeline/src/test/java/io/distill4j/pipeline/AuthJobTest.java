package io.distill4j.pipeline;

import io.distill4j.teacher.http.FakeOpenAiServer;
import io.distill4j.teacher.http.HttpTeacherConfig;
import io.distill4j.teacher.http.HttpTeacher;
import io.distill4j.teacher.http.TeacherServerException;
import io.distill4j.data.BadInputException;
import io.distill4j.teacher.http.LogCapture;
import io.distill4j.teacher.http.TestCertificates;

import static io.distill4j.teacher.http.FakeOpenAiServer.Reply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.data.BadInputException;
import io.distill4j.data.TeacherCache;
import io.distill4j.teacher.SampleProgress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill4j sample} jobs against a server that wants a key: the YAML fields, and no secret left behind. */
class AuthJobTest {

    private static final String KEY = "sk-test-7f3a9c21e5b04d68";
    private static final String ORG = "org-5521-b7e9";
    private static final Path ROOT = Path.of(System.getProperty("distill4j.root", "../.."));

    private static Map<String, Object> job(Path cache, Path prompts, Map<String, Object> teacher) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("cache", cache.toString());
        c.put("k", 2);
        c.put("rowsPerShard", 2);
        c.put("prompts", Map.of("file", prompts.toString()));
        Map<String, Object> t = new LinkedHashMap<>(Map.of("type", "http", "server", "https://127.0.0.1:8443"));
        t.putAll(teacher);
        c.put("teacher", t);
        return c;
    }

    @Test
    void theYamlFieldsReachTheConfigAndALiteralKeyIsRefusedUnquoted(@TempDir Path dir) {
        Path prompts = dir.resolve("p.txt");
        SampleSpec spec = SampleSpec.parse(job(dir.resolve("c"), prompts, Map.of("apiKeyEnv", "VLLM_API_KEY",
                "headers", Map.of("X-Org", "ORG_ID"), "caCertificates", "certs/ca.pem")), ROOT.resolve("qa.yaml"));
        HttpTeacherConfig.Auth auth = spec.sequence().http().auth();
        assertEquals("VLLM_API_KEY", auth.apiKeyEnv());
        assertEquals(Map.of("X-Org", "ORG_ID"), auth.headers());
        assertEquals(ROOT.resolve("certs/ca.pem").normalize(), auth.caCertificates(), "relative to the job file's folder");
        assertEquals(Path.of("/run/secrets/key"), SampleSpec.parse(job(dir.resolve("c"), prompts,
                Map.of("apiKeyFile", "/run/secrets/key")), ROOT.resolve("qa.yaml")).sequence().http().auth().apiKeyFile());

        BadInputException e = assertThrows(BadInputException.class, () -> SampleSpec.parse(job(dir.resolve("c"), prompts,
                Map.of("apiKey", KEY)), ROOT.resolve("qa.yaml")));
        assertTrue(e.getMessage().matches(".*qa\\.yaml:\\d+:\\d+: field teacher\\.apiKey: a job file never holds the key.*"),
                e.getMessage());
        assertFalse(e.getMessage().contains(KEY), e.getMessage());
        e = assertThrows(BadInputException.class, () -> SampleSpec.parse(job(dir.resolve("c"), prompts,
                Map.of("headers", Map.of("X-Org", ORG))), ROOT.resolve("qa.yaml")));
        assertTrue(e.getMessage().matches(".*qa\\.yaml:\\d+:\\d+: field teacher: headers\\.X-Org: expected the name of an "
                + "environment.*"), e.getMessage());
        assertFalse(e.getMessage().contains(ORG), e.getMessage());
        e = assertThrows(BadInputException.class, () -> SampleSpec.parse(job(dir.resolve("c"), prompts,
                Map.of("headers", KEY)), ROOT.resolve("qa.yaml")));
        assertTrue(e.getMessage().matches(".*qa\\.yaml:\\d+:\\d+: field teacher\\.headers: expected a mapping \\(name: value "
                + "lines\\)"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> SampleSpec.parse(job(dir.resolve("c"), prompts,
                Map.of("server", "https://u:" + KEY + "@127.0.0.1:8443")), ROOT.resolve("qa.yaml")));
        assertTrue(e.getMessage().contains("user name or password"), e.getMessage());
        assertFalse(e.getMessage().contains(KEY), e.getMessage());
    }

    @Test
    void theShippedVllmExampleIsTheReadmesYamlAndNamesTheVariable() throws Exception {
        Path example = ROOT.resolve("modules/teacher/examples/vllm-api-key.yaml");
        String yaml = Files.readAllLines(example).stream().filter(l -> !l.startsWith("#"))
                .map(l -> l + "\n").reduce("", String::concat);
        assertTrue(Files.readString(ROOT.resolve("README.md")).contains("```yaml\n" + yaml + "```"),
                "README shows the example's YAML as it is");
        HttpTeacherConfig http = SampleSpec.load(example).sequence().http();
        assertEquals("VLLM_API_KEY", http.auth().apiKeyEnv());
        assertEquals(Map.of("return_tokens_as_token_ids", true), http.extraBody());
        BadInputException e = assertThrows(BadInputException.class, () -> new HttpTeacher(http, Map.<String, String>of()::get));
        assertEquals("apiKeyEnv: the environment variable VLLM_API_KEY is not set (or empty)", e.getMessage());
    }

    /**
     * A job run over https with a key and a header, resumed, then run with a wrong key, with no key and with
     * the key in another variable (which does not resume the cache): no
     * file under the run's folder, no log line (Log4j2, every level), no stage line and no exception text
     * holds the key or the header's value, while the manifest names their variables.
     */
    @Test
    void aRunLeavesTheSecretsInNoFileNoLogAndNoMessage(@TempDir Path dir) throws Exception {
        TestCertificates certs = TestCertificates.create(Files.createDirectories(dir.resolve("certs")));
        Path prompts = Files.createDirectories(dir.resolve("in")).resolve("prompts.txt");
        Files.writeString(prompts, "one\ntwo\nthree\n");
        Path run = Files.createDirectories(dir.resolve("run"));
        Path yaml = dir.resolve("in/job.yaml");
        List<String> texts = new ArrayList<>();
        String log;
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b,
                b.path("n").asInt(1), 2)), certs.serverContext());
                LogCapture capture = new LogCapture()) {
            s.requireKey(KEY);
            Files.writeString(yaml, String.join("\n",
                    "cache: " + run.resolve("cache"),
                    "k: 2",
                    "rowsPerShard: 2",
                    "prompts: {file: " + prompts + "}",
                    "teacher:",
                    "  type: http",
                    "  server: " + s.baseUri(),
                    "  maxTokens: 2",
                    "  topLogprobs: 3",
                    "  maxRetries: 2",
                    "  apiKeyEnv: VLLM_API_KEY",
                    "  headers: {X-Org: ORG_ID}",
                    "  caCertificates: " + certs.bothPem(),
                    ""));
            SampleSpec spec = SampleSpec.load(yaml);
            Function<String, String> env = Map.of("VLLM_API_KEY", KEY, "ORG_ID", ORG)::get;
            SampleJob.Result r = SampleJob.run(spec, Device.cpu(), SampleProgress.NONE, texts::add, env);
            assertEquals(3, r.items());
            assertEquals(3, SampleJob.run(spec, Device.cpu(), SampleProgress.NONE, texts::add, env).resumedFrom());
            assertEquals(0, s.rejected.get());
            assertTrue(s.seen.stream().allMatch(q -> ("Bearer " + KEY).equals(q.headers().get("authorization"))
                    && ORG.equals(q.headers().get("x-org"))), "the key and header were sent on every request");

            TeacherServerException refused = assertThrows(TeacherServerException.class, () -> SampleJob.run(spec,
                    Device.cpu(), SampleProgress.NONE, texts::add, Map.of("VLLM_API_KEY", KEY + "x", "ORG_ID", ORG)::get));
            assertTrue(refused.getMessage().contains("HTTP 401") && refused.getMessage().contains("VLLM_API_KEY"),
                    refused.getMessage());
            texts.add(stackTrace(refused));
            BadInputException missing = assertThrows(BadInputException.class, () -> SampleJob.run(spec, Device.cpu(),
                    SampleProgress.NONE, texts::add, Map.of("VLLM_API_KEY", KEY)::get));
            assertEquals(yaml + ": field teacher.headers.X-Org: the environment variable ORG_ID is not set (or empty)",
                    missing.getMessage());
            texts.add(stackTrace(missing));
            Files.writeString(yaml, Files.readString(yaml).replace("apiKeyEnv: VLLM_API_KEY", "apiKeyEnv: OTHER_KEY"));
            BadInputException moved = assertThrows(BadInputException.class, () -> SampleJob.run(SampleSpec.load(yaml),
                    Device.cpu(), SampleProgress.NONE, texts::add, Map.of("OTHER_KEY", KEY, "ORG_ID", ORG)::get));
            assertTrue(moved.getMessage().contains("field teacher.auth") && moved.getMessage().contains("OTHER_KEY"),
                    "a key from another variable does not resume the cache: " + moved.getMessage());
            texts.add(stackTrace(moved));
            log = capture.text();
        }

        List<Path> files;
        try (Stream<Path> walk = Files.walk(run)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertTrue(files.stream().anyMatch(f -> f.getFileName().toString().endsWith(".arrow")), "shards were written: " + files);
        for (Path f : files) {
            String content = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1); // bytes as chars
            assertFalse(content.contains(KEY), f + " holds the key");
            assertFalse(content.contains(ORG), f + " holds the header's value");
        }
        Map<String, Object> teacher = TeacherCache.open(run.resolve("cache")).manifest().teacher();
        assertEquals(Map.of("apiKeyEnv", "VLLM_API_KEY", "headers", Map.of("X-Org", "ORG_ID")), teacher.get("auth"),
                "the provenance names the variables");
        assertTrue(log.contains("VLLM_API_KEY") && log.contains("X-Org"), "the log capture works: " + log);
        assertTrue(texts.stream().anyMatch(t -> t.contains("the API key from environment variable VLLM_API_KEY")), texts.toString());
        for (String t : texts) {
            assertFalse(t.contains(KEY) || t.contains(ORG), t);
        }
        assertFalse(log.contains(KEY) || log.contains(ORG), log);
    }

    private static String stackTrace(Throwable e) {
        java.io.StringWriter w = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }
}

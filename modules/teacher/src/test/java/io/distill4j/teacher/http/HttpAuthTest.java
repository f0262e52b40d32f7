package io.distill4j.teacher.http;

import static io.distill4j.teacher.http.FakeOpenAiServer.Reply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.teacher.SampleProgress;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP teacher against servers that want an API key, extra headers and https with a private CA. */
class HttpAuthTest {

    static final String KEY = "sk-test-7f3a9c21e5b04d68";
    static final String ORG = "org-5521-b7e9";
    static final Function<String, String> ENV = Map.of("VLLM_API_KEY", KEY, "ORG_ID", ORG)::get;

    @TempDir
    static Path certDir;
    static TestCertificates certs;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = TestCertificates.create(certDir);
    }

    private static FakeOpenAiServer server(boolean https) throws Exception {
        return new FakeOpenAiServer((n, b) -> Reply.ok(FakeOpenAiServer.contentReply(b, b.path("n").asInt(1), 2)),
                https ? certs.serverContext() : null);
    }

    private static HttpTeacherConfig.Builder config(FakeOpenAiServer s) {
        return HttpTeacherConfig.builder().setBaseUri(s.baseUri()).setK(2).optMaxTokens(2).optTopLogprobs(3).optSeed(7)
                .optBackoff(Duration.ofMillis(1), Duration.ofMillis(5)).optMaxRetries(3);
    }

    private static List<PromptSamples> sample(HttpTeacher t, int prompts) {
        List<PromptSamples> out = new ArrayList<>();
        t.sample(IntStream.range(0, prompts).mapToObj(i -> "prompt " + i).toList(), 0, true, out::add, SampleProgress.NONE);
        return out;
    }

    /** @return the exception's whole text: message, causes and frames, as a log would show it */
    static String stackTrace(Throwable e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    @Test
    void theKeyAndTheHeadersGoOnEveryRequestAndTheProvenanceNamesOnlyTheirVariables() throws Exception {
        try (FakeOpenAiServer s = server(false)) {
            s.requireKey(KEY);
            HttpTeacher t = new HttpTeacher(config(s).optApiKeyEnv("VLLM_API_KEY").optHeaders(Map.of("X-Org", "ORG_ID")).build(),
                    ENV);
            List<PromptSamples> out = sample(t, 3);
            assertEquals(3, out.size());
            assertEquals(0, s.rejected.get());
            Set<String> paths = s.seen.stream().map(FakeOpenAiServer.Seen::path).collect(Collectors.toSet());
            assertEquals(Set.of("/v1/models", "/v1/completions", "/tokenize"), paths, "every kind of request was made");
            for (FakeOpenAiServer.Seen r : s.seen) {
                assertEquals("Bearer " + KEY, r.headers().get("authorization"), r.path());
                assertEquals(ORG, r.headers().get("x-org"), r.path());
            }
            Map<String, Object> p = t.provenance();
            assertEquals(Map.of("apiKeyEnv", "VLLM_API_KEY", "headers", Map.of("X-Org", "ORG_ID")), p.get("auth"));
            String json = new ObjectMapper().writeValueAsString(p);
            assertFalse(json.contains(KEY) || json.contains(ORG), json);
        }
    }

    @Test
    void aKeyFileIsReadAndAFileOthersMayReadIsWarnedAbout(@TempDir Path dir) throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX permissions only");
        Path file = dir.resolve("vllm.key");
        Files.writeString(file, KEY + "\n");
        try (FakeOpenAiServer s = server(false)) {
            s.requireKey(KEY);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            String log;
            try (LogCapture capture = new LogCapture()) {
                HttpTeacher t = new HttpTeacher(config(s).setK(1).optApiKeyFile(file).build(), ENV);
                assertEquals(1, t.complete("p", 0).size());
                log = capture.text();
            }
            assertTrue(log.contains("WARN") && log.contains("apiKeyFile " + file) && log.contains("rw-r--r--")
                    && log.contains("chmod 600"), log);
            assertFalse(log.contains(KEY), log);
            assertEquals("Bearer " + KEY, s.seen.get(0).headers().get("authorization"), "the line break is not part of the key");

            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            try (LogCapture capture = new LogCapture()) {
                HttpTeacher t = new HttpTeacher(config(s).setK(1).optApiKeyFile(file).build(), ENV);
                assertEquals(1, t.complete("p", 0).size());
                log = capture.text();
            }
            assertFalse(log.contains("chmod"), log);
            assertTrue(log.contains("the API key from file " + file), "the capture works: " + log);
            assertEquals(0, s.rejected.get());
        }
    }

    @Test
    void aKeySentOverPlainHttpToAnotherHostIsWarnedAbout() {
        String log;
        try (LogCapture capture = new LogCapture()) {
            for (String server : List.of("http://10.255.255.1:8000", "http://127.0.0.1:8000", "http://localhost:8000",
                    "https://10.255.255.1:8000")) {
                new HttpTeacher(HttpTeacherConfig.builder().setBaseUri(server).optApiKeyEnv("VLLM_API_KEY").build(), ENV);
            }
            new HttpTeacher(HttpTeacherConfig.builder().setBaseUri("http://10.255.255.2:8000").build(), ENV);
            log = capture.text();
        }
        List<String> warnings = log.lines().filter(l -> l.startsWith("WARN")).toList();
        assertEquals(List.of("WARN io.distill4j.teacher.http.Credentials - the API key from environment variable VLLM_API_KEY "
                + "goes to http://10.255.255.1:8000 without encryption: anyone on the path can read it; use an https address"),
                warnings, log);
    }

    @Test
    void withoutAKeyThe401StopsAtOnceSayingWhatToSet() throws Exception {
        try (FakeOpenAiServer s = server(false)) {
            s.requireKey(KEY);
            HttpTeacher t = new HttpTeacher(config(s).build(), ENV);
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> sample(t, 2));
            assertFalse(e.retryable());
            assertTrue(e.getMessage().contains(s.baseUri()) && e.getMessage().contains("HTTP 401")
                    && e.getMessage().contains("apiKeyEnv"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
            assertEquals(1, s.rejected.get(), "not retried (maxRetries is 3)");
            assertEquals(1, t.requestsSent());
        }
    }

    @Test
    void aWrongKeyGetsOneLineNamingTheVariableNeverTheValue() throws Exception {
        String wrong = "sk-wrong-0a1b2c3d4e5f";
        try (FakeOpenAiServer s = server(false)) {
            s.requireKey(KEY);
            HttpTeacher t = new HttpTeacher(config(s).optApiKeyEnv("VLLM_API_KEY").build(), Map.of("VLLM_API_KEY", wrong)::get);
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> sample(t, 2));
            assertTrue(e.getMessage().contains(s.baseUri()) && e.getMessage().contains("HTTP 401")
                    && e.getMessage().contains("environment variable VLLM_API_KEY"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
            assertFalse(stackTrace(e).contains(wrong), "the server echoed the key; the exception must not");
            assertEquals(1, s.rejected.get());
            assertEquals("Bearer " + wrong, s.seen.get(0).headers().get("authorization"), "the wrong key was sent");
        }
    }

    @Test
    void a403IsNotRetriedEither() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) ->
                Reply.status(403, "{\"error\":{\"message\":\"key " + KEY + " may not use this model\"}}"))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optApiKeyEnv("VLLM_API_KEY")
                    .optNMode(HttpTeacherConfig.NMode.SINGLE).build(), ENV);
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> t.complete("p", 4));
            assertTrue(e.getMessage().contains("item 4") && e.getMessage().contains("HTTP 403")
                    && e.getMessage().contains("VLLM_API_KEY"), e.getMessage());
            assertFalse(stackTrace(e).contains(KEY));
            assertEquals(1, s.posts(), "not retried");
        }
    }

    @Test
    void textQuotedFromAServerHasTheSecretsRedacted() throws Exception {
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.status(500,
                "{\"error\":{\"message\":\"backend rejected Bearer " + KEY + " for " + ORG + "\"}}"))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optMaxRetries(0).optApiKeyEnv("VLLM_API_KEY")
                    .optHeaders(Map.of("X-Org", "ORG_ID")).optNMode(HttpTeacherConfig.NMode.SINGLE).build(), ENV);
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> t.complete("p", 0));
            assertTrue(e.getMessage().contains("HTTP 500 backend rejected Bearer [redacted] for [redacted]"), e.getMessage());
            assertFalse(stackTrace(e).contains(KEY) || stackTrace(e).contains(ORG));
        }
        try (FakeOpenAiServer s = new FakeOpenAiServer((n, b) -> Reply.ok("{\"echo\": \"" + KEY + "\", \"choices\": ["))) {
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optMaxRetries(1).optApiKeyEnv("VLLM_API_KEY")
                    .optNMode(HttpTeacherConfig.NMode.SINGLE).build(), ENV);
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> t.complete("p", 0));
            assertTrue(e.getMessage().contains("malformed JSON") && e.getMessage().contains("[redacted]")
                    && e.getMessage().contains("gave up after 2 attempts"), e.getMessage());
            assertFalse(stackTrace(e).contains(KEY), stackTrace(e));
        }
    }

    @Test
    void aMissingVariableOrFileIsRefusedBeforeAnyRequest(@TempDir Path dir) throws Exception {
        try (FakeOpenAiServer s = server(false)) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> new HttpTeacher(config(s).optApiKeyEnv("VLLM_API_KEY").build(), Map.<String, String>of()::get));
            assertEquals("apiKeyEnv: the environment variable VLLM_API_KEY is not set (or empty)", e.getMessage());
            e = assertThrows(BadInputException.class,
                    () -> new HttpTeacher(config(s).optApiKeyEnv("VLLM_API_KEY").build(), Map.of("VLLM_API_KEY", "")::get));
            assertTrue(e.getMessage().contains("VLLM_API_KEY is not set (or empty)"), e.getMessage());
            e = assertThrows(BadInputException.class, () -> new HttpTeacher(config(s).optApiKeyEnv("VLLM_API_KEY")
                    .optHeaders(Map.of("X-Org", "ORG_ID")).build(), Map.of("VLLM_API_KEY", KEY)::get));
            assertEquals("headers.X-Org: the environment variable ORG_ID is not set (or empty)", e.getMessage());
            Path missing = dir.resolve("no-such.key");
            e = assertThrows(BadInputException.class, () -> new HttpTeacher(config(s).optApiKeyFile(missing).build(), ENV));
            assertEquals("apiKeyFile: " + missing + ": file not found", e.getMessage());
            String twoWords = "sk-part-one sk-part-two";
            e = assertThrows(BadInputException.class, () -> new HttpTeacher(config(s).optApiKeyEnv("VLLM_API_KEY").build(),
                    Map.of("VLLM_API_KEY", twoWords)::get));
            assertTrue(e.getMessage().startsWith("apiKeyEnv: the environment variable VLLM_API_KEY holds spaces"), e.getMessage());
            assertFalse(e.getMessage().contains("sk-part"), e.getMessage());
            assertEquals(0, s.seen.size(), "no request was sent");
        }
    }

    @Test
    void httpsWithAPrivateCaFromAPemOfSeveralCertificates() throws Exception {
        try (FakeOpenAiServer s = server(true)) {
            s.requireKey(KEY);
            assertTrue(s.baseUri().startsWith("https://127.0.0.1:"));
            HttpTeacher t = new HttpTeacher(config(s).optApiKeyEnv("VLLM_API_KEY").optCaCertificates(certs.bothPem()).build(),
                    ENV);
            List<PromptSamples> out = sample(t, 2);
            assertEquals(2, out.size());
            assertEquals(2, out.get(1).completions().size());
            assertEquals(0, s.rejected.get());
            assertTrue(s.posts() >= 2);
            assertEquals(Map.of("apiKeyEnv", "VLLM_API_KEY"), t.provenance().get("auth"), "the CA file is transport, not provenance");
        }
    }

    @Test
    void httpsWithAnUntrustedCertificateFailsOnceWithAHint() throws Exception {
        try (FakeOpenAiServer s = server(true)) {
            HttpTeacher jdkOnly = new HttpTeacher(config(s).build(), ENV);
            TeacherServerException e = assertThrows(TeacherServerException.class, () -> sample(jdkOnly, 1));
            assertTrue(e.getMessage().contains(s.baseUri()) && e.getMessage().contains("TLS handshake failed")
                    && e.getMessage().contains("caCertificates"), e.getMessage());
            assertFalse(e.retryable());
            assertEquals(1, jdkOnly.requestsSent(), "not retried (maxRetries is 3)");
            HttpTeacher wrongCa = new HttpTeacher(config(s).optCaCertificates(certs.otherPem()).build(), ENV);
            e = assertThrows(TeacherServerException.class, () -> sample(wrongCa, 1));
            assertTrue(e.getMessage().contains("TLS handshake failed") && e.getMessage().contains(certs.otherPem().toString()),
                    e.getMessage());
            assertEquals(0, s.seen.size(), "no request got through");
        }
    }

    @Test
    void aCaFileWithoutCertificatesIsRefusedNamingIt(@TempDir Path dir) throws Exception {
        Path notPem = dir.resolve("ca.pem");
        Files.writeString(notPem, "not a certificate\n");
        HttpTeacherConfig c = HttpTeacherConfig.builder().setBaseUri("https://127.0.0.1:1").optCaCertificates(notPem).build();
        BadInputException e = assertThrows(BadInputException.class, () -> new HttpTeacher(c, ENV));
        assertTrue(e.getMessage().startsWith("caCertificates: " + notPem + ": "), e.getMessage());
        Path missing = dir.resolve("none.pem");
        HttpTeacherConfig m = HttpTeacherConfig.builder().setBaseUri("https://127.0.0.1:1").optCaCertificates(missing).build();
        e = assertThrows(BadInputException.class, () -> new HttpTeacher(m, ENV));
        assertEquals("caCertificates: " + missing + ": file not found", e.getMessage());
    }

    @Test
    void anAuthorizationHeaderOfItsOwnIsSentWhenNoKeyIsGiven() throws Exception {
        try (FakeOpenAiServer s = server(false)) {
            s.requireKey(KEY);
            Map<String, String> env = new HashMap<>(Map.of("BASIC", "Bearer " + KEY));
            HttpTeacher t = new HttpTeacher(config(s).setK(1).optHeaders(Map.of("Authorization", "BASIC")).build(), env::get);
            assertEquals(1, t.complete("p", 0).size());
            assertEquals(0, s.rejected.get());
        }
    }

    @Test
    void theConfigRefusesUserInfoAndNeverQuotesASecret() {
        String password = "hunter2-pass";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HttpTeacherConfig.builder().setBaseUri("https://admin:" + password + "@vllm.example:8000").build());
        assertTrue(e.getMessage().contains("user name or password") && e.getMessage().contains("https://***@vllm.example:8000")
                && e.getMessage().contains("apiKeyEnv"), e.getMessage());
        assertFalse(e.getMessage().contains(password), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HttpTeacherConfig.builder().setBaseUri("https://admin:" + password + " x@vllm.example:8000"));
        assertFalse(e.getMessage().contains(password), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:8000?api_key=" + password).build());
        assertTrue(e.getMessage().contains("query"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:1").optApiKeyEnv(KEY).build());
        assertTrue(e.getMessage().startsWith("apiKeyEnv: expected the name of an environment variable"), e.getMessage());
        assertFalse(e.getMessage().contains(KEY), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:1")
                .optHeaders(Map.of("X-Org", ORG)).build());
        assertTrue(e.getMessage().startsWith("headers.X-Org: expected the name"), e.getMessage());
        assertFalse(e.getMessage().contains(ORG), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:1")
                .optApiKeyEnv("A").optApiKeyFile(Path.of("k")).build());
        assertTrue(e.getMessage().contains("one of apiKeyEnv and apiKeyFile"), e.getMessage());
        for (String header : List.of("Host", "Content-Type", "Content-Length", "X Bad")) {
            e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:1")
                    .optHeaders(Map.of(header, "V")).build());
            assertTrue(e.getMessage().startsWith("headers." + header + ": "), e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:1")
                .optApiKeyEnv("K").optHeaders(Map.of("authorization", "V")).build());
        assertTrue(e.getMessage().contains("give one or the other"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder().setBaseUri("http://127.0.0.1:1")
                .optCaCertificates(Path.of("ca.pem")).build());
        assertTrue(e.getMessage().contains("caCertificates is for https"), e.getMessage());
    }
}

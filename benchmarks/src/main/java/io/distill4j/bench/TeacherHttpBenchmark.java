package io.distill4j.bench;

import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.gguf.TinyLlamaGguf;
import io.distill4j.teacher.http.HttpTeacher;
import io.distill4j.teacher.http.HttpTeacherConfig;
import io.distill4j.teacher.http.LlamaServer;
import io.distill4j.teacher.http.PromptSamples;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Issue 6's HTTP target: against a llama.cpp server, the HTTP teacher at concurrency 8 reaches at least
 * 80% of the throughput the server sustains on its own, measured with parallel requests outside distill4j.
 *
 * <p>Setup writes the tiny random-weight Llama ({@link TinyLlamaGguf}) and starts llama-server (built by
 * {@code modules/teacher/scripts/build-llama-server.sh}) on 127.0.0.1 with 8 slots. One operation is one
 * completion request (16 tokens, top-5 log-probabilities): 32 prompts x k = 4 samples per invocation.
 * <ul>
 *   <li>{@code serverAlone}: 8 threads post the same 128 request bodies with the JDK client and read the
 *       response bodies as strings: the server's sustained throughput with 8 requests in flight;</li>
 *   <li>{@code httpTeacher}: {@link HttpTeacher#sample} with concurrency 8, one seeded request per sample,
 *       parsing every response into token ids and top-K log-probabilities.</li>
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.nio=ALL-UNNAMED", "-Xmx1g"})
@State(Scope.Benchmark)
public class TeacherHttpBenchmark {

    static final int PROMPTS = 32;
    static final int K = 4;
    static final int REQUESTS = PROMPTS * K;
    static final int CONCURRENCY = 8;

    private LlamaServer server;
    private Path dir;
    private List<String> prompts;
    private HttpTeacherConfig config;
    private HttpTeacher teacher;
    private HttpClient client;
    private ExecutorService pool;
    private List<byte[]> bodies;

    /** Starts llama-server with the tiny model. */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path root = Path.of(System.getProperty("distill4j.root", ".")).toAbsolutePath();
        Path binary = LlamaServer.locate(root).orElseThrow(() -> new IllegalStateException("llama-server is not built under "
                + root + ": run " + LlamaServer.BUILD_SCRIPT + " (or set " + LlamaServer.ENV_BINARY + ")"));
        dir = Files.createTempDirectory("teacher-http-bench");
        Path model = dir.resolve("tiny-llama.gguf");
        TinyLlamaGguf.defaults().write(model);
        int threads = Integer.getInteger("llama.threads", 2);
        server = LlamaServer.start(binary, model, CONCURRENCY, 128, threads, dir.resolve("server.log"), Duration.ofSeconds(60));
        prompts = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            prompts.add("Prompt number " + i + ": the quick brown fox");
        }
        config = HttpTeacherConfig.builder().setBaseUri(server.baseUri()).setK(K).optMaxTokens(16).optTopLogprobs(5)
                .optSeed(1).optConcurrency(CONCURRENCY).optNMode(HttpTeacherConfig.NMode.SINGLE).build();
        teacher = new HttpTeacher(config);
        HttpTeacher probe = teacher;
        bodies = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            for (int j = 0; j < K; j++) {
                String body = "{\"prompt\":\"" + prompts.get(i) + "\",\"logprobs\":5,\"max_tokens\":16,\"temperature\":1.0,"
                        + "\"top_p\":1.0,\"seed\":" + probe.seedFor(i, j) + ",\"stream\":false}";
                bodies.add(body.getBytes(StandardCharsets.UTF_8));
            }
        }
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        pool = Executors.newFixedThreadPool(CONCURRENCY);
    }

    /**
     * The server on its own: 128 requests, 8 in flight, bodies read as strings and not parsed.
     *
     * @return the total response length
     */
    @Benchmark
    @OperationsPerInvocation(REQUESTS)
    public long serverAlone() throws Exception {
        AtomicInteger next = new AtomicInteger();
        URI uri = URI.create(server.baseUri() + "/v1/completions");
        List<Future<Long>> workers = new ArrayList<>();
        for (int w = 0; w < CONCURRENCY; w++) {
            workers.add(pool.submit(() -> {
                long chars = 0;
                for (int i = next.getAndIncrement(); i < REQUESTS; i = next.getAndIncrement()) {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(bodies.get(i))).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) {
                        throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
                    }
                    chars += r.body().length();
                }
                return chars;
            }));
        }
        long total = 0;
        for (Future<Long> f : workers) {
            total += f.get();
        }
        return total;
    }

    /**
     * The HTTP teacher: 32 prompts x 4 samples, concurrency 8, responses parsed.
     *
     * @return the number of sampled tokens
     */
    @Benchmark
    @OperationsPerInvocation(REQUESTS)
    public long httpTeacher() {
        long[] tokens = {0};
        teacher.sample(prompts, 0, (PromptSamples p) -> p.completions().forEach(c -> tokens[0] += c.steps().size()),
                SampleProgress.NONE);
        return tokens[0];
    }

    /** Stops the server. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (pool != null) {
            pool.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
    }
}

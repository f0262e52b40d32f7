package io.distill4j.teacher.http;

import io.distill4j.teacher.SampleProgress;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Issue 13, item 5: the HTTP teacher's own cost per completion, against an in-process stub server that
 * answers every {@code POST /v1/completions} at once with the same llama.cpp-shaped body (16 tokens, top-5
 * log-probabilities with ids, about 4 KB, as {@code benchmarks/http-client/stub_server.py} writes) in one
 * write, keeping connections alive.
 *
 * <p>One operation is one completion: 32 prompts x k = 4 seeded requests per invocation, 4 in flight.
 * <ul>
 *   <li>{@code teacher}: {@link HttpTeacher#sample} as {@code distill4j sample} runs it (its HTTP/1.1 client,
 *       the response parsed into ids and top-K log-probabilities);</li>
 *   <li>{@code jdkClient}: the transport the teacher used before, {@code java.net.http.HttpClient.send} with
 *       the body as a string, from 4 threads, the same parser;</li>
 *   <li>{@code parseOnly}: the parser alone on the canned body, one thread (its streaming pass);</li>
 *   <li>{@code parseTreeOnly}: its tree parse alone, the parser before the streaming pass.</li>
 * </ul>
 * Besides JMH's wall time per completion, the counters give CPU milliseconds per iteration of the whole
 * process ({@code cpuMs}), of the stub server's threads ({@code serverCpuMs}), and their difference, the
 * client's ({@code clientCpuMs}); divide by {@code completions} for the cost of one.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@State(Scope.Benchmark)
public class TeacherHttpClientBenchmark {

    static final int PROMPTS = 32;
    static final int K = 4;
    static final int REQUESTS = PROMPTS * K;
    static final int CONCURRENCY = 4;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private StubServer server;
    private List<String> prompts;
    private HttpTeacher teacher;
    private HttpClient jdk;
    private ExecutorService pool;
    private ResponseParser parser;
    private String cannedBody;
    private List<byte[]> bodies;

    /** CPU counters per iteration (see the class comment). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Cpu {
        /** Process CPU ms in the iteration's operations. */
        public double cpuMs;
        /** The stub server's CPU ms in them. */
        public double serverCpuMs;
        /** cpuMs - serverCpuMs. */
        public double clientCpuMs;
        /** Completions measured. */
        public long completions;

        /** Zeroes the counters. */
        @Setup(Level.Iteration)
        public void reset() {
            cpuMs = 0;
            serverCpuMs = 0;
            clientCpuMs = 0;
            completions = 0;
        }
    }

    /** Starts the stub server and builds the clients. */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        cannedBody = completionBody(16, 5);
        server = new StubServer(cannedBody.getBytes(StandardCharsets.UTF_8));
        prompts = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            prompts.add("Question " + i + ": why does averaging teacher samples lower the variance?");
        }
        HttpTeacherConfig config = HttpTeacherConfig.builder().setBaseUri(server.uri()).setK(K).optMaxTokens(16)
                .optTopLogprobs(5).optSeed(1).optConcurrency(CONCURRENCY).optNMode(HttpTeacherConfig.NMode.SINGLE).build();
        teacher = new HttpTeacher(config);
        parser = new ResponseParser(5);
        bodies = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            for (int j = 0; j < K; j++) {
                bodies.add(("{\"prompt\":\"" + prompts.get(i) + "\",\"logprobs\":5,\"max_tokens\":16,\"temperature\":1.0,"
                        + "\"top_p\":1.0,\"seed\":" + teacher.seedFor(i, j) + ",\"stream\":false}")
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        pool = Executors.newFixedThreadPool(CONCURRENCY);
    }

    /** Stops the server and the pool. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        pool.shutdownNow();
        server.close();
    }

    private long[] begin() {
        return new long[] {OS.getProcessCpuTime(), server.cpuNanos.get()};
    }

    private static void end(Cpu cpu, long[] start, StubServer server, int completions) {
        double all = (OS.getProcessCpuTime() - start[0]) / 1e6;
        double srv = (server.cpuNanos.get() - start[1]) / 1e6;
        cpu.cpuMs += all;
        cpu.serverCpuMs += srv;
        cpu.clientCpuMs += all - srv;
        cpu.completions += completions;
    }

    /**
     * The HTTP teacher: 32 prompts x 4 samples, 4 in flight, parsed.
     *
     * @param cpu the CPU counters
     * @return the sampled tokens
     */
    @Benchmark
    @OperationsPerInvocation(REQUESTS)
    public long teacher(Cpu cpu) {
        long[] start = begin();
        long[] tokens = {0};
        teacher.sample(prompts, 0, (PromptSamples p) -> p.completions().forEach(c -> tokens[0] += c.steps().size()),
                SampleProgress.NONE);
        end(cpu, start, server, REQUESTS);
        return tokens[0];
    }

    /**
     * The former transport: the JDK client from 4 threads, bodies as strings, the same parser.
     *
     * @param cpu the CPU counters
     * @return the sampled tokens
     */
    @Benchmark
    @OperationsPerInvocation(REQUESTS)
    public long jdkClient(Cpu cpu) throws Exception {
        long[] start = begin();
        AtomicInteger next = new AtomicInteger();
        URI uri = URI.create(server.uri() + "/v1/completions");
        List<Future<Long>> workers = new ArrayList<>();
        for (int w = 0; w < CONCURRENCY; w++) {
            workers.add(pool.submit(() -> {
                long tokens = 0;
                for (int i = next.getAndIncrement(); i < REQUESTS; i = next.getAndIncrement()) {
                    HttpResponse<String> r = jdk.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(bodies.get(i))).build(),
                            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                    tokens += parser.parse(r.body(), "bench", i).get(0).steps().size();
                }
                return tokens;
            }));
        }
        long total = 0;
        for (Future<Long> f : workers) {
            total += f.get();
        }
        end(cpu, start, server, REQUESTS);
        return total;
    }

    /**
     * The parser alone on the canned body.
     *
     * @return the sampled tokens
     */
    @Benchmark
    public long parseOnly() {
        return parser.parse(cannedBody, "bench", 0).get(0).steps().size();
    }

    /**
     * The tree parse alone on the canned body (the parser before the streaming pass; it still reads the bodies
     * that pass declines), one thread.
     *
     * @return the sampled tokens
     */
    @Benchmark
    public long parseTreeOnly() {
        return parser.parseTree(cannedBody, "bench", 0).get(0).steps().size();
    }

    /** A llama.cpp-shaped completion body, as stub_server.py writes it. */
    static String completionBody(int tokens, int top) {
        StringBuilder content = new StringBuilder();
        StringBuilder text = new StringBuilder();
        for (int t = 0; t < tokens; t++) {
            int i = (7 * 31 + t * 7) % 502 + 3;
            text.append("t").append(i);
            if (t > 0) {
                content.append(',');
            }
            content.append(step(i, -0.5)).setLength(content.length() - 1);
            content.append(",\"top_logprobs\":[");
            for (int r = 0; r < top; r++) {
                content.append(r > 0 ? "," : "").append(step(i + r, -0.5 - 1.5 * r));
            }
            content.append("]}");
        }
        return "{\"id\":\"cmpl-stub\",\"object\":\"text_completion\",\"model\":\"stub\",\"choices\":[{\"index\":0,\"text\":\""
                + text + "\",\"finish_reason\":\"length\",\"logprobs\":{\"content\":[" + content + "]}}],"
                + "\"usage\":{\"completion_tokens\":" + tokens + "}}";
    }

    private static String step(int id, double logprob) {
        String tok = "t" + id;
        StringBuilder bytes = new StringBuilder();
        for (byte b : tok.getBytes(StandardCharsets.UTF_8)) {
            bytes.append(bytes.length() > 0 ? ", " : "").append(b);
        }
        return String.format(Locale.ROOT, "{\"id\": %d, \"token\": \"%s\", \"bytes\": [%s], \"logprob\": %s}", id, tok, bytes,
                logprob);
    }

    /**
     * A keep-alive HTTP/1.1 server on 127.0.0.1, a thread per connection: {@code POST /v1/completions} gets the
     * canned body, anything else 404, each response in one write; it adds up its threads' CPU time.
     */
    static final class StubServer implements AutoCloseable {
        final AtomicLong cpuNanos = new AtomicLong();
        private final ServerSocket socket;
        private final byte[] ok;
        private final byte[] notFound;
        private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "stub-server");
            t.setDaemon(true);
            return t;
        });

        StubServer(byte[] body) throws IOException {
            this.socket = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
            this.ok = response("200 OK", body);
            this.notFound = response("404 Not Found", "{\"error\":{\"message\":\"not found\"}}".getBytes(StandardCharsets.UTF_8));
            threads.submit(this::accept);
        }

        private static byte[] response(String status, byte[] body) {
            byte[] head = ("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                    + "\r\nKeep-Alive: timeout=5, max=100000\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] all = new byte[head.length + body.length];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(body, 0, all, head.length, body.length);
            return all;
        }

        String uri() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    s.setTcpNoDelay(true);
                    threads.submit(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
                while (true) {
                    String requestLine = line(in);
                    if (requestLine == null) {
                        return;
                    }
                    long t0 = THREADS.getCurrentThreadCpuTime();
                    int length = 0;
                    for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                        if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
                            length = Integer.parseInt(h.substring(15).trim());
                        }
                    }
                    in.readNBytes(length);
                    out.write(requestLine.startsWith("POST /v1/completions") ? ok : notFound);
                    out.flush();
                    cpuNanos.addAndGet(THREADS.getCurrentThreadCpuTime() - t0);
                }
            } catch (IOException e) {
                // the client closed the connection
            }
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder s = new StringBuilder();
            for (int b = in.read(); b >= 0; b = in.read()) {
                if (b == '\n') {
                    return s.length() > 0 && s.charAt(s.length() - 1) == '\r' ? s.substring(0, s.length() - 1) : s.toString();
                }
                s.append((char) b);
            }
            return s.length() == 0 ? null : s.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            threads.shutdownNow();
        }
    }
}

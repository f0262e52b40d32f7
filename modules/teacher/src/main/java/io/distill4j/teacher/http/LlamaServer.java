package io.distill4j.teacher.http;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A llama.cpp {@code llama-server} process on a free 127.0.0.1 port, for tests and benchmarks.
 *
 * <p>{@link #locate(Path)} finds the binary that {@code modules/teacher/scripts/build-llama-server.sh}
 * builds and caches (or the one named by the environment variable {@value #ENV_BINARY}).
 * {@link #start} launches it with a GGUF model and waits until {@code GET /health} answers 200; its output
 * goes to a log file whose tail is quoted if the server fails to come up. {@link #close()} stops it. The
 * server runs with {@code OMP_WAIT_POLICY=PASSIVE} unless the environment sets it.
 */
public final class LlamaServer implements AutoCloseable {

    /** The environment variable that may name the llama-server binary. */
    public static final String ENV_BINARY = "DISTILL4J_LLAMA_SERVER";
    /** The environment variable naming the build cache folder, as the build script reads it. */
    public static final String ENV_CACHE = "DISTILL4J_LLAMA_CACHE";
    /** The script that builds the binary, relative to the repository root. */
    public static final String BUILD_SCRIPT = "modules/teacher/scripts/build-llama-server.sh";

    private final Process process;
    private final int port;
    private final Path log;

    private LlamaServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Finds a built llama-server: {@value #ENV_BINARY} if set, else the newest build recorded under the build
     * script's cache folder ({@value #ENV_CACHE} if set, else {@code <repoRoot>/.cache/llama.cpp}) in
     * {@code node-llama-cpp-*.path}.
     *
     * @param repoRoot the repository root
     * @return the executable, if one exists
     */
    public static Optional<Path> locate(Path repoRoot) {
        String env = System.getenv(ENV_BINARY);
        if (env != null && !env.isBlank()) {
            Path p = Path.of(env);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        String cacheEnv = System.getenv(ENV_CACHE);
        Path cache = cacheEnv != null && !cacheEnv.isBlank() ? Path.of(cacheEnv) : repoRoot.resolve(".cache/llama.cpp");
        if (!Files.isDirectory(cache)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(cache)) {
            return s.filter(p -> p.getFileName().toString().matches("node-llama-cpp-.*\\.path"))
                    .sorted(Comparator.comparing(LlamaServer::modified).reversed())
                    .map(LlamaServer::readPath)
                    .filter(p -> p != null && Files.isExecutable(p))
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private static Path readPath(Path marker) {
        try {
            return Path.of(Files.readString(marker).strip());
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Starts llama-server and waits for it to be healthy.
     *
     * @param binary the llama-server executable
     * @param model the GGUF model
     * @param slots parallel decoding slots ({@code -np}), positive; a request may ask for up to this many
     *     choices at once
     * @param contextPerSlot the context length of each slot, positive
     * @param threads CPU threads for generation, positive
     * @param logFile where the server's output goes
     * @param timeout how long to wait for {@code /health}
     * @return the running server
     * @throws IOException if it cannot be started or does not become healthy in time (the message quotes its log)
     */
    public static LlamaServer start(Path binary, Path model, int slots, int contextPerSlot, int threads, Path logFile,
            Duration timeout) throws IOException {
        if (slots <= 0 || contextPerSlot <= 0 || threads <= 0) {
            throw new IllegalArgumentException("slots, contextPerSlot and threads must be positive, got " + slots + ", "
                    + contextPerSlot + ", " + threads);
        }
        if (!Files.isRegularFile(model)) {
            throw new IOException(model + ": model file not found");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "-m", model.toString(), "--host", "127.0.0.1",
                "--port", Integer.toString(port), "-np", Integer.toString(slots), "-c",
                Integer.toString(slots * contextPerSlot), "-t", Integer.toString(threads), "-tb", Integer.toString(threads)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile());
        // ggml's OpenMP threads spin while they wait; on a shared machine that starves everyone (30x slower
        // measured on the 2-core CI VM). Passive waiting unless the caller chose otherwise.
        pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        LlamaServer server = new LlamaServer(p, port, logFile);
        try {
            server.awaitHealthy(timeout);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private void awaitHealthy(Duration timeout) throws IOException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        URI health = URI.create(baseUri() + "/health");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("llama-server exited with code " + process.exitValue() + ": " + logTail());
            }
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for llama-server", e);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for llama-server", e);
            }
        }
        throw new IOException("llama-server did not answer /health within " + timeout.toSeconds() + " s: " + logTail());
    }

    /** @return the last lines of the server's log, on one line */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** @return the base address, {@code http://127.0.0.1:<port>} */
    public String baseUri() {
        return "http://127.0.0.1:" + port;
    }

    /** Stops the server (and waits up to 10 s for it to exit). */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}

package io.distill4j.teacher.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/** The teacher's HTTP/1.1 client against a raw socket server that answers exactly as scripted. */
class Http1ClientTest {

    /**
     * A server on 127.0.0.1: for the n-th request on the c-th connection the script gives the raw bytes to
     * write (null: close the connection without answering; an HTTP/1.0 answer is followed by closing it).
     * Records each request's head and body.
     */
    static final class RawServer implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        final AtomicInteger connections = new AtomicInteger();
        final List<String> requests = new CopyOnWriteArrayList<>();
        private final BiFunction<Integer, Integer, String> script;

        RawServer(BiFunction<Integer, Integer, String> script) throws IOException {
            this.script = script;
            Thread t = new Thread(this::accept, "raw-server");
            t.setDaemon(true);
            t.start();
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort());
        }

        private void accept() {
            while (true) {
                try {
                    Socket s = socket.accept();
                    int c = connections.getAndIncrement();
                    Thread t = new Thread(() -> serve(s, c), "raw-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s, int c) {
            try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
                for (int n = 0; ; n++) {
                    StringBuilder head = new StringBuilder();
                    int length = 0;
                    for (String line = line(in); line != null; line = line(in)) {
                        if (line.isEmpty()) {
                            break;
                        }
                        head.append(line).append('\n');
                        if (line.toLowerCase().startsWith("content-length:")) {
                            length = Integer.parseInt(line.substring(15).trim());
                        }
                    }
                    if (head.length() == 0) {
                        return;
                    }
                    String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
                    requests.add(head + "\n" + body);
                    String answer = script.apply(c, n);
                    if (answer == null) {
                        return;
                    }
                    out.write(answer.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    if (answer.startsWith("HTTP/1.0")) {
                        return; // an HTTP/1.0 answer without a length ends with the connection
                    }
                }
            } catch (IOException e) {
                // the client went away
            }
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder s = new StringBuilder();
            for (int b = in.read(); b >= 0; b = in.read()) {
                if (b == '\n') {
                    return s.toString().replace("\r", "");
                }
                s.append((char) b);
            }
            return s.length() == 0 ? null : s.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static String ok(String body) {
        return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    @Test
    void keepsTheConnectionAliveAndSendsHostLengthAndHeaders() throws Exception {
        try (RawServer server = new RawServer((c, n) -> ok("{\"n\":" + n + "}"))) {
            Http1Client client = new Http1Client(server.uri(), null, Duration.ofSeconds(5));
            byte[] body = "{\"prompt\":\"é\"}".getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 3; i++) {
                Http1Client.Response r = client.send("POST", URI.create(server.uri() + "/v1/completions?x=1"),
                        Map.of("Authorization", "Bearer k"), body, Duration.ofSeconds(5));
                assertEquals(200, r.status());
                assertEquals("{\"n\":" + i + "}", r.text());
                assertEquals("application/json", r.header("content-type"));
            }
            assertEquals(1, server.connections.get(), "three requests on one kept-alive connection");
            String first = server.requests.get(0);
            assertEquals("POST /v1/completions?x=1 HTTP/1.1", first.lines().findFirst().orElseThrow());
            assertEquals(true, first.contains("Host: 127.0.0.1:" + server.socket.getLocalPort() + "\n"), first);
            assertEquals(true, first.contains("Authorization: Bearer k\n"), first);
            assertEquals(true, first.contains("Content-Length: " + body.length + "\n"), first);
            assertEquals(true, first.endsWith("\n\n{\"prompt\":\"é\"}"), first);
        }
    }

    @Test
    void decodesAChunkedBodyWithExtensionsAndTrailers() throws Exception {
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;ext=1\r\n{\"a\":\r\n" + "a\r\n[1,2,3,4]}\r\n" + "0\r\nX-Trailer: t\r\n\r\n";
        try (RawServer server = new RawServer((c, n) -> chunked)) {
            Http1Client client = new Http1Client(server.uri(), null, Duration.ofSeconds(5));
            for (int i = 0; i < 2; i++) {
                Http1Client.Response r = client.send("GET", URI.create(server.uri() + "/v1/models"), Map.of(), null,
                        Duration.ofSeconds(5));
                assertEquals("{\"a\":[1,2,3,4]}", r.text());
            }
            assertEquals(1, server.connections.get());
        }
    }

    @Test
    void aConnectionTheServerClosedWhileIdleIsReplacedAndTheRequestSentAgain() throws Exception {
        // the first connection answers once and is then closed by the server without a word
        try (RawServer server = new RawServer((c, n) -> c == 0 && n == 1 ? null : ok("{\"c\":" + c + "}"))) {
            Http1Client client = new Http1Client(server.uri(), null, Duration.ofSeconds(5));
            URI uri = URI.create(server.uri() + "/v1/completions");
            assertEquals("{\"c\":0}", client.send("POST", uri, Map.of(), new byte[] {'{', '}'}, Duration.ofSeconds(5)).text());
            assertEquals("{\"c\":1}", client.send("POST", uri, Map.of(), new byte[] {'{', '}'}, Duration.ofSeconds(5)).text());
            assertEquals(2, server.connections.get());
        }
    }

    @Test
    void connectionCloseAndBodiesToTheEndOfTheStream() throws Exception {
        try (RawServer server = new RawServer((c, n) -> "HTTP/1.0 503 Service Unavailable\r\nRetry-After: 7\r\n\r\nbusy")) {
            Http1Client client = new Http1Client(server.uri(), null, Duration.ofSeconds(5));
            for (int i = 0; i < 2; i++) {
                Http1Client.Response r = client.send("GET", URI.create(server.uri() + "/x"), Map.of(), null,
                        Duration.ofSeconds(5));
                assertEquals(503, r.status());
                assertEquals("7", r.header("retry-after"));
                assertArrayEquals("busy".getBytes(StandardCharsets.UTF_8), r.body());
            }
            assertEquals(2, server.connections.get(), "a body read to the end closes its connection");
        }
    }

    @Test
    void aResponseThatDoesNotComeInTimeIsATimeout() throws Exception {
        try (RawServer server = new RawServer((c, n) -> {
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ok("{}");
        })) {
            Http1Client client = new Http1Client(server.uri(), null, Duration.ofSeconds(5));
            assertThrows(Http1Client.RequestTimeoutException.class, () -> client.send("GET",
                    URI.create(server.uri() + "/slow"), Map.of(), null, Duration.ofMillis(200)));
        }
    }
}

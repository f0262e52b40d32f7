package io.distill4j.teacher.http;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedDeque;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The HTTP teacher's HTTP/1.1 client: blocking sockets with {@code TCP_NODELAY}, each request written in one
 * piece (head and body together), kept-alive connections reused from a pool, response bodies framed by
 * {@code Content-Length}, chunked, or read to the end of the stream; https through an {@link SSLContext}
 * with host-name verification.
 *
 * <p>Why not {@code java.net.http.HttpClient}: its synchronous {@code send} hands every request between the
 * calling thread, a selector thread and worker threads. Sampling 4,096 completions from a stub server, those
 * two threads alone used 4.2 s of CPU (0.8 ms per request) on the 2-core machine of
 * {@code benchmarks/RESULTS.md}, where the whole Python client used 1.2 ms per completion; here the calling
 * thread does the exchange itself ({@code benchmarks/http-client}, {@code TeacherHttpClientBenchmark}).
 *
 * <p>A reused connection that the server closed while idle (EOF or reset before the first byte of the
 * answer) is replaced by a new one and the request sent again: the teacher's requests are seeded, so a
 * repeat gives the same answer. Connections idle longer than {@link #MAX_IDLE} are not reused.
 */
final class Http1Client {

    /** Connections idle longer than this are closed rather than reused (llama-server keeps them 5 s). */
    static final Duration MAX_IDLE = Duration.ofSeconds(4);

    /** A response: status, headers (lower-case names, last value wins) and body bytes. */
    record Response(int status, Map<String, String> headers, byte[] body) {

        /**
         * @param name a lower-case header name
         * @return its value, or null
         */
        String header(String name) {
            return headers.get(name);
        }

        /** @return the body decoded as UTF-8 */
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** No connection within the connect timeout. */
    static final class ConnectTimeoutException extends IOException {
        private static final long serialVersionUID = 1L;

        ConnectTimeoutException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** No complete response within the request timeout. */
    static final class RequestTimeoutException extends IOException {
        private static final long serialVersionUID = 1L;

        RequestTimeoutException(String message) {
            super(message);
        }
    }

    private final String host;
    private final int port;
    private final boolean https;
    private final SSLContext ssl;
    private final int connectTimeoutMillis;
    private final String hostHeader;
    private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();

    /**
     * A client for one server.
     *
     * @param base the server's base address (http or https; its host and port are used)
     * @param ssl the TLS context for https, or null for the JDK's default
     * @param connectTimeout the time allowed to open a connection (and finish a TLS handshake)
     */
    Http1Client(URI base, SSLContext ssl, Duration connectTimeout) {
        this.https = "https".equalsIgnoreCase(base.getScheme());
        this.host = Objects.requireNonNull(base.getHost(), "host");
        int defaultPort = https ? 443 : 80;
        this.port = base.getPort() < 0 ? defaultPort : base.getPort();
        this.hostHeader = base.getPort() < 0 || base.getPort() == defaultPort ? bracket(host) : bracket(host) + ":" + port;
        try {
            this.ssl = !https ? null : ssl != null ? ssl : SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no default TLS context", e);
        }
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, connectTimeout.toMillis()));
    }

    private static String bracket(String host) {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /**
     * Sends one request and reads the whole response.
     *
     * @param method GET or POST
     * @param uri the address (its path and query are sent; host and port are this client's)
     * @param headers extra request headers (the client adds Host, Content-Length, Accept and User-Agent)
     * @param body the body, or null for none
     * @param timeout the time allowed for the whole exchange after the connection is open
     * @return the response
     * @throws ConnectTimeoutException if no connection opens within the connect timeout
     * @throws RequestTimeoutException if the response is not complete within the timeout
     * @throws IOException on any other transport failure ({@link java.net.ConnectException} when refused)
     */
    Response send(String method, URI uri, Map<String, String> headers, byte[] body, Duration timeout) throws IOException {
        byte[] request = request(method, uri, headers, body);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Connection c = pooled();
            boolean reused = c != null;
            if (c == null) {
                c = open();
            }
            Response r;
            try {
                try {
                    c.out.write(request);
                    c.out.flush();
                } catch (IOException e) {
                    if (reused) {
                        throw new StaleConnection(e);
                    }
                    throw e;
                }
                r = c.read("HEAD".equals(method), deadline, reused);
            } catch (StaleConnection e) {
                c.close();
                continue; // the server closed it while idle: again on another one
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
            if (c.keepAlive) {
                c.idleSince = System.nanoTime();
                idle.offerFirst(c);
            } else {
                c.close();
            }
            return r;
        }
    }

    /** Closes the idle connections (a later request opens new ones). */
    void closeIdle() {
        for (Connection c = idle.pollFirst(); c != null; c = idle.pollFirst()) {
            c.close();
        }
    }

    private Connection pooled() {
        long now = System.nanoTime();
        for (Connection c = idle.pollFirst(); c != null; c = idle.pollFirst()) {
            if (now - c.idleSince < MAX_IDLE.toNanos()) {
                return c;
            }
            c.close();
        }
        return null;
    }

    private byte[] request(String method, URI uri, Map<String, String> headers, byte[] body) {
        StringBuilder h = new StringBuilder(256);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        h.append(method).append(' ').append(path);
        if (uri.getRawQuery() != null) {
            h.append('?').append(uri.getRawQuery());
        }
        h.append(" HTTP/1.1\r\nHost: ").append(hostHeader).append("\r\nUser-Agent: distill4j\r\nAccept: application/json\r\n");
        for (Map.Entry<String, String> e : headers.entrySet()) {
            h.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
        }
        if (body != null) {
            h.append("Content-Length: ").append(body.length).append("\r\n");
        }
        h.append("\r\n");
        byte[] head = h.toString().getBytes(StandardCharsets.UTF_8);
        if (body == null) {
            return head;
        }
        byte[] all = new byte[head.length + body.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    private Connection open() throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setKeepAlive(true);
            try {
                s.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
            } catch (SocketTimeoutException e) {
                throw new ConnectTimeoutException("connect timed out", e);
            }
            if (https) {
                SSLSocket t = (SSLSocket) ssl.getSocketFactory().createSocket(s, host, port, true);
                SSLParameters p = t.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                t.setSSLParameters(p);
                t.setSoTimeout(connectTimeoutMillis);
                try {
                    t.startHandshake();
                } catch (SocketTimeoutException e) {
                    t.close();
                    throw new ConnectTimeoutException("TLS handshake timed out", e);
                }
                s = t;
            }
            return new Connection(s);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** A reused connection that the server had closed: nothing of the response arrived. */
    private static final class StaleConnection extends IOException {
        private static final long serialVersionUID = 1L;

        StaleConnection(Throwable cause) {
            super(cause);
        }
    }

    /** One socket with its read buffer. */
    private static final class Connection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] buf = new byte[16384];
        private int pos;
        private int lim;
        private long deadline;
        private boolean keepAlive;
        private long idleSince;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // nothing to do about a socket that will not close
            }
        }

        /** Refills the buffer; false at the end of the stream. */
        private boolean fill() throws IOException {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new RequestTimeoutException("request timed out");
            }
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
            int n;
            try {
                n = in.read(buf, 0, buf.length);
            } catch (SocketTimeoutException e) {
                throw new RequestTimeoutException("request timed out");
            }
            if (n < 0) {
                return false;
            }
            pos = 0;
            lim = n;
            return true;
        }

        private String line() throws IOException {
            StringBuilder s = new StringBuilder(64);
            while (true) {
                if (pos == lim && !fill()) {
                    throw new EOFException("connection closed inside the response head");
                }
                byte b = buf[pos++];
                if (b == '\n') {
                    int n = s.length();
                    return n > 0 && s.charAt(n - 1) == '\r' ? s.substring(0, n - 1) : s.toString();
                }
                if (s.length() > 65536) {
                    throw new IOException("response head line longer than 64 KiB");
                }
                s.append((char) (b & 0xff));
            }
        }

        Response read(boolean head, long deadline, boolean reused) throws IOException {
            this.deadline = deadline;
            pos = 0;
            lim = 0;
            try {
                if (!fill()) {
                    throw new EOFException("connection closed before the response");
                }
            } catch (RequestTimeoutException e) {
                throw e;
            } catch (IOException e) {
                if (reused) {
                    throw new StaleConnection(e);
                }
                throw e;
            }
            while (true) {
                String status = line();
                if (!status.startsWith("HTTP/1.") || status.length() < 12) {
                    throw new IOException("not an HTTP/1.x status line: " + abbreviate(status));
                }
                int code;
                try {
                    code = Integer.parseInt(status.substring(9, 12));
                } catch (NumberFormatException e) {
                    throw new IOException("bad HTTP status line: " + abbreviate(status));
                }
                Map<String, String> headers = new HashMap<>();
                for (String h = line(); !h.isEmpty(); h = line()) {
                    int colon = h.indexOf(':');
                    if (colon > 0) {
                        headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
                    }
                }
                if (code / 100 == 1) {
                    continue; // 100 Continue and friends: the real answer follows
                }
                boolean http11 = status.startsWith("HTTP/1.1");
                String connection = headers.getOrDefault("connection", "");
                keepAlive = http11 ? !connection.equalsIgnoreCase("close") : connection.equalsIgnoreCase("keep-alive");
                byte[] body;
                String te = headers.get("transfer-encoding");
                String cl = headers.get("content-length");
                if (head || code == 204 || code == 304) {
                    body = new byte[0];
                } else if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
                    body = chunked();
                } else if (cl != null) {
                    long n;
                    try {
                        n = Long.parseLong(cl);
                    } catch (NumberFormatException e) {
                        throw new IOException("bad Content-Length: " + abbreviate(cl));
                    }
                    if (n < 0 || n > Integer.MAX_VALUE - 16) {
                        throw new IOException("Content-Length out of range: " + n);
                    }
                    body = exactly((int) n);
                } else {
                    body = toEnd();
                    keepAlive = false;
                }
                return new Response(code, headers, body);
            }
        }

        private byte[] exactly(int n) throws IOException {
            byte[] body = new byte[n];
            int got = 0;
            while (got < n) {
                if (pos == lim && !fill()) {
                    throw new EOFException("connection closed after " + got + " of " + n + " body bytes");
                }
                int m = Math.min(n - got, lim - pos);
                System.arraycopy(buf, pos, body, got, m);
                pos += m;
                got += m;
            }
            return body;
        }

        private byte[] chunked() throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String size = line();
                int semi = size.indexOf(';');
                long n;
                try {
                    n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new IOException("bad chunk size: " + abbreviate(size));
                }
                if (n == 0) {
                    for (String t = line(); !t.isEmpty(); t = line()) {
                        // trailers are not needed
                    }
                    return body.toByteArray();
                }
                if (n > Integer.MAX_VALUE - 16 - body.size()) {
                    throw new IOException("chunked body too large");
                }
                body.write(exactly((int) n));
                if (!line().isEmpty()) {
                    throw new IOException("chunk not followed by CRLF");
                }
            }
        }

        private byte[] toEnd() throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            do {
                body.write(buf, pos, lim - pos);
                pos = lim;
            } while (fill());
            return body.toByteArray();
        }

        private static String abbreviate(String s) {
            return io.distill4j.data.Errors.snippet(s, 100);
        }
    }
}

package io.distill4j.teacher.http;

import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The secrets of an {@link HttpTeacherConfig.Auth}, read once: the API key from its variable or file, the
 * values of the extra headers from their variables, and the TLS context that trusts the private CA
 * certificates. They leave this class only as request headers: {@link #toString()} and every message name
 * variables and files, never values, and {@link #redact} removes the values from any text quoted from a
 * server.
 *
 * <p>Faults are {@link BadInputException}s whose message starts with the config field at fault
 * ({@code apiKeyEnv: ...}), raised before any request is sent.
 */
final class Credentials {

    private static final Logger LOG = LogManager.getLogger(Credentials.class);
    /** What replaces a secret in quoted text. */
    static final String REDACTED = "[redacted]";
    /** Values shorter than this are not redacted from messages. */
    static final int MIN_REDACTED = 4;

    private final HttpTeacherConfig.Auth auth;
    private final Map<String, String> headers;
    private final Map<String, String> jsonHeaders;
    private final List<String> secrets;
    private final SSLContext sslContext;

    private Credentials(HttpTeacherConfig.Auth auth, Map<String, String> headers, List<String> secrets,
            SSLContext sslContext) {
        this.auth = auth;
        this.headers = headers;
        Map<String, String> json = new LinkedHashMap<>(headers);
        json.put("Content-Type", "application/json");
        this.jsonHeaders = Map.copyOf(json);
        this.secrets = secrets;
        this.sslContext = sslContext;
    }

    /**
     * Reads the secrets an {@link HttpTeacherConfig.Auth} names.
     *
     * @param auth where they come from
     * @param server the server's base address (for the warning about a key sent without TLS)
     * @param env looks up environment variables ({@code System::getenv}; tests pass a map's {@code get})
     * @return the credentials
     * @throws BadInputException naming the field and the variable or file, never a value, when a variable
     *     is unset or empty, a file is missing or unreadable, a value is not one line of printable ASCII, or the
     *     CA file holds no certificate
     */
    static Credentials resolve(HttpTeacherConfig.Auth auth, URI server, Function<String, String> env) {
        Map<String, String> headers = new LinkedHashMap<>();
        List<String> secrets = new ArrayList<>();
        if (auth.apiKeyEnv() != null) {
            String key = variable("apiKeyEnv", auth.apiKeyEnv(), env);
            requireToken("apiKeyEnv", "the environment variable " + auth.apiKeyEnv(), key);
            headers.put("Authorization", "Bearer " + key);
            secrets.add(key);
        } else if (auth.apiKeyFile() != null) {
            String key = keyFile(auth.apiKeyFile());
            headers.put("Authorization", "Bearer " + key);
            secrets.add(key);
        }
        for (Map.Entry<String, String> h : auth.headers().entrySet()) {
            String field = "headers." + h.getKey();
            String value = variable(field, h.getValue(), env);
            if (!value.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
                throw new BadInputException(field + ": the environment variable " + h.getValue()
                        + " holds characters a header cannot carry (control or non-ASCII characters; not shown)");
            }
            headers.put(h.getKey(), value);
            secrets.add(value);
        }
        SSLContext tls = auth.caCertificates() == null ? null : trusting(auth.caCertificates());
        if (auth.hasApiKey() && "http".equals(server.getScheme()) && !loopback(server.getHost())) {
            LOG.warn("{} goes to {} without encryption: anyone on the path can read it; use an https address",
                    auth.keySource(), server);
        }
        // longest first, so that a secret containing another is removed whole; values of fewer than
        // MIN_REDACTED characters (a header flag such as "1") are no secret and would garble every message
        secrets.removeIf(s -> s.length() < MIN_REDACTED);
        secrets.sort((a, b) -> b.length() - a.length());
        return new Credentials(auth, Map.copyOf(headers), List.copyOf(secrets), tls);
    }

    private static String variable(String field, String name, Function<String, String> env) {
        String v = env.apply(name);
        if (v == null || v.isEmpty()) {
            throw new BadInputException(field + ": the environment variable " + name + " is not set (or empty)");
        }
        return v;
    }

    /** The key must be one token: printable ASCII without spaces (a trailing newline was stripped). */
    private static void requireToken(String field, String where, String key) {
        if (!key.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new BadInputException(field + ": " + where + " holds spaces, line breaks or non-ASCII characters; an API "
                    + "key is one word (the value is not shown)");
        }
    }

    private static String keyFile(Path file) {
        String text;
        try {
            byte[] bytes = Files.readAllBytes(file);
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString().strip();
        } catch (NoSuchFileException e) {
            throw new BadInputException("apiKeyFile: " + file + ": file not found");
        } catch (AccessDeniedException e) {
            throw new BadInputException("apiKeyFile: " + file + ": permission denied");
        } catch (CharacterCodingException e) {
            throw new BadInputException("apiKeyFile: " + file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new BadInputException("apiKeyFile: " + file + ": cannot read it (" + e.getClass().getSimpleName() + ")");
        }
        if (text.isEmpty()) {
            throw new BadInputException("apiKeyFile: " + file + ": the file is empty");
        }
        requireToken("apiKeyFile", file.toString(), text);
        warnIfShared(file);
        return text;
    }

    private static void warnIfShared(Path file) {
        Set<PosixFilePermission> p;
        try {
            p = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException | IOException e) {
            return; // not a POSIX file system: nothing to check
        }
        if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ)) {
            LOG.warn("apiKeyFile {} can be read by its group or by others ({}); make it private: chmod 600 {}", file,
                    PosixFilePermissions.toString(p), file);
        }
    }

    /** The JDK's trusted CAs (its default trust manager: cacerts, or javax.net.ssl.trustStore) plus the file's. */
    private static SSLContext trusting(Path pem) {
        Collection<? extends Certificate> certs;
        try (InputStream in = Files.newInputStream(pem)) {
            certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (NoSuchFileException e) {
            throw new BadInputException("caCertificates: " + pem + ": file not found");
        } catch (IOException e) {
            throw new BadInputException("caCertificates: " + pem + ": cannot read it (" + e.getClass().getSimpleName() + ")");
        } catch (CertificateException e) {
            throw new BadInputException("caCertificates: " + pem + ": not a PEM file of X.509 certificates (" + e.getMessage()
                    + ")");
        }
        if (certs.isEmpty()) {
            throw new BadInputException("caCertificates: " + pem + ": holds no certificate (expected -----BEGIN CERTIFICATE----- "
                    + "blocks)");
        }
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int n = 0;
            for (X509Certificate c : jdkTrustManager().getAcceptedIssuers()) {
                store.setCertificateEntry("jdk-" + n++, c);
            }
            for (Certificate c : certs) {
                store.setCertificateEntry("ca-" + n++, c);
            }
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init(store);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, f.getTrustManagers(), null);
            return tls;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a TLS context trusting " + pem + ": " + e, e);
        }
    }

    private static X509TrustManager jdkTrustManager() throws GeneralSecurityException {
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init((KeyStore) null);
        for (TrustManager m : f.getTrustManagers()) {
            if (m instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("the JDK offers no X.509 trust manager");
    }

    private static boolean loopback(String host) {
        try {
            return host != null && (host.equals("localhost") || InetAddress.getByName(host).isLoopbackAddress());
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** @return the key ({@code Authorization}) and the extra headers that go with every request */
    Map<String, String> headers() {
        return headers;
    }

    /** @return {@link #headers()} plus {@code Content-Type: application/json}, for requests with a JSON body */
    Map<String, String> jsonHeaders() {
        return jsonHeaders;
    }

    /** @return the TLS context trusting the private CA certificates, or null for the JDK's default */
    SSLContext sslContext() {
        return sslContext;
    }

    /** @return the configuration these credentials were read from (names and paths only) */
    HttpTeacherConfig.Auth auth() {
        return auth;
    }

    /**
     * Removes every secret from a text quoted from a server (an error body, a malformed response).
     *
     * @param text the text, or null
     * @return the text with each secret (of {@value #MIN_REDACTED} characters or more) replaced by {@value #REDACTED}
     */
    String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String s : secrets) {
            out = out.replace(s, REDACTED);
        }
        return out;
    }

    /**
     * A fault whose message may quote a server, with every secret removed; the cause is dropped when the
     * message changed, since its text may quote the same thing.
     *
     * @param e the fault
     * @return {@code e} itself when it quotes no secret, else an equal fault without them
     */
    TeacherServerException redact(TeacherServerException e) {
        String m = e.getMessage();
        String r = redact(m);
        return r.equals(m) ? e : new TeacherServerException(r, e.retryable(), null);
    }

    /** @return where the secrets come from, never their values */
    @Override
    public String toString() {
        return "Credentials" + auth.describe();
    }
}

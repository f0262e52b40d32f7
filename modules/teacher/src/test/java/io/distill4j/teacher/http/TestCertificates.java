package io.distill4j.teacher.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * Self-signed certificates made by the JDK's own {@code keytool} (no extra dependency, and the same tool a
 * user would run): a server certificate for 127.0.0.1 and an unrelated one, with their PEM files.
 *
 * @param dir where the files are
 * @param serverStore the server's PKCS12 key store (certificate and private key)
 * @param serverPem the server's certificate alone
 * @param otherPem the unrelated certificate alone
 * @param bothPem the unrelated certificate, then the server's: a PEM file of two CAs
 */
public record TestCertificates(Path dir, Path serverStore, Path serverPem, Path otherPem, Path bothPem) {

    public static final char[] PASSWORD = "changeit".toCharArray();

    /**
     * Makes the certificates (four keytool runs, a few seconds).
     *
     * @param dir an empty folder
     * @return the files
     */
    public static TestCertificates create(Path dir) throws IOException, InterruptedException {
        Path server = dir.resolve("server.p12");
        Path other = dir.resolve("other.p12");
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1",
                "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12", "-keystore",
                server.toString(), "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD));
        keytool("-genkeypair", "-alias", "other", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=Other Test CA",
                "-ext", "bc:c", "-validity", "2", "-storetype", "PKCS12", "-keystore", other.toString(), "-storepass",
                new String(PASSWORD), "-keypass", new String(PASSWORD));
        Path serverPem = dir.resolve("server.pem");
        Path otherPem = dir.resolve("other.pem");
        keytool("-exportcert", "-rfc", "-alias", "server", "-keystore", server.toString(), "-storepass",
                new String(PASSWORD), "-file", serverPem.toString());
        keytool("-exportcert", "-rfc", "-alias", "other", "-keystore", other.toString(), "-storepass",
                new String(PASSWORD), "-file", otherPem.toString());
        Path both = dir.resolve("both.pem");
        Files.writeString(both, Files.readString(otherPem) + Files.readString(serverPem));
        return new TestCertificates(dir, server, serverPem, otherPem, both);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close(); // a prompt gets end-of-file instead of waiting
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool " + String.join(" ", args) + " failed: " + out);
        }
    }

    /** @return a TLS context presenting the server certificate */
    public SSLContext serverContext() throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(serverStore)) {
            ks.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        return tls;
    }
}

package io.distill4j.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers for shard checksums and dataset fingerprints. */
public final class Sha256 {
    private Sha256() {
    }

    /** @return a fresh SHA-256 digest */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    /**
     * Hashes a file.
     *
     * @param file the file
     * @return its SHA-256, lower-case hex
     * @throws IOException if it cannot be read
     */
    public static String of(Path file) throws IOException {
        MessageDigest d = newDigest();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                d.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /**
     * Hashes bytes.
     *
     * @param bytes the bytes
     * @return the SHA-256, lower-case hex
     */
    public static String of(byte[] bytes) {
        return HexFormat.of().formatHex(newDigest().digest(bytes));
    }

    /**
     * Fingerprints a feature matrix: the SHA-256 of its shape and its float bits, row by row.
     *
     * @param rows the features
     * @return lower-case hex
     */
    public static String fingerprint(float[][] rows) {
        MessageDigest d = newDigest();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8);
        b.putInt(rows.length).putInt(rows.length == 0 ? 0 : rows[0].length);
        d.update(b.array());
        // one buffer for every row (a row's bytes are hashed before the next row overwrites them): a buffer per row
        // was as much garbage as the table itself
        java.nio.ByteBuffer rb = java.nio.ByteBuffer.allocate(0);
        for (float[] r : rows) {
            if (rb.capacity() < 4 * r.length) {
                rb = java.nio.ByteBuffer.allocate(4 * r.length);
            }
            rb.clear();
            for (float v : r) {
                rb.putFloat(v);
            }
            d.update(rb.array(), 0, rb.position());
        }
        return HexFormat.of().formatHex(d.digest());
    }
}

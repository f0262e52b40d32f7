package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** A dataset fingerprint against hashlib's SHA-256 of the same bytes. */
class Sha256Test {

    /**
     * Expected value from Python: {@code hashlib.sha256(struct.pack('>ii', 2, 3) + struct.pack('>3f', 1.5, -2.0, 0.1)
     * + struct.pack('>3f', 0.25, 3.0, 1e-7)).hexdigest()}; the row count and width, then every value, big-endian.
     */
    @Test
    void fingerprintHashesCountWidthAndValuesBigEndian() {
        float[][] rows = {{1.5f, -2f, 0.1f}, {0.25f, 3f, 1e-7f}};
        assertEquals("af7c211a39c79511769f854f9aadd34c51f307c7a6f3950a4697660030c566a9", Sha256.fingerprint(rows));
    }
}

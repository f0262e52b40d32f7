package io.distill4j.teacher.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads the written bytes back with a reader written from the GGUF v3 specification. */
class GgufWriterTest {

    @Test
    void writesTheGgufV3LayoutByteForByte(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("m.gguf");
        new GgufWriter().putString("general.architecture", "llama").putUInt32("llama.block_count", 3)
                .putFloat32("eps", 0.5f).putBool("flag", true).putStringArray("toks", List.of("a", "▁b"))
                .putInt32Array("types", new int[] {1, 6})
                .addTensor("w", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
                .addTensor("n", new long[] {5}, new float[] {7, 8, 9, 10, 11}).write(f);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals('G', b.get(0));
        assertEquals('F', b.get(3));
        b.position(4);
        assertEquals(3, b.getInt(), "version");
        assertEquals(2, b.getLong(), "tensors");
        assertEquals(6, b.getLong(), "metadata entries");
        Map<String, Object> kv = new LinkedHashMap<>();
        for (int i = 0; i < 6; i++) {
            String key = str(b);
            int type = b.getInt();
            kv.put(key, value(b, type));
        }
        assertEquals("llama", kv.get("general.architecture"));
        assertEquals(3L, kv.get("llama.block_count"));
        assertEquals(0.5f, kv.get("eps"));
        assertEquals(true, kv.get("flag"));
        assertEquals(List.of("a", "▁b"), kv.get("toks"));
        assertEquals(List.of(1L, 6L), kv.get("types"));
        assertEquals("w", str(b));
        assertEquals(2, b.getInt());
        assertEquals(3, b.getLong(), "ggml order: innermost extent first");
        assertEquals(2, b.getLong());
        assertEquals(0, b.getInt(), "F32");
        long off0 = b.getLong();
        assertEquals("n", str(b));
        assertEquals(1, b.getInt());
        assertEquals(5, b.getLong());
        assertEquals(0, b.getInt());
        long off1 = b.getLong();
        assertEquals(0, off0);
        assertEquals(32, off1, "24 bytes padded to the 32-byte alignment");
        long dataStart = (b.position() + 31) / 32 * 32;
        float[] w = new float[6];
        b.position((int) dataStart);
        b.asFloatBuffer().get(w);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w);
        b.position((int) (dataStart + off1));
        float[] n = new float[5];
        b.asFloatBuffer().get(n);
        assertArrayEquals(new float[] {7, 8, 9, 10, 11}, n);
        assertEquals(dataStart + 64, Files.size(f));
    }

    @Test
    void rejectsInconsistentTensorsAndDuplicateKeys() {
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter().addTensor("w", new long[] {2, 2}, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter().putBool("a", true).putBool("a", false));
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter().putUInt32("a", -1));
    }

    @Test
    void tinyLlamaVocabularyCoversEveryByte(@TempDir Path dir) throws Exception {
        List<String> v = TinyLlamaGguf.vocabulary();
        assertEquals("<0x00>", v.get(3));
        assertEquals("<0xFF>", v.get(258));
        assertEquals("▁", v.get(259));
        assertEquals(v.size(), v.stream().distinct().count(), "tokens are unique");
        Path f = dir.resolve("tiny.gguf");
        TinyLlamaGguf.defaults().write(f);
        // 2 * V * 64 embedding/output + 2 layers * (2 * 64 * 64 + 2 * 32 * 64 + 3 * 128 * 64) + norms, float32
        long params = 2L * v.size() * 64 + 2L * (2 * 64 * 64 + 2 * 32 * 64 + 3 * 128 * 64 + 2 * 64) + 64;
        long size = Files.size(f);
        assertEquals(true, size > 4 * params && size < 4 * params + 16_384, "size " + size + " for " + params + " parameters");
    }

    private static String str(ByteBuffer b) {
        byte[] s = new byte[(int) b.getLong()];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static Object value(ByteBuffer b, int type) {
        switch (type) {
            case 4: return Integer.toUnsignedLong(b.getInt());
            case 5: return (long) b.getInt();
            case 6: return b.getFloat();
            case 7: return b.get() != 0;
            case 8: return str(b);
            case 9: {
                int et = b.getInt();
                long n = b.getLong();
                List<Object> out = new java.util.ArrayList<>();
                for (long i = 0; i < n; i++) {
                    out.add(value(b, et));
                }
                return out;
            }
            default: throw new IllegalStateException("type " + type);
        }
    }
}

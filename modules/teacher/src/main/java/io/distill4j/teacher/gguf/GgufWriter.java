package io.distill4j.teacher.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file (the model format of llama.cpp and ggml): metadata key-value pairs, then float32 or
 * float16 tensors, little-endian, each tensor aligned to {@value #ALIGNMENT} bytes.
 *
 * <p>Tensors are given in PyTorch's row-major shape, such as (out, in) for a linear weight; the writer
 * stores ggml's reversed dimension order ({@code ne[0]} = the innermost extent), so the bytes are the
 * PyTorch tensor's. The file is written to a temporary name and renamed into place.
 */
public final class GgufWriter {

    /** The tensor data alignment in bytes (GGUF's default). */
    public static final int ALIGNMENT = 32;

    private static final int MAGIC = 0x46554747; // "GGUF" little-endian
    private static final int VERSION = 3;
    private static final int T_UINT32 = 4;
    private static final int T_INT32 = 5;
    private static final int T_FLOAT32 = 6;
    private static final int T_BOOL = 7;
    private static final int T_STRING = 8;
    private static final int T_ARRAY = 9;
    private static final int GGML_TYPE_F32 = 0;
    private static final int GGML_TYPE_F16 = 1;

    private final Map<String, byte[]> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    private record Tensor(String name, long[] shape, float[] data, boolean f16) {
        long bytes() {
            return (f16 ? 2L : 4L) * data.length;
        }
    }

    /**
     * Adds a string value.
     *
     * @param key the key, such as {@code general.architecture}
     * @param value the value
     * @return this writer
     */
    public GgufWriter putString(String key, String value) {
        Bytes b = new Bytes().u32(T_STRING).string(value);
        return put(key, b);
    }

    /**
     * Adds an unsigned 32-bit value.
     *
     * @param key the key
     * @param value the value, >= 0
     * @return this writer
     */
    public GgufWriter putUInt32(String key, long value) {
        if (value < 0 || value > 0xFFFFFFFFL) {
            throw new IllegalArgumentException(key + ": " + value + " is not an unsigned 32-bit value");
        }
        return put(key, new Bytes().u32(T_UINT32).u32((int) value));
    }

    /**
     * Adds a float32 value.
     *
     * @param key the key
     * @param value the value
     * @return this writer
     */
    public GgufWriter putFloat32(String key, float value) {
        return put(key, new Bytes().u32(T_FLOAT32).f32(value));
    }

    /**
     * Adds a boolean value.
     *
     * @param key the key
     * @param value the value
     * @return this writer
     */
    public GgufWriter putBool(String key, boolean value) {
        return put(key, new Bytes().u32(T_BOOL).u8(value ? 1 : 0));
    }

    /**
     * Adds an array of strings.
     *
     * @param key the key
     * @param values the values
     * @return this writer
     */
    public GgufWriter putStringArray(String key, List<String> values) {
        Bytes b = new Bytes().u32(T_ARRAY).u32(T_STRING).u64(values.size());
        values.forEach(b::string);
        return put(key, b);
    }

    /**
     * Adds an array of float32 values.
     *
     * @param key the key
     * @param values the values
     * @return this writer
     */
    public GgufWriter putFloat32Array(String key, float[] values) {
        Bytes b = new Bytes().u32(T_ARRAY).u32(T_FLOAT32).u64(values.length);
        for (float v : values) {
            b.f32(v);
        }
        return put(key, b);
    }

    /**
     * Adds an array of int32 values.
     *
     * @param key the key
     * @param values the values
     * @return this writer
     */
    public GgufWriter putInt32Array(String key, int[] values) {
        Bytes b = new Bytes().u32(T_ARRAY).u32(T_INT32).u64(values.length);
        for (int v : values) {
            b.u32(v);
        }
        return put(key, b);
    }

    private GgufWriter put(String key, Bytes value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a metadata key must be non-empty");
        }
        if (metadata.containsKey(key)) {
            throw new IllegalArgumentException("metadata key " + key + " was already added");
        }
        metadata.put(key, value.toByteArray());
        return this;
    }

    /**
     * Adds a float32 tensor.
     *
     * @param name the tensor's name, such as {@code blk.0.attn_q.weight}
     * @param shape its PyTorch (row-major) shape, 1 to 4 positive extents
     * @param data its values, row-major; the product of the shape's extents
     * @return this writer
     */
    public GgufWriter addTensor(String name, long[] shape, float[] data) {
        return addTensor(name, shape, data, false);
    }

    /**
     * Adds a tensor stored as float32 or as IEEE half precision (float16, rounded to nearest even).
     *
     * @param name the tensor's name
     * @param shape its PyTorch (row-major) shape, 1 to 4 positive extents
     * @param data its values, row-major
     * @param f16 store as float16
     * @return this writer
     */
    public GgufWriter addTensor(String name, long[] shape, float[] data, boolean f16) {
        if (shape.length == 0 || shape.length > 4) {
            throw new IllegalArgumentException(name + ": a tensor has 1 to 4 dimensions, got " + shape.length);
        }
        long n = 1;
        for (long s : shape) {
            if (s <= 0) {
                throw new IllegalArgumentException(name + ": extents must be positive, got " + java.util.Arrays.toString(shape));
            }
            n *= s;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(name + ": shape " + java.util.Arrays.toString(shape) + " holds " + n
                    + " values, data has " + data.length);
        }
        if (tensors.stream().anyMatch(t -> t.name.equals(name))) {
            throw new IllegalArgumentException("tensor " + name + " was already added");
        }
        tensors.add(new Tensor(name, shape.clone(), data, f16));
        return this;
    }

    /**
     * Writes the file atomically (temporary file, then rename).
     *
     * @param file the destination
     * @throws IOException if writing fails
     */
    public void write(Path file) throws IOException {
        Bytes head = new Bytes().u32(MAGIC).u32(VERSION).u64(tensors.size()).u64(metadata.size());
        for (Map.Entry<String, byte[]> e : metadata.entrySet()) {
            head.string(e.getKey()).raw(e.getValue());
        }
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (Tensor t : tensors) {
            head.string(t.name).u32(t.shape.length);
            for (int i = t.shape.length - 1; i >= 0; i--) {
                head.u64(t.shape[i]);
            }
            head.u32(t.f16 ? GGML_TYPE_F16 : GGML_TYPE_F32).u64(offset);
            offsets.add(offset);
            offset = align(offset + t.bytes());
        }
        byte[] header = head.toByteArray();
        Files.createDirectories(file.toAbsolutePath().getParent());
        // written in order: the header, padding to the alignment, then each tensor padded to the alignment, which puts
        // tensor i at dataStart + offsets[i] (each offset is the previous one plus the previous tensor's padded size)
        io.distill4j.data.AtomicFiles.write(file, true, ch -> {
            writeFully(ch, ByteBuffer.wrap(header));
            long dataStart = align(header.length);
            writeFully(ch, ByteBuffer.allocate((int) (dataStart - header.length)));
            long at = 0;
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                if (at != offsets.get(i)) {
                    throw new IllegalStateException("tensor " + i + " would land at " + at + ", its offset is " + offsets.get(i));
                }
                ByteBuffer b = ByteBuffer.allocate((int) (align(t.bytes()))).order(ByteOrder.LITTLE_ENDIAN);
                if (t.f16) {
                    java.nio.ShortBuffer h = b.asShortBuffer();
                    for (float v : t.data) {
                        h.put(toHalf(v));
                    }
                } else {
                    b.asFloatBuffer().put(t.data);
                }
                at += b.remaining();
                writeFully(ch, b);
            }
        });
    }

    private static void writeFully(java.nio.channels.WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * Rounds a float to IEEE 754 half precision, to nearest with ties to even (as numpy's {@code astype(float16)}):
     * beyond the largest half (65504) it gives infinity, below half the smallest subnormal (2^-25) zero, and NaN
     * stays NaN.
     *
     * @param f the value
     * @return the half's bits
     */
    public static short toHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int val = bits & 0x7fffffff;
        if (val >= 0x7f800000) {
            return (short) (sign | 0x7c00 | (val > 0x7f800000 ? 0x200 : 0));
        }
        if (val >= 0x477ff000) { // 65520 and above round to infinity
            return (short) (sign | 0x7c00);
        }
        int exp = val >>> 23;
        if (exp < 113) { // below 2^-14: a subnormal half (or zero)
            if (exp < 102) {
                return (short) sign;
            }
            int mant = (val & 0x7fffff) | 0x800000;
            int shift = 126 - exp;
            int h = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rem > halfway || (rem == halfway && (h & 1) == 1)) {
                h++;
            }
            return (short) (sign | h);
        }
        int h = ((exp - 112) << 10) | ((val & 0x7fffff) >>> 13);
        int rem = val & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1)) {
            h++;
        }
        return (short) (sign | h);
    }

    private static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** A little-endian byte builder. */
    private static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        Bytes u8(int v) {
            out.write(v);
            return this;
        }

        Bytes u32(int v) {
            scratch.clear();
            scratch.putInt(v);
            out.write(scratch.array(), 0, 4);
            return this;
        }

        Bytes u64(long v) {
            scratch.clear();
            scratch.putLong(v);
            out.write(scratch.array(), 0, 8);
            return this;
        }

        Bytes f32(float v) {
            return u32(Float.floatToRawIntBits(v));
        }

        Bytes string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Bytes raw(byte[] b) {
            out.write(b, 0, b.length);
            return this;
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}

package io.distill4j.models.lm.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of
 * JSON mapping each tensor name to {@code dtype}, {@code shape} and {@code data_offsets} [begin, end) into the
 * data section that follows (plus an optional {@code __metadata__} string map), then the raw little-endian
 * tensor data.
 *
 * <p>Reading accepts F32, F16, BF16 and F64 floating tensors (converted to float32 by
 * {@link Tensor#toFloats()}) and keeps other dtypes as raw bytes; every structural fault is reported with
 * the file and tensor name. Writing produces float32 tensors, pads the header with spaces to a multiple of
 * 8 bytes as the reference implementation does, and is atomic (temporary file, then rename).
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {
    }

    /**
     * One tensor.
     *
     * @param dtype the safetensors dtype (F32, F16, BF16, F64, I64, ...)
     * @param shape the shape
     * @param data the raw little-endian bytes
     */
    public record Tensor(String dtype, long[] shape, byte[] data) {

        /**
         * Wraps float32 values.
         *
         * @param shape the shape
         * @param values row-major values, as many as the shape holds
         * @return the tensor
         * @throws IllegalArgumentException if the counts differ
         */
        public static Tensor ofFloats(long[] shape, float[] values) {
            if (Safetensors.numel(shape) != values.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + Safetensors.numel(shape)
                        + " values, got " + values.length);
            }
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            return new Tensor("F32", shape.clone(), b.array());
        }

        /** @return the number of elements */
        public long numel() {
            return Safetensors.numel(shape);
        }

        /**
         * Converts the values to float32.
         *
         * @return row-major values
         * @throws IllegalArgumentException if the dtype is not a floating type
         */
        public float[] toFloats() {
            int n = Math.toIntExact(numel());
            float[] out = new float[n];
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case "F32":
                    b.asFloatBuffer().get(out);
                    break;
                case "F64":
                    for (int i = 0; i < n; i++) {
                        out[i] = (float) b.getDouble(8 * i);
                    }
                    break;
                case "F16":
                    for (int i = 0; i < n; i++) {
                        out[i] = halfToFloat(b.getShort(2 * i));
                    }
                    break;
                case "BF16":
                    for (int i = 0; i < n; i++) {
                        out[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
                    }
                    break;
                default:
                    throw new IllegalArgumentException("dtype " + dtype + " is not a floating type");
            }
            return out;
        }
    }

    /**
     * Converts an IEEE 754 binary16 value to float (exact: every half is a float).
     *
     * @param h the half's bits
     * @return the value
     */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static int bytesPer(String dtype) {
        switch (dtype) {
            case "F64":
            case "I64":
            case "U64":
                return 8;
            case "F32":
            case "I32":
            case "U32":
                return 4;
            case "F16":
            case "BF16":
            case "I16":
            case "U16":
                return 2;
            case "I8":
            case "U8":
            case "BOOL":
            case "F8_E4M3":
            case "F8_E5M2":
                return 1;
            default:
                return -1;
        }
    }

    /**
     * Reads every tensor of a file, in the order of their data.
     *
     * @param file the {@code .safetensors} file
     * @return tensors by name
     * @throws BadInputException naming the file (and tensor) if it is missing, truncated or malformed
     */
    public static Map<String, Tensor> read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new BadInputException(file + ": not a safetensors file: " + size + " bytes, less than the 8-byte "
                        + "header length");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0, file);
            long n = len.getLong(0);
            if (n <= 0 || n > MAX_HEADER || n > size - 8) {
                throw new BadInputException(file + ": header length " + n + " is not in (0, " + Math.min(MAX_HEADER,
                        size - 8) + "]: not a safetensors file or truncated");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8, file);
            JsonNode header;
            try {
                header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                throw new BadInputException(file + ": header is not valid JSON: " + e.getOriginalMessage(), e);
            }
            if (header == null || !header.isObject()) {
                throw new BadInputException(file + ": header must be a JSON object");
            }
            long dataStart = 8 + n;
            long dataSize = size - dataStart;
            List<Object[]> entries = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                entries.add(new Object[] {e.getKey(), e.getValue()});
            }
            List<Object[]> parsed = new ArrayList<>();
            for (Object[] e : entries) {
                String name = (String) e[0];
                JsonNode t = (JsonNode) e[1];
                String where = file + ": tensor '" + name + "'";
                String dtype = t.path("dtype").asText(null);
                int per = dtype == null ? -1 : bytesPer(dtype);
                if (per < 0) {
                    throw new BadInputException(where + ": field dtype has unknown value '" + t.path("dtype") + "'");
                }
                JsonNode sh = t.path("shape");
                JsonNode off = t.path("data_offsets");
                if (!sh.isArray() || !off.isArray() || off.size() != 2) {
                    throw new BadInputException(where + ": needs a shape array and two data_offsets, got " + t);
                }
                long[] shape = new long[sh.size()];
                for (int i = 0; i < shape.length; i++) {
                    if (!sh.get(i).canConvertToLong() || sh.get(i).asLong() < 0) {
                        throw new BadInputException(where + ": field shape has a bad dimension " + sh.get(i));
                    }
                    shape[i] = sh.get(i).asLong();
                }
                long begin = off.get(0).asLong(-1);
                long end = off.get(1).asLong(-1);
                long expected = numel(shape) * per;
                if (begin < 0 || end < begin || end > dataSize) {
                    throw new BadInputException(where + ": data_offsets [" + begin + ", " + end
                            + "] lie outside the data section of " + dataSize + " bytes (truncated file?)");
                }
                if (end - begin != expected) {
                    throw new BadInputException(where + ": data_offsets span " + (end - begin) + " bytes but "
                            + dtype + Arrays.toString(shape) + " needs " + expected);
                }
                parsed.add(new Object[] {name, dtype, shape, begin, end});
            }
            parsed.sort((a, b) -> Long.compare((Long) a[3], (Long) b[3]));
            Map<String, Tensor> out = new LinkedHashMap<>();
            long previousEnd = 0;
            for (Object[] p : parsed) {
                long begin = (Long) p[3];
                long end = (Long) p[4];
                if (begin < previousEnd) {
                    throw new BadInputException(file + ": tensor '" + p[0] + "' overlaps the tensor before it");
                }
                previousEnd = end;
                ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(end - begin));
                readFully(ch, data, dataStart + begin, file);
                out.put((String) p[0], new Tensor((String) p[1], (long[]) p[2], data.array()));
            }
            return out;
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": no such file", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new BadInputException(file + ": truncated at byte " + pos);
            }
            pos += r;
        }
    }

    /**
     * Writes tensors atomically: to a temporary file in the same directory, then renamed over {@code file}.
     *
     * @param file the destination
     * @param tensors tensors by name, written in this order
     * @param metadata string metadata for {@code __metadata__} (e.g. {@code format: pt}); may be empty
     * @throws IOException if writing fails (the destination is then untouched)
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            int per = bytesPer(t.dtype());
            if (per < 0 || t.data().length != t.numel() * per) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "': " + t.data().length
                        + " bytes do not match " + t.dtype() + Arrays.toString(t.shape()));
            }
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", t.dtype());
            var shape = n.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            var off = n.putArray("data_offsets");
            off.add(offset);
            off.add(offset + t.data().length);
            offset += t.data().length;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = Arrays.copyOf(json, padded);
        Arrays.fill(head, json.length, padded, (byte) ' ');
        Files.createDirectories(file.toAbsolutePath().getParent());
        io.distill4j.data.AtomicFiles.write(file, true, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(head));
            for (Tensor t : tensors.values()) {
                writeFully(ch, ByteBuffer.wrap(t.data()));
            }
        });
    }

    private static void writeFully(java.nio.channels.WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

}

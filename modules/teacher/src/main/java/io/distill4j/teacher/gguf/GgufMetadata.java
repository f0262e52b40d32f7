package io.distill4j.teacher.gguf;

import io.distill4j.data.BadInputException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The key-value metadata of a GGUF file (versions 2 and 3, after ggml's {@code docs/gguf.md}), read from the
 * head of the file without its tensors: integers become {@code Long}, floats {@code Double}, booleans
 * {@code Boolean}, strings {@code String}, arrays {@code List}s of those.
 */
public final class GgufMetadata {

    private static final int MAGIC = 0x46554747; // "GGUF" little-endian
    private static final long MAX_STRING = 1L << 24;
    private static final long MAX_ARRAY = 1L << 28;

    private final Path file;
    private final Map<String, Object> values;

    private GgufMetadata(Path file, Map<String, Object> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(values);
    }

    /**
     * Reads a file's metadata.
     *
     * @param file a GGUF file
     * @return its metadata
     * @throws BadInputException if the file is missing, not GGUF, of an unknown version, or cut short (one line
     *     naming the file)
     */
    public static GgufMetadata read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(file + ": no such GGUF file");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            Reader r = new Reader(new DataInputStream(in));
            if (r.int32() != MAGIC) {
                throw new BadInputException(file + ": not a GGUF file (no GGUF magic at its start)");
            }
            int version = r.int32();
            if (version != 2 && version != 3) {
                throw new BadInputException(file + ": GGUF version " + version + ", this reader knows 2 and 3");
            }
            r.int64(); // tensors
            long keys = r.int64();
            if (keys < 0 || keys > 1_000_000) {
                throw new BadInputException(file + ": GGUF header holds " + keys + " metadata keys: not a GGUF file");
            }
            Map<String, Object> values = new LinkedHashMap<>();
            for (long i = 0; i < keys; i++) {
                String key = r.string();
                values.put(key, r.value(r.int32(), key));
            }
            return new GgufMetadata(file, values);
        } catch (EOFException e) {
            throw new BadInputException(file + ": the GGUF metadata is cut short", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** @return the file read */
    public Path file() {
        return file;
    }

    /** @return every key and value, in file order */
    public Map<String, Object> values() {
        return values;
    }

    /**
     * @param key a key
     * @return its value, or null when absent
     */
    public Object get(String key) {
        return values.get(key);
    }

    /**
     * A string value.
     *
     * @param key the key
     * @return the value, or null when absent
     * @throws BadInputException if the value is not a string
     */
    public String string(String key) {
        Object v = values.get(key);
        if (v != null && !(v instanceof String)) {
            throw new BadInputException(file + ": field " + key + ": expected a string, got " + v.getClass().getSimpleName());
        }
        return (String) v;
    }

    /**
     * An integer value.
     *
     * @param key the key
     * @param absent what to return when the key is absent
     * @return the value
     * @throws BadInputException if the value is not an integer
     */
    public long integer(String key, long absent) {
        Object v = values.get(key);
        if (v == null) {
            return absent;
        }
        if (!(v instanceof Long l)) {
            throw new BadInputException(file + ": field " + key + ": expected an integer, got " + v);
        }
        return l;
    }

    /**
     * A boolean value.
     *
     * @param key the key
     * @param absent what to return when the key is absent
     * @return the value
     */
    public boolean bool(String key, boolean absent) {
        Object v = values.get(key);
        return v instanceof Boolean b ? b : absent;
    }

    /**
     * An array value.
     *
     * @param key the key
     * @return its elements, or null when absent
     * @throws BadInputException if the value is not an array
     */
    public List<?> array(String key) {
        Object v = values.get(key);
        if (v != null && !(v instanceof List)) {
            throw new BadInputException(file + ": field " + key + ": expected an array, got " + v);
        }
        return (List<?>) v;
    }

    /** Little-endian primitives over a stream. */
    private static final class Reader {
        private final DataInputStream in;
        private final byte[] eight = new byte[8];

        Reader(DataInputStream in) {
            this.in = in;
        }

        private long le(int n) throws IOException {
            in.readFully(eight, 0, n);
            long v = 0;
            for (int i = n - 1; i >= 0; i--) {
                v = (v << 8) | (eight[i] & 0xff);
            }
            return v;
        }

        int int32() throws IOException {
            return (int) le(4);
        }

        long int64() throws IOException {
            return le(8);
        }

        String string() throws IOException {
            long n = int64();
            if (n < 0 || n > MAX_STRING) {
                throw new IOException("a string of " + n + " bytes");
            }
            byte[] b = new byte[(int) n];
            in.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        }

        Object value(int type, String key) throws IOException {
            switch (type) {
                case 0: return le(1) & 0xff;
                case 1: return (long) (byte) le(1);
                case 2: return le(2) & 0xffff;
                case 3: return (long) (short) le(2);
                case 4: return le(4) & 0xffffffffL;
                case 5: return (long) (int) le(4);
                case 6: return (double) Float.intBitsToFloat((int) le(4));
                case 7: return le(1) != 0;
                case 8: return string();
                case 9: {
                    int t = int32();
                    long n = int64();
                    if (n < 0 || n > MAX_ARRAY) {
                        throw new IOException(key + ": an array of " + n + " elements");
                    }
                    List<Object> l = new ArrayList<>((int) Math.min(n, 1 << 20));
                    for (long i = 0; i < n; i++) {
                        l.add(value(t, key));
                    }
                    return l;
                }
                case 10: return le(8);
                case 11: return le(8);
                case 12: return Double.longBitsToDouble(le(8));
                default: throw new IOException(key + ": unknown GGUF value type " + type);
            }
        }
    }
}

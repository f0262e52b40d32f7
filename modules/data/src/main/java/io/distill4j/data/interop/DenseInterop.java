package io.distill4j.data.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.DenseCacheReader;
import io.distill4j.data.Errors;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.TeacherCacheWriter;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * NumPy {@code .npz} and safetensors export and import of classification and regression caches.
 *
 * <p>Both hold one array {@code samples} of shape (N, k, C), float32 on export (import also takes float64
 * and float16), item-major. Export streams item by item; import validates every value as the cache writer
 * does, and creates the cache only when the whole file was read.
 */
public final class DenseInterop {
    /** The array name used in both formats. */
    public static final String SAMPLES = "samples";
    private static final ObjectMapper JSON = new ObjectMapper();

    private DenseInterop() {
    }

    /**
     * What an imported cache is: the fields a file does not carry.
     *
     * @param task {@code classification} or {@code regression}
     * @param signal {@code probabilities}, {@code logits} or {@code values}
     * @param teacher provenance
     * @param datasetFingerprint input fingerprint
     * @param rowsPerShard items per shard
     * @param options write options
     */
    public record ImportSpec(String task, String signal, Map<String, Object> teacher, String datasetFingerprint,
            int rowsPerShard, CacheWriteOptions options) {
    }

    /**
     * Writes {@code samples.npy} of a cache into an uncompressed {@code .npz}, atomically.
     *
     * @param cache a classification or regression cache
     * @param file the {@code .npz} to write
     * @throws IOException if writing fails
     */
    public static void exportNpz(TeacherCache cache, Path file) throws IOException {
        DenseCacheReader r = cache.dense(true);
        CacheManifest m = cache.manifest();
        AtomicFiles.write(file, false, ch -> {
            ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16));
            zip.setLevel(Deflater.NO_COMPRESSION);
            zip.putNextEntry(new ZipEntry(SAMPLES + ".npy"));
            Npy.writeHeader(zip, "<f4", new long[] {m.items(), m.k(), m.width()});
            writeItems(r, zip);
            zip.closeEntry();
            zip.finish();
            zip.flush();
        });
    }

    private static void writeItems(DenseCacheReader r, OutputStream out) throws IOException {
        byte[] row = new byte[r.k() * r.width() * 4];
        for (long i = 0; i < r.items(); i++) {
            r.itemBytes(i).get(row);
            out.write(row);
        }
    }

    /**
     * Creates a cache from the {@code samples} array of a {@code .npz} (shape (N, k, C)).
     *
     * @param file the {@code .npz}
     * @param dir the new cache directory (must not exist)
     * @param spec task, signal and provenance
     * @return the new cache
     * @throws BadInputException naming file, entry, item and field of any fault
     * @throws IOException on I/O failure
     */
    public static TeacherCache importNpz(Path file, Path dir, ImportSpec spec) throws IOException {
        ImportTarget.create(dir, tmp -> {
            try (ZipInputStream zip = new ZipInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
                ZipEntry e;
                boolean found = false;
                while ((e = zip.getNextEntry()) != null) {
                    if (e.getName().equals(SAMPLES + ".npy")) {
                        String where = file + ": entry " + e.getName();
                        Npy.Header h = Npy.readHeader(zip, where);
                        readInto(new DataInputStream(zip), h, where, tmp, spec);
                        found = true;
                        break;
                    }
                }
                if (!found) {
                    throw new BadInputException(file + ": no array '" + SAMPLES + "' (entry samples.npy) in the .npz");
                }
            } catch (NoSuchFileException ex) {
                throw new BadInputException(file + ": file not found", ex);
            } catch (ZipException | EOFException ex) {
                throw new BadInputException(file + ": truncated or corrupt .npz: " + Errors.reason(ex), ex);
            }
        });
        return TeacherCache.open(dir);
    }

    private static void readInto(DataInputStream in, Npy.Header h, String where, Path dir, ImportSpec spec)
            throws IOException {
        if (h.shape().length != 3 || !h.descr().matches("<f[248]")) {
            throw new BadInputException(where + ": expected a float array of shape (N, k, C), got "
                    + h.descr() + " " + java.util.Arrays.toString(h.shape()));
        }
        int k = Math.toIntExact(h.shape()[1]);
        int c = Math.toIntExact(h.shape()[2]);
        long n = h.shape()[0];
        float[] flat = new float[k * c];
        byte[] scratch = new byte[k * c * 8];
        float[][] item = new float[k][c];
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir, spec.task(), k, c, spec.signal(), spec.teacher(),
                spec.datasetFingerprint(), spec.rowsPerShard(), spec.options())) {
            for (long i = 0; i < n; i++) {
                try {
                    Npy.readFloats(in, h, flat, 0, k * c, scratch);
                } catch (EOFException e) {
                    throw new BadInputException(where + ": truncated at item " + i + " of " + n, e);
                }
                for (int j = 0; j < k; j++) {
                    System.arraycopy(flat, j * c, item[j], 0, c);
                }
                append(w, item, where);
            }
        }
    }

    private static void append(TeacherCacheWriter w, float[][] item, String where) throws IOException {
        try {
            w.append(item);
        } catch (IllegalArgumentException e) {
            // The writer names the temporary cache directory; name the source file instead.
            String msg = e.getMessage();
            int at = msg.indexOf(": item ");
            throw new BadInputException(where + (at >= 0 ? msg.substring(at) : ": " + msg), e);
        }
    }

    /**
     * Writes a cache as safetensors, atomically: one tensor {@code samples} (F32, shape [N, k, C]) and the
     * manifest's task, k, width, signal and format version as {@code __metadata__} strings.
     *
     * @param cache a classification or regression cache
     * @param file the {@code .safetensors} file
     * @throws IOException if writing fails
     */
    public static void exportSafetensors(TeacherCache cache, Path file) throws IOException {
        DenseCacheReader r = cache.dense(true);
        CacheManifest m = cache.manifest();
        long bytes = m.items() * m.k() * m.width() * 4L;
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        meta.put("format", "distill4j-cache-v" + m.formatVersion());
        meta.put("task", m.task());
        meta.put("k", Integer.toString(m.k()));
        meta.put("width", Integer.toString(m.width()));
        meta.put("signal", m.signal());
        ObjectNode t = header.putObject(SAMPLES);
        t.put("dtype", "F32");
        t.putArray("shape").add(m.items()).add(m.k()).add(m.width());
        t.putArray("data_offsets").add(0).add(bytes);
        byte[] h = JSON.writeValueAsBytes(header);
        int pad = (8 - h.length % 8) % 8;
        byte[] hp = new byte[h.length + pad];
        System.arraycopy(h, 0, hp, 0, h.length);
        java.util.Arrays.fill(hp, h.length, hp.length, (byte) ' ');
        AtomicFiles.write(file, false, ch -> {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hp.length).array());
            out.write(hp);
            writeItems(r, out);
            out.flush();
        });
    }

    /**
     * Creates a cache from the {@code samples} tensor (F32, F64 or F16, shape [N, k, C]) of a safetensors file.
     *
     * @param file the file
     * @param dir the new cache directory (must not exist)
     * @param spec task, signal and provenance
     * @return the new cache
     * @throws BadInputException naming file, tensor, item and field of any fault
     * @throws IOException on I/O failure
     */
    public static TeacherCache importSafetensors(Path file, Path dir, ImportSpec spec) throws IOException {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": file not found", e);
        }
        ImportTarget.create(dir, tmp -> {
            try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
                DataInputStream in = new DataInputStream(raw);
                byte[] lenBytes = new byte[8];
                in.readFully(lenBytes);
                long len = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
                if (len <= 0 || len > Math.min(size - 8, 100L << 20)) {
                    throw new BadInputException(file + ": header length " + len + " does not fit the file's " + size
                            + " bytes");
                }
                byte[] hb = new byte[(int) len];
                in.readFully(hb);
                JsonNode header;
                try {
                    header = JSON.readTree(new String(hb, StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new BadInputException(file + ": malformed safetensors header: " + Errors.reason(e), e);
                }
                JsonNode t = header.get(SAMPLES);
                if (t == null) {
                    throw new BadInputException(file + ": no tensor '" + SAMPLES + "'");
                }
                String dtype = t.path("dtype").asText();
                String descr = switch (dtype) {
                    case "F32" -> "<f4";
                    case "F64" -> "<f8";
                    case "F16" -> "<f2";
                    default -> throw new BadInputException(file + ": tensor samples: field dtype: unsupported '" + dtype
                            + "' (F32, F64 or F16)");
                };
                long[] shape = new long[t.path("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = t.path("shape").get(i).asLong();
                }
                Npy.Header h = new Npy.Header(descr, shape);
                long begin = t.path("data_offsets").path(0).asLong(-1);
                long end = t.path("data_offsets").path(1).asLong(-1);
                if (shape.length != 3 || end - begin != h.count() * h.itemSize()) {
                    throw new BadInputException(file + ": tensor samples: shape " + java.util.Arrays.toString(shape)
                            + " and data_offsets [" + begin + ", " + end + "] disagree (expected shape [N, k, C])");
                }
                if (8 + len + end > size) {
                    throw new BadInputException(file + ": truncated: tensor samples needs " + (8 + len + end)
                            + " bytes, the file has " + size);
                }
                in.skipNBytes(begin);
                readInto(in, h, file + ": tensor samples", tmp, spec);
            }
        });
        return TeacherCache.open(dir);
    }

}

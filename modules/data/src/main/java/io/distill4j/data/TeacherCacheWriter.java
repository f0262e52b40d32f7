package io.distill4j.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;

/**
 * Appends k teacher samples per item to a cache directory, shard by shard, crash-safely.
 *
 * <p>Items are buffered until a shard is full; the shard is then written to {@code part-NNNNN.arrow.tmp},
 * forced to disk, renamed to {@code part-NNNNN.arrow}, and only then is the manifest (which lists the
 * shard with its SHA-256) replaced atomically. A crash therefore loses at most the uncommitted shard,
 * and {@link #openOrCreate} resumes after the last committed item.
 */
public final class TeacherCacheWriter implements AutoCloseable {

    private final Path dir;
    private final int rowsPerShard;
    private final int k;
    private final int width;
    private final float[] buffer;
    private CacheManifest manifest;
    private int buffered;

    private TeacherCacheWriter(Path dir, CacheManifest manifest, int rowsPerShard) {
        this.dir = dir;
        this.manifest = manifest;
        this.rowsPerShard = rowsPerShard;
        this.k = manifest.k();
        this.width = manifest.width();
        this.buffer = new float[Math.multiplyExact(Math.multiplyExact(rowsPerShard, k), width)];
    }

    /**
     * Opens a cache for appending, creating it if the directory holds no manifest.
     *
     * <p>When a manifest exists its task, k, width and dataset fingerprint must equal the ones given, and
     * writing resumes after its last committed item; leftover temporary files are removed.
     *
     * @param dir the cache directory
     * @param task {@code classification} or {@code regression}
     * @param k samples per item, positive
     * @param width classes or outputs per sample, positive
     * @param signal {@code probabilities}, {@code logits} or {@code values}
     * @param teacher the teacher's provenance
     * @param datasetFingerprint the fingerprint of the inputs (see {@link Sha256#fingerprint})
     * @param rowsPerShard items per shard, positive
     * @return the writer
     * @throws IOException if the directory cannot be written
     */
    public static TeacherCacheWriter openOrCreate(Path dir, String task, int k, int width, String signal,
            Map<String, Object> teacher, String datasetFingerprint, int rowsPerShard) throws IOException {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (width <= 0) {
            throw new IllegalArgumentException("width must be positive, got " + width);
        }
        if (rowsPerShard <= 0) {
            throw new IllegalArgumentException("rowsPerShard must be positive, got " + rowsPerShard);
        }
        Files.createDirectories(dir);
        try (var s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.getFileName().toString().endsWith(".tmp")) {
                    Files.delete(p);
                }
            }
        }
        CacheManifest m;
        if (Files.exists(dir.resolve(CacheManifest.FILE_NAME))) {
            m = CacheManifest.read(dir);
            check(dir, "task", m.task(), task);
            check(dir, "k", m.k(), k);
            check(dir, "width", m.width(), width);
            check(dir, "signal", m.signal(), signal);
            check(dir, "datasetFingerprint", m.datasetFingerprint(), datasetFingerprint);
        } else {
            m = new CacheManifest(CacheManifest.FORMAT_VERSION, task, k, width, signal, "float32", 0, teacher,
                    datasetFingerprint, java.util.List.of());
            m.writeAtomically(dir);
        }
        return new TeacherCacheWriter(dir, m, rowsPerShard);
    }

    private static void check(Path dir, String field, Object have, Object want) {
        if (!java.util.Objects.equals(have, want)) {
            throw new BadInputException(dir.resolve(CacheManifest.FILE_NAME) + ": field " + field + ": cache has "
                    + have + ", this run wants " + want + " (use a new cache directory)");
        }
    }

    /** @return the number of items committed or buffered so far: the index the next item gets */
    public long nextItem() {
        return manifest.items() + buffered;
    }

    /** @return the manifest as committed so far */
    public CacheManifest manifest() {
        return manifest;
    }

    /**
     * Appends one item's k samples.
     *
     * @param samples k rows of width values each; no NaN or infinity
     * @throws IOException if committing a full shard fails
     */
    public void append(float[][] samples) throws IOException {
        if (samples.length != k) {
            throw new IllegalArgumentException("item " + nextItem() + ": expected k=" + k + " samples, got " + samples.length);
        }
        int base = buffered * k * width;
        for (int j = 0; j < k; j++) {
            if (samples[j].length != width) {
                throw new IllegalArgumentException("item " + nextItem() + ": sample " + j + " has width "
                        + samples[j].length + ", expected " + width);
            }
            for (int c = 0; c < width; c++) {
                float v = samples[j][c];
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("item " + nextItem() + ": sample " + j + ", class " + c
                            + ": value " + v + " is not finite");
                }
                buffer[base + j * width + c] = v;
            }
        }
        buffered++;
        if (buffered == rowsPerShard) {
            commitShard();
        }
    }

    /**
     * Commits the buffered items as a shard (no-op when none are buffered).
     *
     * @throws IOException if writing fails
     */
    public void flush() throws IOException {
        if (buffered > 0) {
            commitShard();
        }
    }

    private void commitShard() throws IOException {
        String name = String.format(Locale.ROOT, "part-%05d.arrow", manifest.shards().size());
        Path tmp = dir.resolve(name + ".tmp");
        long first = manifest.items();
        int n = buffered;
        try (BufferAllocator alloc = new RootAllocator();
                VectorSchemaRoot root = VectorSchemaRoot.create(CacheSchema.dense(k, width), alloc)) {
            BigIntVector item = (BigIntVector) root.getVector(CacheSchema.ITEM);
            FixedSizeListVector outer = (FixedSizeListVector) root.getVector(CacheSchema.SAMPLES);
            FixedSizeListVector inner = (FixedSizeListVector) outer.getDataVector();
            Float4Vector values = (Float4Vector) inner.getDataVector();
            item.allocateNew(n);
            outer.setInitialCapacity(n);
            outer.allocateNew();
            inner.setInitialCapacity(n * k);
            inner.allocateNew();
            values.allocateNew(n * k * width);
            for (int i = 0; i < n; i++) {
                item.set(i, first + i);
                outer.setNotNull(i);
                for (int j = 0; j < k; j++) {
                    inner.setNotNull(i * k + j);
                }
            }
            values.getDataBuffer().setBytes(0, floatsToBytes(buffer, n * k * width));
            values.getValidityBuffer().setOne(0, (n * k * width + 7) / 8);
            values.setValueCount(n * k * width);
            inner.setValueCount(n * k);
            outer.setValueCount(n);
            item.setValueCount(n);
            root.setRowCount(n);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
                    ArrowFileWriter w = new ArrowFileWriter(root, null, ch)) {
                w.start();
                w.writeBatch();
                w.end();
                ch.force(true);
            }
        }
        String sha = Sha256.of(tmp);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        manifest = manifest.withShard(new CacheManifest.Shard(name, first, n, sha));
        manifest.writeAtomically(dir);
        buffered = 0;
    }

    private static byte[] floatsToBytes(float[] src, int count) {
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(count * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(src, 0, count);
        return bb.array();
    }

    /** Commits what is buffered. */
    @Override
    public void close() {
        try {
            flush();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot commit the last shard", e);
        }
    }
}

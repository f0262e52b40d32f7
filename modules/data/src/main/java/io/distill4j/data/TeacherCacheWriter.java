package io.distill4j.data;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.apache.arrow.memory.AllocationListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;

/**
 * Appends k teacher samples per item to a classification or regression cache, shard by shard, crash-safely.
 *
 * <p>Items are copied straight into off-heap Arrow buffers sized for one shard (no per-item objects);
 * when a shard is full a committer thread writes it while the caller fills a second set of buffers. A
 * shard is written to {@code part-NNNNN.arrow.tmp} (hashed with SHA-256 on the way),
 * optionally forced to disk, renamed to {@code part-NNNNN.arrow}, and only then is the manifest that lists
 * it replaced atomically. A crash therefore loses at most the uncommitted shard; {@link #openOrCreate}
 * removes leftovers (temporary files, a renamed shard the manifest does not list) and resumes after the
 * last committed item.
 *
 * <p>Every value must be finite; probability samples must be non-negative and sum to 1 within the
 * options' tolerance. A rejected item leaves the writer and the cache as they were.
 */
public final class TeacherCacheWriter implements AutoCloseable {

    private final Path dir;
    private final int rowsPerShard;
    private final int k;
    private final int width;
    private final int rowFloats;
    private final boolean probabilities;
    private final CacheWriteOptions options;
    private final BufferAllocator alloc;
    /** Bytes of Arrow buffers allocated so far, freed ones included ({@link #bufferBytesAllocated}). */
    private final AtomicLong allocated = new AtomicLong();
    private final int firstShard;
    private final boolean shardsOnly;
    /** The two slots, each allocated when first filled (a writer of one shard, as a Spark task's, needs one). */
    private final Slot[] slots = new Slot[2];
    private final ExecutorService committer;
    private final CRC32 crc = new CRC32();
    private volatile CacheManifest manifest;
    /** The slot being filled; null until the next item starts ({@link #filling}). */
    private Slot slot;
    private long next;
    /** Samples appended of the item in progress ({@link #appendSamples}), less than k. */
    private int partial;
    private IOException failure;
    private boolean closed;

    /**
     * One shard's worth of off-heap Arrow buffers. Two alternate: while the committer thread writes and
     * hashes one, the caller fills the other.
     */
    private final class Slot {
        final VectorSchemaRoot root;
        final BigIntVector itemVec;
        final UInt4Vector crcVec;
        final FloatBuffer values;
        final ByteBuffer valueBytes;
        int rows;
        Future<?> pending;

        Slot() {
            root = VectorSchemaRoot.create(CacheSchema.dense(k, width), alloc);
            itemVec = (BigIntVector) root.getVector(CacheSchema.ITEM);
            crcVec = (UInt4Vector) root.getVector(CacheSchema.CRC32);
            FixedSizeListVector outer = (FixedSizeListVector) root.getVector(CacheSchema.SAMPLES);
            FixedSizeListVector inner = (FixedSizeListVector) outer.getDataVector();
            Float4Vector valueVec = (Float4Vector) inner.getDataVector();
            itemVec.allocateNew(rowsPerShard);
            crcVec.allocateNew(rowsPerShard);
            // one call sizes and allocates the nested vectors (rowsPerShard lists of k lists of width floats); calling
            // allocateNew on the inner and value vectors as well allocated and zeroed the largest buffer three times
            outer.setInitialCapacity(rowsPerShard);
            outer.allocateNew();
            if (valueVec.getValueCapacity() < rowsPerShard * rowFloats) {
                throw new IllegalStateException("Arrow sized the value buffer for " + valueVec.getValueCapacity()
                        + " floats, " + rowsPerShard * rowFloats + " are needed");
            }
            for (var v : List.of(itemVec, crcVec, outer, inner, valueVec)) {
                v.getValidityBuffer().setOne(0, v.getValidityBuffer().capacity());
            }
            valueBytes = valueVec.getDataBuffer().nioBuffer(0, rowsPerShard * rowFloats * 4).order(ByteOrder.LITTLE_ENDIAN);
            values = valueBytes.asFloatBuffer();
        }
    }

    private TeacherCacheWriter(Path dir, CacheManifest manifest, int rowsPerShard, CacheWriteOptions options) {
        this(dir, manifest, rowsPerShard, options, 0, false);
    }

    private TeacherCacheWriter(Path dir, CacheManifest manifest, int rowsPerShard, CacheWriteOptions options,
            int firstShard, boolean shardsOnly) {
        this.dir = dir;
        this.firstShard = firstShard;
        this.shardsOnly = shardsOnly;
        this.manifest = manifest;
        this.next = manifest.items();
        this.rowsPerShard = rowsPerShard;
        this.options = options;
        this.k = manifest.k();
        this.width = manifest.width();
        this.rowFloats = k * width;
        this.probabilities = "probabilities".equals(manifest.signal());
        this.alloc = new RootAllocator(new AllocationListener() {
            @Override
            public void onAllocation(long size) {
                allocated.addAndGet(size);
            }
        }, Long.MAX_VALUE);
        committer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "distill4j-cache-commit " + dir.getFileName());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens a cache for appending with {@link CacheWriteOptions#DEFAULT}, creating it if the directory
     * holds no manifest.
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
        return openOrCreate(dir, task, k, width, signal, teacher, datasetFingerprint, rowsPerShard,
                CacheWriteOptions.DEFAULT);
    }

    /**
     * Opens a cache for appending, creating it if the directory holds no manifest.
     *
     * <p>When a manifest exists its task, k, width, signal and dataset fingerprint must equal the ones
     * given, and writing resumes after its last committed item ({@link #nextItem()}).
     *
     * @param dir the cache directory
     * @param task {@code classification} or {@code regression}
     * @param k samples per item, positive
     * @param width classes or outputs per sample, positive
     * @param signal {@code probabilities} or {@code logits} (classification), {@code values} (regression)
     * @param teacher the teacher's provenance
     * @param datasetFingerprint the fingerprint of the inputs (see {@link Sha256#fingerprint})
     * @param rowsPerShard items per shard, positive; one shard's values must fit in 2 GiB
     * @param options fsync and tolerance
     * @return the writer
     * @throws IOException if the directory cannot be written
     */
    public static TeacherCacheWriter openOrCreate(Path dir, String task, int k, int width, String signal,
            Map<String, Object> teacher, String datasetFingerprint, int rowsPerShard, CacheWriteOptions options)
            throws IOException {
        checkLayout(task, k, width, signal, rowsPerShard);
        Objects.requireNonNull(options, "options");
        CacheManifest m = openManifest(dir, task, k, width, signal, datasetFingerprint, options, () ->
                new CacheManifest(CacheManifest.FORMAT_VERSION, task, k, width, signal, "float32", 0, teacher,
                        datasetFingerprint, null, List.of()));
        return new TeacherCacheWriter(dir, m, rowsPerShard, options);
    }

    /**
     * Opens a writer of shards only, for a cache whose item ranges are written in parallel (one writer per range,
     * e.g. one per Spark task): items are numbered from {@code firstItem}, shards are named from
     * {@code part-<firstShard>.arrow} on and written into {@code dir} exactly as {@link #openOrCreate} writes them
     * (same bytes for the same items), through a temporary name and a rename, but no manifest is read or written:
     * {@link #manifest()}{@code .shards()} lists what was committed (with absolute item numbers) for the caller to
     * move into the cache and list in its manifest.
     *
     * @param dir the folder the shards go to (created; a private folder of the caller, not the cache)
     * @param task {@code classification} or {@code regression}
     * @param k samples per item, positive
     * @param width classes or outputs per sample, positive
     * @param signal {@code probabilities} or {@code logits} (classification), {@code values} (regression)
     * @param firstItem the index of the first item to be appended, not negative
     * @param firstShard the index in the first shard's name, not negative
     * @param rowsPerShard items per shard, positive
     * @param options fsync and tolerance
     * @return the writer
     * @throws IOException if the folder cannot be created
     */
    public static TeacherCacheWriter openShards(Path dir, String task, int k, int width, String signal, long firstItem,
            int firstShard, int rowsPerShard, CacheWriteOptions options) throws IOException {
        checkLayout(task, k, width, signal, rowsPerShard);
        if (firstItem < 0 || firstShard < 0) {
            throw new IllegalArgumentException("firstItem and firstShard must not be negative, got " + firstItem + ", "
                    + firstShard);
        }
        Objects.requireNonNull(options, "options");
        Files.createDirectories(dir);
        CacheManifest m = new CacheManifest(CacheManifest.FORMAT_VERSION, task, k, width, signal, "float32", firstItem,
                Map.of(), null, List.of());
        return new TeacherCacheWriter(dir, m, rowsPerShard, options, firstShard, true);
    }

    private static void checkLayout(String task, int k, int width, String signal, int rowsPerShard) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (width <= 0) {
            throw new IllegalArgumentException("width must be positive, got " + width);
        }
        if (rowsPerShard <= 0) {
            throw new IllegalArgumentException("rowsPerShard must be positive, got " + rowsPerShard);
        }
        if ((long) rowsPerShard * k * width * 4 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("rowsPerShard " + rowsPerShard + " x k " + k + " x width " + width
                    + " float32 values exceed 2 GiB per shard");
        }
        boolean known = switch (task) {
            case CacheManifest.CLASSIFICATION -> signal.equals("probabilities") || signal.equals("logits");
            case CacheManifest.REGRESSION -> signal.equals("values");
            default -> throw new IllegalArgumentException("task must be classification or regression, got " + task);
        };
        if (!known) {
            throw new IllegalArgumentException("signal '" + signal + "' does not fit task " + task
                    + " (classification: probabilities or logits; regression: values)");
        }
    }

    /** Creates a fresh manifest when the directory has none. */
    interface ManifestFactory {
        CacheManifest create();
    }

    /**
     * Opens or creates the manifest and removes leftovers of an interrupted run.
     */
    static CacheManifest openManifest(Path dir, String task, int k, int width, String signal, String fingerprint,
            CacheWriteOptions options, ManifestFactory fresh) throws IOException {
        Files.createDirectories(dir);
        CacheManifest m;
        if (Files.exists(dir.resolve(CacheManifest.FILE_NAME))) {
            m = CacheManifest.read(dir);
            check(dir, "task", m.task(), task);
            check(dir, "k", m.k(), k);
            check(dir, "width", m.width(), width);
            check(dir, "signal", m.signal(), signal);
            check(dir, "datasetFingerprint", m.datasetFingerprint(), fingerprint);
        } else {
            m = fresh.create();
            m.writeAtomically(dir, options.fsync());
        }
        removeLeftovers(dir, m);
        return m;
    }

    /** Deletes temporary files and shard files that the manifest does not list (renamed, never committed). */
    static void removeLeftovers(Path dir, CacheManifest m) throws IOException {
        java.util.Set<String> listed = new java.util.HashSet<>();
        for (CacheManifest.Shard s : m.shards()) {
            listed.add(s.file());
        }
        try (var s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                if (name.endsWith(".tmp") || (name.matches("part-\\d{5,}\\.arrow") && !listed.contains(name))) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void check(Path dir, String field, Object have, Object want) {
        if (!Objects.equals(have, want)) {
            throw new BadInputException(dir.resolve(CacheManifest.FILE_NAME) + ": field " + field + ": cache has "
                    + have + ", this run wants " + want + " (use a new cache directory)");
        }
    }

    /** @return the number of items appended so far (committed, being committed or buffered): the next item's index */
    public long nextItem() {
        return next;
    }

    /**
     * @return the manifest as committed so far (shards still being written are not in it yet); for a writer from
     *     {@link #openShards} an in-memory record whose shards are the ones written, never a file
     */
    public CacheManifest manifest() {
        return manifest;
    }

    /**
     * Appends one item's k samples.
     *
     * @param samples k rows of width values each
     * @throws IllegalArgumentException if the shape is not k x width, a value is not finite, or a probability
     *     is negative or a probability vector is off the simplex (naming item and field); nothing is appended
     *     then
     * @throws IOException if committing a full shard fails
     */
    public void append(float[][] samples) throws IOException {
        ensureOpen();
        requireWholeItem();
        if (samples.length != k) {
            throw new IllegalArgumentException(dir + ": item " + nextItem() + ": expected k=" + k + " samples, got "
                    + samples.length);
        }
        for (int j = 0; j < k; j++) {
            if (samples[j].length != width) {
                throw new IllegalArgumentException(dir + ": item " + nextItem() + ": sample " + j + " has width "
                        + samples[j].length + ", expected " + width);
            }
            validate(samples[j], 0, j);
        }
        int base = filling().rows * rowFloats;
        for (int j = 0; j < k; j++) {
            slot.values.put(base + j * width, samples[j]);
        }
        finishRow();
    }

    /**
     * Appends items from a flat array, item-major: item i's sample j, output c is at
     * {@code offset + (i * k + j) * width + c}. This is the fast path for teachers that produce batches.
     *
     * @param flat the values
     * @param offset index of the first value
     * @param items how many items to append
     * @throws IllegalArgumentException if the array is too short
     * @throws IllegalArgumentException if a value is invalid (see {@link #append(float[][])}); items before
     *     the bad one are appended
     * @throws IOException if committing a full shard fails
     */
    public void appendFlat(float[] flat, int offset, int items) throws IOException {
        ensureOpen();
        requireWholeItem();
        if (offset < 0 || items < 0 || (long) offset + (long) items * rowFloats > flat.length) {
            throw new IllegalArgumentException(dir + ": appendFlat: " + items + " items of " + rowFloats
                    + " values from offset " + offset + " exceed the array's " + flat.length);
        }
        for (int i = 0; i < items; i++) {
            int o = offset + i * rowFloats;
            for (int j = 0; j < k; j++) {
                validate(flat, o + j * width, j);
            }
            filling().values.put(slot.rows * rowFloats, flat, o, rowFloats);
            finishRow();
        }
    }

    /**
     * Appends samples from a flat array, continuing the item in progress: sample s's output c is at
     * {@code offset + s * width + c}; an item is complete, and counted by {@link #nextItem()}, once its k samples are
     * appended, so a teacher can hand over a batch in pieces of any size (less than an item, or several). Samples of
     * an item not completed before {@link #flush()} or {@link #close()} are dropped.
     *
     * @param flat the values
     * @param offset index of the first value
     * @param samples how many samples to append
     * @throws IllegalArgumentException if the array is too short, or a value is invalid (see
     *     {@link #append(float[][])}): the item in progress is dropped then, the items before it stay
     * @throws IOException if committing a full shard fails
     */
    public void appendSamples(float[] flat, int offset, int samples) throws IOException {
        ensureOpen();
        if (offset < 0 || samples < 0 || (long) offset + (long) samples * width > flat.length) {
            throw new IllegalArgumentException(dir + ": appendSamples: " + samples + " samples of " + width
                    + " values from offset " + offset + " exceed the array's " + flat.length);
        }
        int s = 0;
        while (s < samples) {
            int run = Math.min(samples - s, k - partial);
            int o = offset + s * width;
            try {
                for (int j = 0; j < run; j++) {
                    validate(flat, o + j * width, partial + j);
                }
            } catch (IllegalArgumentException e) {
                partial = 0;
                throw e;
            }
            filling().values.put(slot.rows * rowFloats + partial * width, flat, o, run * width);
            partial += run;
            s += run;
            if (partial == k) {
                partial = 0;
                finishRow();
            }
        }
    }

    private void validate(float[] v, int off, int sample) {
        // Fast path: a NaN or infinity makes the sum non-finite, a negative value shows in the minimum.
        float s0 = 0;
        float s1 = 0;
        float min = Float.POSITIVE_INFINITY;
        int c = 0;
        for (; c + 1 < width; c += 2) {
            float a = v[off + c];
            float b = v[off + c + 1];
            s0 += a;
            s1 += b;
            min = Math.min(min, Math.min(a, b));
        }
        if (c < width) {
            s0 += v[off + c];
            min = Math.min(min, v[off + c]);
        }
        double sum = (double) s0 + s1;
        boolean bad = !Double.isFinite(sum) || (probabilities && (min < 0 || Math.abs(sum - 1) > options.simplexTolerance()));
        if (bad) {
            validateSlowly(v, off, sample);
        }
    }

    private void validateSlowly(float[] v, int off, int sample) {
        double sum = 0;
        for (int c = 0; c < width; c++) {
            float x = v[off + c];
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException(dir + ": item " + nextItem() + ": field samples[" + sample + "][" + c
                        + "]: value " + x + " is not finite");
            }
            if (probabilities && x < 0) {
                throw new IllegalArgumentException(dir + ": item " + nextItem() + ": field samples[" + sample + "][" + c
                        + "]: probability " + x + " is negative");
            }
            sum += x;
        }
        if (probabilities && Math.abs(sum - 1) > options.simplexTolerance()) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%s: item %d: field samples[%d]: probabilities sum to %.6g, off the simplex by more than %.3g",
                    dir, nextItem(), sample, sum, options.simplexTolerance()));
        }
    }

    private void finishRow() throws IOException {
        int base = slot.rows * rowFloats * 4;
        ByteBuffer row = slot.valueBytes.duplicate();
        row.position(base).limit(base + rowFloats * 4);
        crc.reset();
        crc.update(row);
        slot.itemVec.set(slot.rows, next);
        slot.crcVec.set(slot.rows, (int) crc.getValue());
        slot.rows++;
        next++;
        if (slot.rows == rowsPerShard) {
            submit();
        }
    }

    /** Hands the full slot to the committer thread and continues in the other one. */
    private void submit() throws IOException {
        Slot full = slot;
        full.pending = committer.submit(() -> {
            commit(full);
            return null;
        });
        slot = slots[0] == full ? slots[1] : slots[0];
        await(slot);
    }

    /** @return the slot being filled, allocated (zeroed by Arrow: 4 k width bytes per shard row) when first needed */
    private Slot filling() {
        if (slot == null) {
            slot = new Slot();
            slots[slots[0] == null ? 0 : 1] = slot;
        }
        return slot;
    }

    private void await(Slot s) throws IOException {
        if (s == null || s.pending == null) {
            return;
        }
        try {
            s.pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(dir + ": interrupted while committing a shard");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            failure = c instanceof IOException io ? io : new IOException(dir + ": cannot commit a shard: " + c, c);
            throw failure;
        } finally {
            s.pending = null;
        }
    }

    /**
     * Commits the buffered items as a shard (no-op when none are buffered) and waits until every shard is
     * committed. An item whose k samples are not all appended is dropped.
     *
     * @throws IOException if writing fails
     */
    public void flush() throws IOException {
        ensureOpen();
        partial = 0;
        if (slot != null && slot.rows > 0) {
            submit();
        }
        await(slots[0]);
        await(slots[1]);
    }

    /** Runs on the committer thread, one slot at a time, in order. */
    private void commit(Slot s) throws IOException {
        String name = String.format(Locale.ROOT, "part-%05d.arrow", firstShard + manifest.shards().size());
        long first = manifest.items();
        int n = s.rows;
        FixedSizeListVector outer = (FixedSizeListVector) s.root.getVector(CacheSchema.SAMPLES);
        s.itemVec.setValueCount(n);
        s.crcVec.setValueCount(n);
        outer.setValueCount(n);
        s.root.setRowCount(n);
        Path target = dir.resolve(name);
        String sha = AtomicFiles.write(target, options.fsync(), ch -> {
            try (ArrowFileWriter w = new ArrowFileWriter(s.root, null, ch)) {
                w.start();
                w.writeBatch();
                w.end();
            }
        });
        CacheManifest m = manifest.withShard(new CacheManifest.Shard(name, first, n, Files.size(target), sha));
        if (!shardsOnly) {
            writeManifest(dir, m, target, options.fsync());
        }
        manifest = m;
        s.rows = 0;
    }

    /**
     * Replaces the manifest by one that lists a just-renamed shard; if that fails (a full disk), removes the
     * shard again, so the folder holds only what the old manifest lists.
     */
    static void writeManifest(Path dir, CacheManifest m, Path shard, boolean fsync) throws IOException {
        try {
            m.writeAtomically(dir, fsync);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(shard);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void requireWholeItem() {
        if (partial != 0) {
            throw new IllegalStateException(dir + ": item " + next + " has " + partial + " of its " + k
                    + " samples from appendSamples; append the rest there first");
        }
    }

    /**
     * What this writer's shard buffers have cost: the bytes of every Arrow buffer it allocated so far, freed ones
     * included (each is zeroed when allocated, so this is also the memory it touched for them).
     *
     * @return bytes allocated
     */
    long bufferBytesAllocated() {
        return allocated.get();
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IllegalStateException(dir + ": writer is closed");
        }
        if (failure != null) {
            throw new IOException(dir + ": an earlier commit failed; reopen the cache to resume", failure);
        }
    }

    /** Commits what is buffered, waits for the committer and frees the off-heap buffers. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            if (failure == null) {
                flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot commit the last shard", e);
        } finally {
            closed = true;
            committer.shutdown();
            try {
                committer.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (Slot s : slots) {
                if (s != null) {
                    s.root.close();
                }
            }
            alloc.close();
        }
    }
}

package io.distill4j.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.UInt2Vector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.message.IpcOption;

/**
 * Appends language-model teacher outputs to a sequence cache: per item a prompt and k sampled responses,
 * per response position the sampled token, the top-K ids with log-probabilities and the tail log-mass.
 *
 * <p>Storage per response position at K top tokens: ids as {@code uint16} (V at most 65536, else
 * {@code int32}); log-probabilities sorted in descending order, the top one kept exactly, the others
 * quantised to 8 bits on a square-root scale ({@link LogprobQuantizer}); the tail log-mass as float32; buffers compressed with ZSTD inside the Arrow IPC file. Commits are crash-safe as in
 * {@link TeacherCacheWriter}; one shard holds {@code itemsPerShard} items (k rows each).
 */
public final class SequenceCacheWriter implements AutoCloseable {

    private final Path dir;
    private final int k;
    private final int vocab;
    private final int topK;
    private final boolean uint16;
    private final int itemsPerShard;
    private final CacheWriteOptions options;
    private final int firstShard;
    private final boolean shardsOnly;
    private final List<Row> rows = new ArrayList<>();
    private CacheManifest manifest;
    private int bufferedItems;
    private boolean closed;
    private IOException failure;

    private record Row(long item, int sample, int[] prompt, int[] tokens, int[] ids, byte[] q, float[] top,
            float[] scale, float[] tail, long crc) {
    }

    private SequenceCacheWriter(Path dir, CacheManifest m, int itemsPerShard, CacheWriteOptions options, int firstShard,
            boolean shardsOnly) {
        this.dir = dir;
        this.firstShard = firstShard;
        this.shardsOnly = shardsOnly;
        this.manifest = m;
        this.k = m.k();
        this.vocab = m.sequence().vocabSize();
        this.topK = m.sequence().topK();
        this.uint16 = m.sequence().idType().equals("uint16");
        this.itemsPerShard = itemsPerShard;
        this.options = options;
    }

    /**
     * Opens a sequence cache for appending, creating it if the directory holds no manifest; an existing
     * cache must have the same k, vocabulary, top-K and fingerprint, and writing resumes after its last
     * committed item.
     *
     * @param dir the cache directory
     * @param k responses per prompt, positive
     * @param vocabSize vocabulary size V, positive
     * @param topK top tokens kept per position, 1 to V
     * @param teacher the teacher's provenance
     * @param datasetFingerprint the fingerprint of the prompts
     * @param itemsPerShard items per shard, positive
     * @param options fsync and tolerance
     * @return the writer
     * @throws IOException if the directory cannot be written
     */
    public static SequenceCacheWriter openOrCreate(Path dir, int k, int vocabSize, int topK, Map<String, Object> teacher,
            String datasetFingerprint, int itemsPerShard, CacheWriteOptions options) throws IOException {
        checkLayout(k, vocabSize, topK, itemsPerShard);
        Objects.requireNonNull(options, "options");
        CacheManifest fresh = freshManifest(k, vocabSize, topK, teacher, datasetFingerprint);
        CacheManifest m = TeacherCacheWriter.openManifest(dir, CacheManifest.SEQUENCE, k, vocabSize, "topk-logprobs",
                datasetFingerprint, options, () -> fresh);
        if (!m.sequence().equals(fresh.sequence())) {
            throw new BadInputException(dir.resolve(CacheManifest.FILE_NAME) + ": field sequence: cache has "
                    + m.sequence() + ", this run wants " + fresh.sequence() + " (use a new cache directory)");
        }
        return new SequenceCacheWriter(dir, m, itemsPerShard, options, 0, false);
    }

    /**
     * The manifest of an empty sequence cache, as {@link #openOrCreate} writes it: what a distributed run's driver
     * writes before its tasks add shards ({@link #openShards}).
     *
     * @param k responses per prompt, positive
     * @param vocabSize vocabulary size V, positive
     * @param topK top tokens kept per position, 1 to V
     * @param teacher the teacher's provenance
     * @param datasetFingerprint the fingerprint of the prompts
     * @return the manifest, no shards
     */
    public static CacheManifest freshManifest(int k, int vocabSize, int topK, Map<String, Object> teacher,
            String datasetFingerprint) {
        checkLayout(k, vocabSize, topK, 1);
        String idType = vocabSize <= 65536 ? "uint16" : "int32";
        CacheManifest.SequenceLayout layout = new CacheManifest.SequenceLayout(vocabSize, topK, idType,
                "uint8-sqrt", "zstd");
        return new CacheManifest(CacheManifest.FORMAT_VERSION, CacheManifest.SEQUENCE, k, vocabSize, "topk-logprobs",
                "uint8-sqrt", 0, teacher, datasetFingerprint, layout, List.of());
    }

    /**
     * Opens a writer of shards only, for a sequence cache whose prompt ranges are written in parallel (one writer
     * per range, e.g. one per Spark task), as {@link TeacherCacheWriter#openShards} does for dense caches: items are
     * numbered from {@code firstItem}, shards named from {@code part-<firstShard>.arrow} on, each holding
     * {@code itemsPerShard} items (the last fewer), written into {@code dir} exactly as {@link #openOrCreate} writes
     * them (same bytes for the same items), through a temporary name and a rename; no manifest is read or written:
     * {@link #manifest()}{@code .shards()} lists what was committed, for the caller to move into the cache and list.
     *
     * @param dir the folder the shards go to (created; a private folder of the caller, not the cache)
     * @param k responses per prompt, positive
     * @param vocabSize vocabulary size V, positive
     * @param topK top tokens kept per position, 1 to V
     * @param firstItem the index of the first item to be appended, not negative
     * @param firstShard the index in the first shard's name, not negative
     * @param itemsPerShard items per shard, positive
     * @param options fsync and tolerance
     * @return the writer
     * @throws IOException if the folder cannot be created
     */
    public static SequenceCacheWriter openShards(Path dir, int k, int vocabSize, int topK, long firstItem,
            int firstShard, int itemsPerShard, CacheWriteOptions options) throws IOException {
        checkLayout(k, vocabSize, topK, itemsPerShard);
        if (firstItem < 0 || firstShard < 0) {
            throw new IllegalArgumentException("firstItem and firstShard must not be negative, got " + firstItem + ", "
                    + firstShard);
        }
        Objects.requireNonNull(options, "options");
        Files.createDirectories(dir);
        CacheManifest empty = freshManifest(k, vocabSize, topK, Map.of(), null);
        CacheManifest m = new CacheManifest(empty.formatVersion(), empty.task(), k, vocabSize, empty.signal(),
                empty.dtype(), firstItem, Map.of(), null, empty.sequence(), List.of());
        return new SequenceCacheWriter(dir, m, itemsPerShard, options, firstShard, true);
    }

    private static void checkLayout(int k, int vocabSize, int topK, int itemsPerShard) {
        if (k <= 0 || vocabSize <= 0 || topK <= 0 || topK > vocabSize || itemsPerShard <= 0) {
            throw new IllegalArgumentException("need k > 0, vocabSize > 0, 0 < topK <= vocabSize, itemsPerShard > 0;"
                    + " got k=" + k + ", vocabSize=" + vocabSize + ", topK=" + topK + ", itemsPerShard=" + itemsPerShard);
        }
    }

    /** @return the index the next item gets */
    public long nextItem() {
        return manifest.items() + bufferedItems;
    }

    /**
     * @return the manifest as committed so far; for a writer from {@link #openShards} an in-memory record whose
     *     shards are the ones written, never a file
     */
    public CacheManifest manifest() {
        return manifest;
    }

    /**
     * Appends one item: its prompt and its k responses. All are validated before anything is buffered.
     *
     * @param prompt the prompt's token ids
     * @param samples k responses
     * @throws IllegalArgumentException if k or an array length is wrong, an id is outside the vocabulary, a
     *     log-probability is NaN or positive, ids repeat within a position, or top-K plus tail mass is off the
     *     simplex beyond the tolerance (naming item, sample, position and field)
     * @throws IOException if committing a full shard fails
     */
    public void append(int[] prompt, List<SequenceSample> samples) throws IOException {
        if (closed) {
            throw new IllegalStateException(dir + ": writer is closed");
        }
        long item = nextItem();
        if (samples.size() != k) {
            throw new IllegalArgumentException(dir + ": item " + item + ": expected k=" + k + " responses, got "
                    + samples.size());
        }
        checkIds(prompt, item, "prompt");
        List<Row> encoded = new ArrayList<>(k);
        for (int j = 0; j < k; j++) {
            encoded.add(encode(item, j, prompt, samples.get(j)));
        }
        rows.addAll(encoded);
        bufferedItems++;
        if (bufferedItems == itemsPerShard) {
            commitShard();
        }
    }

    private void checkIds(int[] ids, long item, String field) {
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= vocab) {
                throw new IllegalArgumentException(dir + ": item " + item + ": field " + field + "[" + t + "]: token id "
                        + ids[t] + " outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    private Row encode(long item, int j, int[] prompt, SequenceSample s) {
        int len = s.length();
        String where = dir + ": item " + item + ", sample " + j;
        if (s.topIds().length != len * topK || s.topLogprobs().length != len * topK
                || (s.tailLogMass() != null && s.tailLogMass().length != len)) {
            throw new IllegalArgumentException(where + ": a response of " + len + " tokens needs " + len * topK
                    + " top-K ids and log-probabilities and " + len + " tail masses, got " + s.topIds().length + ", "
                    + s.topLogprobs().length + ", " + (s.tailLogMass() == null ? "none" : s.tailLogMass().length));
        }
        checkIds(s.tokens(), item, "tokens of sample " + j);
        checkIds(s.topIds(), item, "topk_ids of sample " + j);
        double tol = options.simplexTolerance();
        int[] ids = new int[len * topK];
        byte[] q = new byte[len * topK];
        float[] top = new float[len];
        float[] scale = new float[len];
        float[] tail = new float[len];
        Integer[] order = new Integer[topK];
        float[] lp = new float[topK];
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int t = 0; t < len; t++) {
            int o = t * topK;
            seen.clear();
            double mass = 0;
            for (int r = 0; r < topK; r++) {
                float v = s.topLogprobs()[o + r];
                if (Float.isNaN(v) || v > tol) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT,
                            "%s: position %d: field topk_logprobs[%d]: %s is not a log-probability (NaN or above 0)",
                            where, t, r, v));
                }
                if (!seen.add(s.topIds()[o + r])) {
                    throw new IllegalArgumentException(where + ": position " + t + ": field topk_ids[" + r + "]: id "
                            + s.topIds()[o + r] + " appears twice");
                }
                mass += Math.exp(v);
                order[r] = r;
            }
            double tl;
            if (s.tailLogMass() == null) {
                if (mass > 1 + tol) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT,
                            "%s: position %d: field topk_logprobs: top-K mass %.6g exceeds 1 by more than %.3g",
                            where, t, mass, tol));
                }
                tl = Math.log(Math.max(0, 1 - mass));
            } else {
                tl = s.tailLogMass()[t];
                double total = mass + Math.exp(tl);
                if (Double.isNaN(tl) || tl > tol || Math.abs(Math.log(total)) > tol) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT,
                            "%s: position %d: field tail_logmass: %s with top-K mass %.6g gives total mass %.6g, off "
                                    + "the simplex by more than %.3g", where, t, tl, mass, total, tol));
                }
            }
            tail[t] = (float) tl;
            final int base = o;
            Arrays.sort(order, (a, b) -> Float.compare(s.topLogprobs()[base + b], s.topLogprobs()[base + a]));
            for (int r = 0; r < topK; r++) {
                lp[r] = Math.min(0f, s.topLogprobs()[o + order[r]]);
                ids[o + r] = s.topIds()[o + order[r]];
            }
            top[t] = lp[0];
            scale[t] = lp[0] - lp[topK - 1];
            for (int r = 0; r < topK; r++) {
                q[o + r] = (byte) LogprobQuantizer.quantize(lp[r], top[t], scale[t]);
            }
        }
        int[] p = prompt.clone();
        int[] tokens = s.tokens().clone();
        return new Row(item, j, p, tokens, ids, q, top, scale, tail,
                SequenceRows.crc(p, tokens, ids, q, top, scale, tail, uint16));
    }

    /**
     * Commits the buffered items as a shard (no-op when none are buffered).
     *
     * @throws IOException if writing fails
     */
    public void flush() throws IOException {
        if (bufferedItems > 0) {
            commitShard();
        }
    }

    private void commitShard() throws IOException {
        if (failure != null) {
            throw new IOException(dir + ": an earlier commit failed; reopen the cache to resume", failure);
        }
        try {
            writeShard();
        } catch (IOException e) {
            failure = e;
            throw e;
        }
    }

    private void writeShard() throws IOException {
        String name = String.format(Locale.ROOT, "part-%05d.arrow", firstShard + manifest.shards().size());
        long first = manifest.items();
        Path target = dir.resolve(name);
        String sha;
        try (BufferAllocator alloc = new RootAllocator();
                VectorSchemaRoot root = VectorSchemaRoot.create(CacheSchema.sequence(topK, uint16 ? "uint16" : "int32"),
                        alloc)) {
            fill(root);
            sha = AtomicFiles.write(target, options.fsync(), ch -> {
                try (ArrowFileWriter w = new ArrowFileWriter(root, null, ch, null, IpcOption.DEFAULT,
                        CommonsCompressionFactory.INSTANCE, CompressionUtil.CodecType.ZSTD)) {
                    w.start();
                    w.writeBatch();
                    w.end();
                }
            });
        }
        CacheManifest m = manifest.withShard(new CacheManifest.Shard(name, first, bufferedItems, Files.size(target), sha));
        if (!shardsOnly) {
            TeacherCacheWriter.writeManifest(dir, m, target, options.fsync());
        }
        manifest = m;
        rows.clear();
        bufferedItems = 0;
    }

    private void fill(VectorSchemaRoot root) {
        int n = rows.size();
        BigIntVector item = (BigIntVector) root.getVector(CacheSchema.ITEM);
        IntVector sample = (IntVector) root.getVector(CacheSchema.SAMPLE);
        UInt4Vector crc = (UInt4Vector) root.getVector(CacheSchema.CRC32);
        ListVector prompt = (ListVector) root.getVector(CacheSchema.PROMPT);
        ListVector tokens = (ListVector) root.getVector(CacheSchema.TOKENS);
        ListVector ids = (ListVector) root.getVector(CacheSchema.TOPK_IDS);
        ListVector q = (ListVector) root.getVector(CacheSchema.TOPK_LOGPROBS);
        ListVector top = (ListVector) root.getVector(CacheSchema.LOGPROB_TOP);
        ListVector scale = (ListVector) root.getVector(CacheSchema.LOGPROB_SCALE);
        ListVector tail = (ListVector) root.getVector(CacheSchema.TAIL_LOGMASS);
        for (FieldVector v : root.getFieldVectors()) {
            v.allocateNew();
        }
        FixedSizeListVector idsFsl = (FixedSizeListVector) ids.getDataVector();
        FixedSizeListVector qFsl = (FixedSizeListVector) q.getDataVector();
        int promptPos = 0;
        int pos = 0;
        for (int i = 0; i < n; i++) {
            Row r = rows.get(i);
            item.setSafe(i, r.item());
            sample.setSafe(i, r.sample());
            crc.setSafe(i, (int) r.crc());
            prompt.startNewValue(i);
            IntVector pv = (IntVector) prompt.getDataVector();
            for (int v : r.prompt()) {
                pv.setSafe(promptPos++, v);
            }
            prompt.endValue(i, r.prompt().length);
            int len = r.tokens().length;
            for (ListVector lv : List.of(tokens, ids, q, top, scale, tail)) {
                lv.startNewValue(i);
                lv.endValue(i, len);
            }
            for (int t = 0; t < len; t++, pos++) {
                setId(tokens.getDataVector(), pos, r.tokens()[t]);
                int fi = idsFsl.startNewValue(pos);
                int fq = qFsl.startNewValue(pos);
                for (int rk = 0; rk < topK; rk++) {
                    setId(idsFsl.getDataVector(), fi + rk, r.ids()[t * topK + rk]);
                    ((UInt1Vector) qFsl.getDataVector()).setSafe(fq + rk, r.q()[t * topK + rk] & 0xFF);
                }
                ((Float4Vector) top.getDataVector()).setSafe(pos, r.top()[t]);
                ((Float4Vector) scale.getDataVector()).setSafe(pos, r.scale()[t]);
                ((Float4Vector) tail.getDataVector()).setSafe(pos, r.tail()[t]);
            }
        }
        ((BaseFixedWidthVector) prompt.getDataVector()).setValueCount(promptPos);
        tokens.getDataVector().setValueCount(pos);
        idsFsl.setValueCount(pos);
        qFsl.setValueCount(pos);
        top.getDataVector().setValueCount(pos);
        scale.getDataVector().setValueCount(pos);
        tail.getDataVector().setValueCount(pos);
        root.setRowCount(n);
    }

    private void setId(org.apache.arrow.vector.ValueVector v, int index, int id) {
        if (uint16) {
            ((UInt2Vector) v).setSafe(index, id);
        } else {
            ((IntVector) v).setSafe(index, id);
        }
    }

    /** Commits what is buffered, unless an earlier commit failed (then what was committed before stays). */
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
        }
    }
}

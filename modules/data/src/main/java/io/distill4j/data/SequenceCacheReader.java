package io.distill4j.data;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BufferLayout;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.UInt2Vector;
import org.apache.arrow.vector.TypeLayout;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Reads a sequence cache item by item, one decompressed shard in memory at a time, checking each row's
 * item, sample index and CRC-32. Log-probabilities come back decoded ({@link LogprobQuantizer}).
 *
 * <p>A shard that Arrow cannot load (damaged ZSTD data or Arrow metadata) is named with the column and the
 * rows it takes with it ({@link #diagnose}). Each shard gets its own allocator, limited to
 * {@link #memoryLimit} so that a damaged length cannot claim the machine's memory. Arrow leaks the buffers
 * of a record batch it fails to load; such an allocator is dropped instead of closed, since closing it would
 * only log "Memory was leaked" (the memory, one shard at most, is lost until the JVM exits).
 */
public final class SequenceCacheReader implements AutoCloseable {

    private final Path dir;
    private final CacheManifest manifest;
    private final int k;
    private final int topK;
    private final boolean uint16;
    private BufferAllocator alloc;
    private int loadedShard = -1;
    private ArrowFileReader reader;
    private FileChannel channel;

    SequenceCacheReader(Path dir, CacheManifest manifest) {
        if (!manifest.sequenceTask()) {
            throw new IllegalArgumentException(dir + ": a " + manifest.task() + " cache is not a sequence cache");
        }
        this.dir = dir;
        this.manifest = manifest;
        this.k = manifest.k();
        this.topK = manifest.sequence().topK();
        this.uint16 = manifest.sequence().idType().equals("uint16");
    }

    /** @return the number of items */
    public long items() {
        return manifest.items();
    }

    /**
     * Reads one item.
     *
     * @param item the item index
     * @return its prompt and k responses
     * @throws BadInputException naming the shard, row and field of any fault
     */
    public SequenceItem read(long item) {
        if (item < 0 || item >= manifest.items()) {
            throw new IndexOutOfBoundsException("item " + item + " outside [0, " + manifest.items() + ")");
        }
        int s = shardOf(item);
        VectorSchemaRoot root = load(s);
        CacheManifest.Shard sh = manifest.shards().get(s);
        int base = (int) ((item - sh.firstItem()) * k);
        int[] prompt = null;
        List<SequenceSample> samples = new ArrayList<>(k);
        for (int j = 0; j < k; j++) {
            Decoded d = decode(root, base + j, dir.resolve(sh.file()), item, j);
            if (prompt == null) {
                prompt = d.prompt;
            }
            samples.add(d.sample);
        }
        return new SequenceItem(item, prompt, samples);
    }

    /**
     * One response of an item with its prompt: a row of the cache.
     *
     * @param prompt the item's prompt
     * @param sample the response
     */
    public record Response(int[] prompt, SequenceSample sample) {
    }

    /**
     * Reads one response of an item, decoding only its row (a reader that needs a few of an item's k responses
     * decodes those alone).
     *
     * @param item the item index
     * @param sample the response, in [0, k)
     * @return its prompt and the response
     * @throws BadInputException naming the shard, row and field of any fault
     */
    public Response read(long item, int sample) {
        if (item < 0 || item >= manifest.items()) {
            throw new IndexOutOfBoundsException("item " + item + " outside [0, " + manifest.items() + ")");
        }
        if (sample < 0 || sample >= k) {
            throw new IndexOutOfBoundsException("response " + sample + " outside [0, " + k + ")");
        }
        int s = shardOf(item);
        VectorSchemaRoot root = load(s);
        CacheManifest.Shard sh = manifest.shards().get(s);
        Decoded d = decode(root, (int) ((item - sh.firstItem()) * k) + sample, dir.resolve(sh.file()), item, sample);
        return new Response(d.prompt, d.sample);
    }

    /** The shard holding an item: the loaded one when it does, else a binary search of the manifest's shards. */
    private int shardOf(long item) {
        List<CacheManifest.Shard> shards = manifest.shards();
        if (loadedShard >= 0 && shards.get(loadedShard).firstItem() <= item
                && item < shards.get(loadedShard).firstItem() + shards.get(loadedShard).rows()) {
            return loadedShard;
        }
        int lo = 0;
        int hi = shards.size() - 1;
        while (lo < hi) { // the last shard whose first item is at most the item
            int mid = (lo + hi + 1) >>> 1;
            if (shards.get(mid).firstItem() <= item) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private record Decoded(int[] prompt, SequenceSample sample) {
    }

    private VectorSchemaRoot load(int s) {
        if (s == loadedShard) {
            try {
                return reader.getVectorSchemaRoot();
            } catch (IOException e) {
                throw new BadInputException(dir + ": cannot read shard: " + Errors.reason(e), e);
            }
        }
        closeShard();
        CacheManifest.Shard sh = manifest.shards().get(s);
        Path f = dir.resolve(sh.file());
        try {
            channel = FileChannel.open(f, StandardOpenOption.READ);
            alloc = new RootAllocator(memoryLimit(channel.size()));
            reader = new ArrowFileReader(channel, alloc, CommonsCompressionFactory.INSTANCE);
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            if (!root.getSchema().equals(CacheSchema.sequence(topK, manifest.sequence().idType()))) {
                throw new BadInputException(f + ": schema " + root.getSchema() + " does not match the manifest's layout "
                        + manifest.sequence());
            }
            if (!reader.loadNextBatch() || root.getRowCount() != sh.rows() * k || reader.loadNextBatch()) {
                throw new BadInputException(f + ": expected one record batch of " + sh.rows() * k + " rows");
            }
            loadedShard = s;
            return root;
        } catch (NoSuchFileException e) {
            closeShard();
            throw new BadInputException(f + ": shard listed in the manifest is missing", e);
        } catch (BadInputException e) {
            closeShard();
            throw e;
        } catch (IOException | RuntimeException e) {
            closeShard();
            String where = diagnose(f, sh);
            throw new BadInputException(f + ": corrupt or truncated shard: " + (where != null ? where
                    : "Arrow cannot load it (" + Errors.reason(e) + "); " + lostRows(sh)), e);
        }
    }

    /**
     * The most memory reading one shard may take: its bytes plus what they can decompress to. ZSTD
     * shrinks this cache's data about 1.2 to 3 times; 256 times the file leaves room for very repetitive
     * teachers while a damaged length (gigabytes to exabytes) fails at once.
     *
     * @param fileBytes the shard's size
     * @return the allocator limit in bytes
     */
    static long memoryLimit(long fileBytes) {
        return (64L << 20) + 256 * fileBytes;
    }

    /** @return "rows 0-R (items A-B) cannot be read" for every row of a shard */
    private String lostRows(CacheManifest.Shard sh) {
        return String.format(java.util.Locale.ROOT, "rows 0-%d (items %d-%d) cannot be read", sh.rows() * k - 1,
                sh.firstItem(), sh.firstItem() + sh.rows() - 1);
    }

    /**
     * Finds where a shard that Arrow cannot load is damaged: reads its footer and record-batch metadata on
     * their own, then decompresses each column's buffers one by one, so the message names the part at
     * fault (the footer, the batch metadata, or a column) and the rows lost with it, rather than Arrow's
     * internal error.
     *
     * @param f the shard file
     * @param sh its manifest entry
     * @return one line, or null if every part reads on its own
     */
    private String diagnose(Path f, CacheManifest.Shard sh) {
        long rows = sh.rows() * k;
        String lost = lostRows(sh);
        long size;
        BufferAllocator a;
        try {
            size = java.nio.file.Files.size(f);
            a = new RootAllocator(memoryLimit(size));
        } catch (IOException e) {
            return "cannot read it: " + Errors.reason(e);
        }
        String found = null;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
                ArrowFileReader r = new ArrowFileReader(ch, a, CommonsCompressionFactory.INSTANCE)) {
            List<ArrowBlock> blocks;
            Schema schema;
            try {
                blocks = r.getRecordBlocks();
                schema = r.getVectorSchemaRoot().getSchema();
            } catch (IOException | RuntimeException e) {
                return "its footer (schema and block index) is damaged (" + Errors.reason(e) + "); " + lost;
            }
            if (blocks.size() != 1) {
                return "its footer lists " + blocks.size() + " record batches, expected 1; " + lost;
            }
            ArrowBlock b = blocks.get(0);
            if (b.getOffset() < 0 || b.getMetadataLength() < 0 || b.getBodyLength() < 0
                    || b.getOffset() + b.getMetadataLength() + b.getBodyLength() > size) {
                return "its footer's block index is damaged: the record batch would end at byte "
                        + (b.getOffset() + b.getMetadataLength() + b.getBodyLength()) + " of " + size + "; " + lost;
            }
            ch.position(b.getOffset());
            ArrowRecordBatch batch;
            try {
                batch = MessageSerializer.deserializeRecordBatch(new ReadChannel(ch), b, a);
            } catch (IOException | RuntimeException e) {
                return "the record batch's metadata (row counts, buffer layout) is damaged (" + Errors.reason(e) + "); "
                        + lost;
            }
            try (batch) {
                if (batch.getLength() != rows) {
                    return "the record batch's metadata says " + batch.getLength() + " rows, the manifest " + rows + "; "
                            + lost;
                }
                CompressionCodec codec = CommonsCompressionFactory.INSTANCE.createCodec(CompressionUtil.CodecType.ZSTD);
                java.util.Iterator<ArrowBuf> buffers = batch.getBuffers().iterator();
                for (Field field : schema.getFields()) {
                    found = checkColumn(field, field.getName(), buffers, codec, a, memoryLimit(size));
                    if (found != null) {
                        return found + "; " + lost;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            found = "cannot be read (" + Errors.reason(e) + "); " + lost;
        } finally {
            if (a.getAllocatedMemory() == 0) {
                a.close();
            }
        }
        return found;
    }

    /** Decompresses one column's buffers (then its children's) on their own; describes the first that fails. */
    private static String checkColumn(Field field, String name, java.util.Iterator<ArrowBuf> buffers,
            CompressionCodec codec, BufferAllocator a, long limit) {
        List<BufferLayout.BufferType> types = TypeLayout.getTypeLayout(field.getType()).getBufferTypes();
        for (BufferLayout.BufferType type : types) {
            String what = "column " + name + ": its " + type.getName().toLowerCase(java.util.Locale.ROOT) + " buffer";
            if (!buffers.hasNext()) {
                return what + " is missing from the record batch";
            }
            ArrowBuf buf = buffers.next();
            long n = buf.writerIndex();
            if (n == 0) {
                continue;
            }
            if (n < 8) {
                return what + " holds " + n + " bytes, fewer than the 8 of its length prefix";
            }
            long declared = buf.getLong(0);
            if (declared != -1 && (declared < 0 || declared > limit)) {
                return what + " declares " + declared + " bytes when decompressed: its length prefix is damaged";
            }
            ArrowBuf copy = a.buffer(n);
            copy.setBytes(0, buf, 0, n);
            copy.writerIndex(n);
            try (ArrowBuf out = codec.decompress(a, copy)) {
                if (declared != -1 && out.writerIndex() != declared) {
                    return what + " decompresses to " + out.writerIndex() + " bytes, its prefix says " + declared;
                }
            } catch (RuntimeException e) {
                return what + " cannot be decompressed (ZSTD: " + Errors.reason(e) + ")";
            } finally {
                if (copy.getReferenceManager().getRefCount() > 0) {
                    copy.close();
                }
            }
        }
        for (Field child : field.getChildren()) {
            String f = checkColumn(child, name + "." + child.getName(), buffers, codec, a, limit);
            if (f != null) {
                return f;
            }
        }
        return null;
    }

    /**
     * Checks every row of one shard (item, sample, CRC-32).
     *
     * @param shard index of the shard in the manifest
     * @return the faults found as (row, message) pairs; a shard that cannot be parsed throws instead
     */
    List<String[]> checkShard(int shard) {
        VectorSchemaRoot root = load(shard);
        CacheManifest.Shard sh = manifest.shards().get(shard);
        List<String[]> faults = new ArrayList<>();
        for (int row = 0; row < root.getRowCount(); row++) {
            long item = sh.firstItem() + row / k;
            try {
                decode(root, row, dir.resolve(sh.file()), item, row % k);
            } catch (BadInputException e) {
                faults.add(new String[] {Integer.toString(row), e.getMessage()});
            }
        }
        return faults;
    }

    private Decoded decode(VectorSchemaRoot root, int row, Path file, long item, int j) {
        try {
            return decodeRow(root, row, file, item, j);
        } catch (BadInputException e) {
            throw e;
        } catch (RuntimeException e) { // offsets or lengths that point outside the buffers
            throw new BadInputException(file + ": row " + row + " (item " + item + ", sample " + j + "): damaged: "
                    + Errors.reason(e), e);
        }
    }

    private int id(ValueVector v, int i) {
        return uint16 ? ((UInt2Vector) v).get(i) : ((IntVector) v).get(i);
    }

    private Decoded decodeRow(VectorSchemaRoot root, int row, Path file, long item, int j) {
        String where = file + ": row " + row + " (item " + item + ", sample " + j + ")";
        long gotItem = ((BigIntVector) root.getVector(CacheSchema.ITEM)).get(row);
        int gotSample = ((IntVector) root.getVector(CacheSchema.SAMPLE)).get(row);
        if (gotItem != item || gotSample != j) {
            throw new BadInputException(where + ": fields item/sample: found " + gotItem + "/" + gotSample);
        }
        ListVector promptV = (ListVector) root.getVector(CacheSchema.PROMPT);
        ListVector tokV = (ListVector) root.getVector(CacheSchema.TOKENS);
        ListVector idsV = (ListVector) root.getVector(CacheSchema.TOPK_IDS);
        ListVector qV = (ListVector) root.getVector(CacheSchema.TOPK_LOGPROBS);
        ListVector topV = (ListVector) root.getVector(CacheSchema.LOGPROB_TOP);
        ListVector scaleV = (ListVector) root.getVector(CacheSchema.LOGPROB_SCALE);
        ListVector tailV = (ListVector) root.getVector(CacheSchema.TAIL_LOGMASS);
        int p0 = promptV.getElementStartIndex(row);
        int[] prompt = new int[promptV.getElementEndIndex(row) - p0];
        IntVector pv = (IntVector) promptV.getDataVector();
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = pv.get(p0 + i);
        }
        int t0 = tokV.getElementStartIndex(row);
        int len = tokV.getElementEndIndex(row) - t0;
        for (ListVector lv : List.of(idsV, qV, topV, scaleV, tailV)) {
            if (lv.getElementStartIndex(row) != t0 || lv.getElementEndIndex(row) - t0 != len) {
                throw new BadInputException(where + ": field " + lv.getName() + ": length differs from tokens' " + len);
            }
        }
        int[] tokens = new int[len];
        int[] ids = new int[len * topK];
        byte[] q = new byte[len * topK];
        float[] top = new float[len];
        float[] scale = new float[len];
        float[] tail = new float[len];
        float[] lp = new float[len * topK];
        FixedSizeListVector idsF = (FixedSizeListVector) idsV.getDataVector();
        FixedSizeListVector qF = (FixedSizeListVector) qV.getDataVector();
        UInt1Vector qd = (UInt1Vector) qF.getDataVector();
        for (int t = 0; t < len; t++) {
            int pos = t0 + t;
            tokens[t] = id(tokV.getDataVector(), pos);
            top[t] = ((Float4Vector) topV.getDataVector()).get(pos);
            scale[t] = ((Float4Vector) scaleV.getDataVector()).get(pos);
            tail[t] = ((Float4Vector) tailV.getDataVector()).get(pos);
            for (int r = 0; r < topK; r++) {
                ids[t * topK + r] = id(idsF.getDataVector(), pos * topK + r);
                q[t * topK + r] = qd.get(pos * topK + r);
                lp[t * topK + r] = LogprobQuantizer.dequantize(q[t * topK + r] & 0xFF, top[t], scale[t]);
            }
        }
        long want = Integer.toUnsignedLong(((UInt4Vector) root.getVector(CacheSchema.CRC32)).get(row));
        long got = SequenceRows.crc(prompt, tokens, ids, q, top, scale, tail, uint16);
        if (want != got) {
            throw new BadInputException(where + String.format(": field crc32: computed %08x, stored %08x", got, want));
        }
        return new Decoded(prompt, new SequenceSample(tokens, ids, lp, tail));
    }

    /**
     * Closes the reader, then the file, then the shard's allocator; an allocator that still holds memory
     * after a failed load (Arrow's leak, see the class comment) is dropped rather than closed.
     */
    private void closeShard() {
        try {
            if (reader != null) {
                reader.close();
            }
        } catch (IOException | RuntimeException e) {
            // a reader that failed half-way; its buffers are the allocator's below
        }
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            // closing a read-only file
        }
        if (alloc != null && alloc.getAllocatedMemory() == 0) {
            alloc.close();
        }
        alloc = null;
        reader = null;
        channel = null;
        loadedShard = -1;
    }

    /** Frees the loaded shard. */
    @Override
    public void close() {
        closeShard();
    }
}

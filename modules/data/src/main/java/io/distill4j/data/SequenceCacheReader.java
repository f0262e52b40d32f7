package io.distill4j.data;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.UInt2Vector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;

/**
 * Reads a sequence cache item by item, one decompressed shard in memory at a time, checking each row's
 * item, sample index and CRC-32. Log-probabilities come back decoded ({@link LogprobQuantizer}).
 */
public final class SequenceCacheReader implements AutoCloseable {

    private final Path dir;
    private final CacheManifest manifest;
    private final int k;
    private final int topK;
    private final boolean uint16;
    private final BufferAllocator alloc = new RootAllocator();
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
        int s = 0;
        while (manifest.shards().get(s).firstItem() + manifest.shards().get(s).rows() <= item) {
            s++;
        }
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

    private record Decoded(int[] prompt, SequenceSample sample) {
    }

    private VectorSchemaRoot load(int s) {
        if (s == loadedShard) {
            try {
                return reader.getVectorSchemaRoot();
            } catch (IOException e) {
                throw new BadInputException(dir + ": cannot read shard: " + e.getMessage(), e);
            }
        }
        closeShard();
        CacheManifest.Shard sh = manifest.shards().get(s);
        Path f = dir.resolve(sh.file());
        try {
            channel = FileChannel.open(f, StandardOpenOption.READ);
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
            throw new BadInputException(f + ": corrupt or truncated shard: " + e.getMessage(), e);
        }
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

    private int id(ValueVector v, int i) {
        return uint16 ? ((UInt2Vector) v).get(i) : ((IntVector) v).get(i);
    }

    private Decoded decode(VectorSchemaRoot root, int row, Path file, long item, int j) {
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

    private void closeShard() {
        try {
            if (reader != null) {
                reader.close();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            // closing a read-only file
        }
        reader = null;
        channel = null;
        loadedShard = -1;
    }

    /** Frees the loaded shard. */
    @Override
    public void close() {
        closeShard();
        alloc.close();
    }
}

package io.distill4j.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * Random and sequential access to a classification or regression cache through memory-mapped shards.
 *
 * <p>No shard is copied into the heap: rows are slices of the mappings, and NDArrays are made from
 * direct buffers (one bulk copy, or none with {@link #range(NDManager, long, int, boolean)}), so the heap
 * does not grow with the cache. Row checks (item index and CRC-32) are off
 * by default for speed and on with {@code verifyRows}; {@link TeacherCache#verify()} checks whole files.
 */
public final class DenseCacheReader {

    private final CacheManifest manifest;
    private final DenseShard[] shards;
    private final long[] firstItem;
    private final int k;
    private final int width;
    private final int rowBytes;
    private final boolean verifyRows;

    DenseCacheReader(Path dir, CacheManifest manifest, boolean verifyRows) {
        if (manifest.sequenceTask()) {
            throw new IllegalArgumentException(dir + ": a sequence cache has no dense reader; use TeacherCache.sequence()");
        }
        this.manifest = manifest;
        this.k = manifest.k();
        this.width = manifest.width();
        this.rowBytes = k * width * 4;
        this.verifyRows = verifyRows;
        int n = manifest.shards().size();
        shards = new DenseShard[n];
        firstItem = new long[n + 1];
        for (int s = 0; s < n; s++) {
            CacheManifest.Shard sh = manifest.shards().get(s);
            shards[s] = DenseShard.open(dir.resolve(sh.file()), sh.firstItem(), k, width);
            if (shards[s].rows() != sh.rows()) {
                throw new BadInputException(shards[s].file() + ": holds " + shards[s].rows()
                        + " rows, the manifest says " + sh.rows());
            }
            firstItem[s] = sh.firstItem();
        }
        firstItem[n] = manifest.items();
    }

    /** @return the number of items */
    public long items() {
        return manifest.items();
    }

    /** @return samples per item */
    public int k() {
        return k;
    }

    /** @return outputs per sample */
    public int width() {
        return width;
    }

    private int shardOf(long item) {
        if (item < 0 || item >= manifest.items()) {
            throw new IndexOutOfBoundsException("item " + item + " outside [0, " + manifest.items() + ")");
        }
        int s = java.util.Arrays.binarySearch(firstItem, item);
        return s >= 0 ? s : -s - 2;
    }

    private void check(int s, long row) {
        if (verifyRows) {
            String fault = shards[s].checkRow(row);
            if (fault != null) {
                throw new BadInputException(shards[s].file() + ": row " + row + " (item " + (firstItem[s] + row)
                        + "): " + fault);
            }
        }
    }

    /**
     * Returns one item's samples without copying: {@code k * width} little-endian float32 values,
     * sample-major.
     *
     * @param item the item index
     * @return a read-only slice of the mapping
     */
    public ByteBuffer itemBytes(long item) {
        int s = shardOf(item);
        long row = item - firstItem[s];
        check(s, row);
        return shards[s].values(row, 1);
    }

    /**
     * Copies one item's samples into {@code dst[j][c]}.
     *
     * @param item the item index
     * @param dst k rows of width values
     */
    public void readItem(long item, float[][] dst) {
        var fb = itemBytes(item).asFloatBuffer();
        for (int j = 0; j < k; j++) {
            fb.get(dst[j]);
        }
    }

    /**
     * Copies the samples of the given items, in order, into {@code dst} at its position.
     *
     * @param items item indices
     * @param dst a buffer with room for {@code items.length * k * width * 4} bytes
     */
    public void gather(long[] items, ByteBuffer dst) {
        for (long it : items) {
            dst.put(itemBytes(it));
        }
    }

    /**
     * Reads items {@code first .. first+count-1} as one (count, k, width) float32 array, copied once from
     * the mappings into a fresh direct buffer (a bulk copy per record batch touched).
     *
     * @param manager the manager of the new array
     * @param first the first item
     * @param count the number of items, positive
     * @return the array, which the caller may modify
     */
    public NDArray range(NDManager manager, long first, int count) {
        return range(manager, first, count, false);
    }

    /**
     * Like {@link #range(NDManager, long, int)}, but when the range lies in one record batch and
     * {@code view} is true, the array is made straight from the read-only mapping without any copy. Such an
     * array aliases the file: it must not be modified in place (the process would crash on the write), and
     * it stays valid while this reader is reachable.
     *
     * @param manager the manager of the new array
     * @param first the first item
     * @param count the number of items, positive
     * @param view whether to alias the mapping when possible
     * @return the array
     */
    public NDArray range(NDManager manager, long first, int count, boolean view) {
        if (count <= 0 || first < 0 || first + count > manifest.items()) {
            throw new IndexOutOfBoundsException("items [" + first + ", " + (first + count) + ") outside [0, "
                    + manifest.items() + ")");
        }
        Shape shape = new Shape(count, k, width);
        if (verifyRows) {
            for (long i = first; i < first + count; i++) {
                int si = shardOf(i);
                check(si, i - firstItem[si]);
            }
        }
        int s = shardOf(first);
        long row = first - firstItem[s];
        if (view && shards[s].rowsLeftInBatch(row) >= count) {
            return manager.create(shards[s].values(row, count), shape, DataType.FLOAT32);
        }
        Target t = target(manager, shape, count);
        long i = first;
        while (i < first + count) {
            int si = shardOf(i);
            long r = i - firstItem[si];
            int n = (int) Math.min(shards[si].rowsLeftInBatch(r), first + count - i);
            t.buf.put(shards[si].values(r, n));
            i += n;
        }
        return t.finish(manager, shape);
    }

    /** Where a batch is copied: straight into a new CPU tensor's memory, or a direct buffer otherwise. */
    private static final class Target {
        final NDArray array;
        final ByteBuffer buf;

        Target(NDArray array, ByteBuffer buf) {
            this.array = array;
            this.buf = buf;
        }

        NDArray finish(NDManager manager, Shape shape) {
            if (array != null) {
                return array;
            }
            buf.flip();
            return manager.create(buf, shape, DataType.FLOAT32);
        }
    }

    /**
     * Allocates the destination of a batch. On the CPU the array is created empty and filled through a direct
     * view of its memory (one copy, no zeroing, no JVM direct-memory accounting); on other devices through a
     * direct buffer that {@code create} uploads.
     */
    private Target target(NDManager manager, Shape shape, int count) {
        return target(manager, shape, count, rowBytes);
    }

    private Target target(NDManager manager, Shape shape, int count, int bytesPerItem) {
        if (!manager.getDevice().isGpu()) {
            NDArray a = manager.create(shape, DataType.FLOAT32);
            ByteBuffer view = a.toByteBuffer(true);
            if (view.isDirect() && view.capacity() == (long) count * bytesPerItem) {
                return new Target(a, view.order(ByteOrder.LITTLE_ENDIAN));
            }
            a.close();
        }
        return new Target(null, manager.allocateDirect(count * bytesPerItem).order(ByteOrder.LITTLE_ENDIAN));
    }

    /**
     * Reads the given items as one (items.length, k, width) float32 array.
     *
     * @param manager the manager of the new array
     * @param items item indices, in the order wanted
     * @return the array
     */
    public NDArray gather(NDManager manager, long[] items) {
        return gather(manager, items, 0, k);
    }

    /** Caches up to this size (256 MiB) are read through their mappings by {@link #gather}, larger ones by positional reads. */
    public static final long MAPPED_READS_UP_TO = 256L << 20;

    /** {@link #MAPPED_READS_UP_TO}; tests lower it to read small caches by positional reads. */
    long mappedReadsUpTo = MAPPED_READS_UP_TO;

    /**
     * Reads some draws of the given items as one (items.length, draws, width) float32 array: samples
     * {@code firstDraw .. firstDraw + draws - 1} of each (a student's own draws), and nothing else.
     *
     * <p>Rows of a cache larger than {@link #MAPPED_READS_UP_TO} are read with positional reads of the shard files, not
     * through the mappings, straight into the new array's memory: a pass over a cache larger than the machine's memory
     * leaves the data in the kernel's page cache, which the kernel can drop, not in this process's resident memory
     * (through the mappings, every page read counts there). Smaller caches are copied from the mappings, which saves a
     * system call per row (about 5 us each here: a third of the label time of a 64-row batch at k = 64).
     *
     * @param manager the manager of the new array
     * @param items item indices, in the order wanted
     * @param firstDraw the first sample read of each item
     * @param draws how many samples, positive, with {@code firstDraw + draws <= k}
     * @return the array
     */
    public NDArray gather(NDManager manager, long[] items, int firstDraw, int draws) {
        if (firstDraw < 0 || draws <= 0 || firstDraw + draws > k) {
            throw new IndexOutOfBoundsException("draws [" + firstDraw + ", " + (firstDraw + draws) + ") outside [0, "
                    + k + ")");
        }
        Shape shape = new Shape(items.length, draws, width);
        int offset = firstDraw * width * 4;
        int bytes = draws * width * 4;
        Target t = target(manager, shape, items.length, bytes);
        boolean mapped = manifest.items() * (long) rowBytes <= mappedReadsUpTo;
        for (long it : items) {
            int s = shardOf(it);
            long row = it - firstItem[s];
            check(s, row);
            if (mapped) {
                t.buf.put(shards[s].values(row, 1).slice(offset, bytes));
            } else {
                shards[s].read(row, offset, bytes, t.buf);
            }
        }
        return t.finish(manager, shape);
    }
}

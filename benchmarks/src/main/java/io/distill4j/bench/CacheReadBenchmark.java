package io.distill4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.DenseCacheReader;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.TeacherCacheWriter;
import io.distill4j.data.djl.CacheDataset;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Reads a whole classification cache (k = 16, C = 100, default 2 GiB) into NDArray batches of shape
 * (B, 16, 100), checksum verification off, per operation (with {@code -p consume=true} every batch is also
 * summed, which touches each byte and adds torch's own time): the distill4j reader copying each batch once from the memory-mapped shard
 * into the new tensor's memory, the same reader aliasing the mapping (zero copy), the DJL dataset with a
 * seeded shuffle (one gather per batch), and a plain twin that reads the same bytes from a raw float file
 * with FileChannel.read straight into each new tensor's memory. The fork's heap is 256 MiB.
 * The cache and the raw file are written to /tmp once per trial and deleted after it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Dai.djl.offline=true"})
public class CacheReadBenchmark {

    /** The size of the cache's samples in MiB. */
    @Param({"2048"})
    public int mebibytes;

    /** Items per batch. */
    @Param({"256"})
    public int batch;

    /** Whether each batch is consumed by a {@code sum()} (touching every byte, adding torch's own time). */
    @Param({"false"})
    public boolean consume;

    private Path dir;
    private TeacherCache cache;
    private NDManager manager;
    private int items;

    /** Writes the cache and its raw twin file. */
    @Setup(Level.Trial)
    public void write() throws IOException {
        dir = CacheBenchData.tempDir("d4j-bench-read-");
        items = CacheBenchData.items(mebibytes);
        float[] block = CacheBenchData.probabilities(512, 2);
        ByteBuffer raw = ByteBuffer.allocateDirect(block.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(block);
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir.resolve("cache"), "classification",
                CacheBenchData.K, CacheBenchData.C, "probabilities", Map.of("name", "bench"), "bench", 8192,
                CacheWriteOptions.DEFAULT.withFsync(false));
                FileChannel ch = FileChannel.open(dir.resolve("plain.f32"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE)) {
            for (int i = 0; i < items; i += 512) {
                int n = Math.min(512, items - i);
                w.appendFlat(block, 0, n);
                raw.clear().limit(n * (int) CacheBenchData.ROW_BYTES);
                while (raw.hasRemaining()) {
                    ch.write(raw);
                }
            }
        }
        cache = TeacherCache.open(dir.resolve("cache"));
        manager = NDManager.newBaseManager();
    }

    /** Deletes the files and reports the peak heap. */
    @TearDown(Level.Trial)
    public void clean() throws IOException {
        System.out.printf("%n[peak heap %.1f MiB]%n", CacheBenchData.peakHeapMiB());
        manager.close();
        CacheBenchData.delete(dir);
    }

    private double use(NDArray a) {
        if (!consume) {
            return a.getShape().get(0);
        }
        try (NDArray total = a.sum()) {
            return total.getFloat();
        }
    }

    private double readAll(boolean view) {
        DenseCacheReader r = cache.dense(false);
        double sum = 0;
        for (long first = 0; first < items; first += batch) {
            int n = (int) Math.min(batch, items - first);
            try (NDArray a = r.range(manager, first, n, view)) {
                sum += use(a);
            }
        }
        return sum;
    }

    /**
     * distill4j reader, one bulk copy per batch into a fresh direct buffer.
     *
     * @return items read
     */
    @Benchmark
    public double distill4jCopy() {
        return readAll(false);
    }

    /**
     * distill4j reader, arrays alias the read-only mapping (no copy).
     *
     * @return items read
     */
    @Benchmark
    public double distill4jView() {
        return readAll(true);
    }

    /**
     * The DJL dataset: shuffled by seed, each batch gathered row by row from the mappings.
     *
     * @return items read
     */
    @Benchmark
    public double datasetShuffled() {
        CacheDataset ds = CacheDataset.builder().setCache(cache).optShuffle(batch, 7).build();
        double sum = 0;
        for (Batch b : ds.getData(manager)) {
            sum += use(b.getLabels().get(ds.teacherIndex()));
            b.close();
        }
        return sum;
    }

    /**
     * The plain twin: FileChannel.read of the raw floats into a direct buffer per batch, then an NDArray.
     *
     * @return items read
     * @throws IOException on failure
     */
    @Benchmark
    public double plainFileChannel() throws IOException {
        double sum = 0;
        try (FileChannel ch = FileChannel.open(dir.resolve("plain.f32"), StandardOpenOption.READ)) {
            for (long first = 0; first < items; first += batch) {
                int n = (int) Math.min(batch, items - first);
                try (NDArray a = manager.create(new Shape(n, CacheBenchData.K, CacheBenchData.C), DataType.FLOAT32)) {
                    ByteBuffer buf = a.toByteBuffer(true);
                    while (buf.hasRemaining()) {
                        if (ch.read(buf) < 0) {
                            throw new IOException("short file");
                        }
                    }
                    sum += use(a);
                }
            }
        }
        return sum;
    }
}

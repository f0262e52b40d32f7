package io.distill4j.bench;

import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.TeacherCacheWriter;
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
 * Writes a whole classification cache (k = 16, C = 100, default 2 GiB of samples) per operation: the
 * distill4j writer with and without fsync, against a plain twin that writes the same bytes with one
 * FileChannel and no Arrow, validation, CRC or hashing. Throughput in MB/s = bytes / score. The fork runs
 * with a 256 MiB heap. Files go to /tmp and are deleted after each iteration.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "--add-opens=java.base/java.nio=ALL-UNNAMED"})
public class CacheWriteBenchmark {

    /** The size of the cache's samples in MiB. */
    @Param({"2048"})
    public int mebibytes;

    private static final int BLOCK = 512;
    private float[] block;
    private Path dir;

    /** Generates a block of valid probability items that the benchmarks append over and over. */
    @Setup(Level.Trial)
    public void data() {
        block = CacheBenchData.probabilities(BLOCK, 1);
    }

    /** A fresh folder per iteration. */
    @Setup(Level.Iteration)
    public void folder() throws IOException {
        dir = CacheBenchData.tempDir("d4j-bench-write-");
    }

    /** Deletes the iteration's files and reports the peak heap. */
    @TearDown(Level.Iteration)
    public void clean() throws IOException {
        CacheBenchData.delete(dir);
        System.out.printf("%n[peak heap %.1f MiB]%n", CacheBenchData.peakHeapMiB());
    }

    private long write(boolean fsync) throws IOException {
        int items = CacheBenchData.items(mebibytes);
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir.resolve("cache"), "classification",
                CacheBenchData.K, CacheBenchData.C, "probabilities", Map.of("name", "bench"), "bench", 8192,
                CacheWriteOptions.DEFAULT.withFsync(fsync))) {
            for (int i = 0; i < items; i += BLOCK) {
                w.appendFlat(block, 0, Math.min(BLOCK, items - i));
            }
            return w.nextItem();
        }
    }

    /**
     * distill4j, commits survive a crash of the process (no fsync).
     *
     * @return items written
     * @throws IOException on failure
     */
    @Benchmark
    public long distill4jNoFsync() throws IOException {
        return write(false);
    }

    /**
     * distill4j, every commit forced to disk (survives power loss).
     *
     * @return items written
     * @throws IOException on failure
     */
    @Benchmark
    public long distill4jFsync() throws IOException {
        return write(true);
    }

    /**
     * The plain twin: the same float bytes through one FileChannel, 52 MB at a time, no fsync.
     *
     * @return bytes written
     * @throws IOException on failure
     */
    @Benchmark
    public long plainFileChannel() throws IOException {
        int items = CacheBenchData.items(mebibytes);
        int perBuf = 8192;
        ByteBuffer buf = ByteBuffer.allocateDirect((int) (perBuf * CacheBenchData.ROW_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        long written = 0;
        try (FileChannel ch = FileChannel.open(dir.resolve("plain.f32"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (int i = 0; i < items; i += perBuf) {
                int n = Math.min(perBuf, items - i);
                buf.clear();
                var fb = buf.asFloatBuffer();
                for (int j = 0; j < n; j += BLOCK) {
                    int m = Math.min(BLOCK, n - j);
                    fb.put(block, 0, m * CacheBenchData.ROW_FLOATS);
                }
                buf.limit(n * (int) CacheBenchData.ROW_BYTES);
                while (buf.hasRemaining()) {
                    written += ch.write(buf);
                }
            }
        }
        return written;
    }
}

package io.distill4j.bench;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import io.distill4j.teacher.McDropoutTeacher;
import io.distill4j.teacher.TeacherOutput;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.TeacherSampler;
import io.distill4j.models.Mlp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.lang.management.ManagementFactory;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Issue 6's target: a digits-size MLP teacher (64-128-10, dropout 0.2) with MC dropout fills a cache at
 * 20,000 items x 16 samples per second or more on 2 cores. One operation is one item with its k = 16
 * samples, so the score is items per second.
 *
 * <ul>
 *   <li>{@code fillCache}: {@link TeacherSampler#fill} of 20,000 items into a fresh on-disk cache (Arrow
 *       shards, SHA-256, fsync, manifest), the whole path the CLI runs;</li>
 *   <li>{@code forwardOnly}: the same fused MC-dropout forward passes, copied to a Java array, without the
 *       cache: the part PyTorch itself could speed up.</li>
 * </ul>
 * The PyTorch twin is {@code benchmarks/twins/teacher_mc_dropout.py} (same shapes, same batch, 2 threads).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.nio=ALL-UNNAMED", "-Xmx2g"})
@State(Scope.Benchmark)
public class TeacherMcDropoutBenchmark {

    /** Items per operation batch (one fill). */
    public static final int ITEMS = 20_000;
    /** Samples per item. */
    public static final int K = 16;

    /** Inputs per fused forward pass (each expands to batch x 16 rows). */
    @Param({"1024"})
    public int batch;

    private Model model;
    private McDropoutTeacher teacher;
    private float[][] features;
    private Path root;
    private int run;

    /** Builds the teacher (random weights: the speed does not depend on their values) and the inputs. */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Engine.getInstance().setRandomSeed(0);
        Block block = Mlp.builder().setInputs(64).setHidden(128).setOutputs(10).optDropout(0.2f).build();
        model = Model.newInstance("teacher", Device.cpu());
        model.setBlock(block);
        block.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 64));
        teacher = McDropoutTeacher.builder(model).setSamples(K).setWidth(10).optOutput(TeacherOutput.probabilities(1f)).optSeed(7)
                .setDescription("mlp 64-128-10 dropout 0.2").build();
        Random r = new Random(1);
        features = new float[ITEMS][64];
        for (float[] row : features) {
            for (int j = 0; j < 64; j++) {
                row[j] = (float) (r.nextDouble() * 16); // digits' pixel range
            }
        }
        root = Files.createTempDirectory("teacher-bench");
    }

    /** Process CPU time and items, summed per iteration (JMH prints them next to the score). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Cpu {
        /** Items sampled. */
        public long items;
        /** CPU time of the whole process (all threads, native included), in microseconds. */
        public long cpuMicros;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * Fills a fresh cache with 20,000 items x 16 samples.
     *
     * @param cpu the CPU-time counters
     * @return the number of committed items
     */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long fillCache(Cpu cpu) {
        Path dir = root.resolve("cache-" + run++);
        long t0 = processCpuNanos();
        long n = TeacherSampler.fill(teacher, features, dir, new TeacherSampler.Options(batch, 8192), SampleProgress.NONE)
                .manifest().items();
        cpu.cpuMicros += (processCpuNanos() - t0) / 1000;
        cpu.items += n;
        return n;
    }

    /**
     * Runs the fused MC-dropout passes over 20,000 items and copies the samples to Java, without a cache.
     *
     * @param cpu the CPU-time counters
     * @return a checksum of the samples
     */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public double forwardOnly(Cpu cpu) {
        long t0 = processCpuNanos();
        double sum = 0;
        float[] flat = new float[batch * 64];
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            for (int start = 0; start < ITEMS; start += batch) {
                int b = Math.min(batch, ITEMS - start);
                for (int i = 0; i < b; i++) {
                    System.arraycopy(features[start + i], 0, flat, i * 64, 64);
                }
                try (NDManager sub = m.newSubManager()) {
                    NDArray x = sub.create(java.nio.FloatBuffer.wrap(flat, 0, b * 64), new Shape(b, 64));
                    float[] v = teacher.sample(sub, x, start).toFloatArray();
                    sum += v[0];
                }
            }
        }
        cpu.cpuMicros += (processCpuNanos() - t0) / 1000;
        cpu.items += ITEMS;
        return sum;
    }

    /** Deletes the caches written during the iteration. */
    @TearDown(Level.Iteration)
    public void clean() throws IOException {
        if (root != null && Files.exists(root)) {
            try (Stream<Path> s = Files.walk(root)) {
                s.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(root)).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Closes the model. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        clean();
        Files.deleteIfExists(root);
        model.close();
    }
}

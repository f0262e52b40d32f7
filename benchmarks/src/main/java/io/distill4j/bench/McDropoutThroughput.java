package io.distill4j.bench;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.distill4j.models.Mlp;
import io.distill4j.teacher.McDropoutTeacher;
import io.distill4j.teacher.TeacherSampler;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Issue 21, item 3: MC-dropout sampling throughput of {@link McDropoutTeacher} in chunks of a memory budget (the path
 * {@code distill4j sample} runs, without the cache), for the PyTorch twin {@code benchmarks/scale/mc_dropout_twin.py}
 * run with the same shapes and chunk rows in the same session.
 *
 * <p>Teacher: MLP 64-128-10 (Linear, ReLU, Dropout 0.2, Linear), softmax; inputs uniform in [0, 1). Each sample is
 * copied out of the engine into a Java array (the sink), as the sampler does before writing the cache.
 *
 * <p>Usage: {@code McDropoutThroughput ITEMS K BATCH BUDGET_MIB REPEATS}; prints one JSON line with the median wall
 * seconds and process CPU seconds (user + sys of every thread of the JVM, libtorch's included) of the REPEATS timed
 * runs after one warm-up, each run's figures, items and teacher rows per second, and the chunk rows the budget gave.
 */
public final class McDropoutThroughput {

    private McDropoutThroughput() {
    }

    /** The median of the timed runs (index 0, the warm-up, left out). */
    private static double median(double[] withWarmUp) {
        double[] timed = Arrays.copyOfRange(withWarmUp, 1, withWarmUp.length);
        Arrays.sort(timed);
        return timed.length % 2 == 1 ? timed[timed.length / 2] : (timed[timed.length / 2 - 1] + timed[timed.length / 2]) / 2;
    }

    private static String list(double[] withWarmUp) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 1; i < withWarmUp.length; i++) {
            b.append(i > 1 ? ", " : "").append(String.format(Locale.ROOT, "%.3f", withWarmUp[i]));
        }
        return b.append(']').toString();
    }

    /**
     * Runs the measurement.
     *
     * @param args items, k, batch size, budget in MiB, repeats
     */
    public static void main(String[] args) {
        int items = Integer.parseInt(args[0]);
        int k = Integer.parseInt(args[1]);
        int batch = Integer.parseInt(args[2]);
        long budget = Long.parseLong(args[3]) << 20;
        int repeats = Integer.parseInt(args[4]);
        Random r = new Random(0);
        float[][] x = new float[items][64];
        for (float[] row : x) {
            for (int j = 0; j < 64; j++) {
                row[j] = r.nextFloat();
            }
        }
        Engine.getInstance().setRandomSeed(0);
        try (Model m = Model.newInstance("teacher"); NDManager root = NDManager.newBaseManager()) {
            m.setBlock(Mlp.builder().setInputs(64).setHidden(128).setOutputs(10).optDropout(0.2f).build());
            m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, 64));
            McDropoutTeacher t = McDropoutTeacher.builder(m).setSamples(k).setWidth(10).optSeed(0).setDescription("mlp 64-128-10").build();
            TeacherSampler.Options o = new TeacherSampler.Options(batch, 4096, budget);
            long chunkRows = t.chunkRows(o.workingBytes(), 64);
            double[] seconds = new double[repeats + 1];
            double[] cpu = new double[repeats + 1];
            double[] checksum = {0};
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            for (int rep = 0; rep <= repeats; rep++) {   // rep 0 warms up
                long cpu0 = os.getProcessCpuTime();
                long start = System.nanoTime();
                for (int s = 0; s < items; s += batch) {
                    t.sample(root, x, s, Math.min(items, s + batch), o.workingBytes(), (values, offset, samples) ->
                            checksum[0] += values[offset]);
                }
                seconds[rep] = (System.nanoTime() - start) / 1e9;
                cpu[rep] = (os.getProcessCpuTime() - cpu0) / 1e9;
            }
            double med = median(seconds);
            System.out.printf(Locale.ROOT, "{\"impl\": \"distill4j\", \"items\": %d, \"k\": %d, \"batch\": %d, "
                    + "\"chunkRows\": %d, \"seconds\": %.3f, \"cpuSeconds\": %.3f, \"itemsPerSecond\": %.1f, "
                    + "\"rowsPerSecond\": %.0f, \"runs\": %s, \"cpuRuns\": %s, \"checksum\": %.3f}%n", items, k, batch,
                    Math.min(chunkRows, (long) batch * k), med, median(cpu), items / med, (double) items * k / med,
                    list(seconds), list(cpu), checksum[0]);
        }
    }
}

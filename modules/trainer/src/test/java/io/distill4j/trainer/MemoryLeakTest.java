package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.BaseNDManager;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * 20,000 updates of an 8-16-2 MLP (batch 8, dropout, clipping, a schedule) leave the number of live arrays
 * unchanged and the resident memory flat.
 *
 * <p>The training runs in a child JVM with a fixed, pre-touched heap, so that heap resizing cannot move the
 * resident set; the test samples the resident set every 1,000 updates and bounds its Theil-Sen slope (the
 * median of all pairwise slopes, robust to a stray jump), extrapolated over the 18,000 updates measured.
 */
public class MemoryLeakTest {
    static final int WARMUP = 2_000;
    static final int STEPS = 20_000;
    static final int EVERY = 1_000;
    /** Allowed trend of native memory over the measured updates. */
    static final long MAX_GROWTH_KB = 24 * 1024;

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    static int liveArrays(Model m) {
        return ((BaseNDManager) m.getNDManager()).getManagedArrays().size();
    }

    /** Median of the slopes between every pair of points. */
    static double theilSen(List<long[]> points) {
        List<Double> slopes = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) {
            for (int j = i + 1; j < points.size(); j++) {
                slopes.add((double) (points.get(j)[1] - points.get(i)[1]) / (points.get(j)[0] - points.get(i)[0]));
            }
        }
        double[] s = slopes.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    @Test
    void theilSenIsTheMedianPairwiseSlope() {
        // slopes: (0,0)-(1,1)=1, (0,0)-(2,10)=5, (1,1)-(2,10)=9 -> median 5
        assertEquals(5, theilSen(List.of(new long[] {0, 0}, new long[] {1, 1}, new long[] {2, 10})), 1e-12);
    }

    /**
     * Trains in a child JVM whose heap is fixed and pre-touched ({@code -Xms=-Xmx}, {@code AlwaysPreTouch}), so
     * the heap is resident from the start and the resident set can only grow through native memory or code.
     */
    @Test
    void twentyThousandStepsKeepMemoryFlat() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "-XX:ReservedCodeCacheSize=64m",
                "-cp", System.getProperty("java.class.path"), MemoryLeakTest.class.getName())
                .redirectErrorStream(true).start();
        List<long[]> samples = new ArrayList<>();
        int[] arrays = {-1, -1};
        StringBuilder out = new StringBuilder();
        try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                String[] f = line.split(" ");
                if (f[0].equals("rss")) {
                    samples.add(new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
                } else if (f[0].equals("arrays")) {
                    arrays[0] = Integer.parseInt(f[1]);
                    arrays[1] = Integer.parseInt(f[2]);
                }
            }
        }
        assertEquals(0, p.waitFor(), "child run failed:\n" + out);
        assertEquals((STEPS - WARMUP) / EVERY + 1, samples.size(), out.toString());
        double growth = theilSen(samples) * (STEPS - WARMUP);
        System.out.printf("rss samples (step, kB): %s; trend %.0f kB over %d steps; live arrays %d -> %d%n",
                Arrays.deepToString(samples.toArray()), growth, STEPS - WARMUP, arrays[0], arrays[1]);
        assertEquals(arrays[0], arrays[1], "arrays attached to the model's manager");
        assertTrue(growth < MAX_GROWTH_KB, "resident memory trends up by " + Math.round(growth) + " kB over "
                + (STEPS - WARMUP) + " steps");
    }

    /**
     * The child: trains and prints {@code rss STEP KB} every 1,000 updates after warm-up, then
     * {@code arrays BEFORE AFTER}.
     *
     * @param args unused
     * @throws IOException if /proc cannot be read
     */
    public static void main(String[] args) throws IOException {
        float[][] x = EngineFixtures.features(8 * 50, 3);
        int[] y = EngineFixtures.labels(x);
        int[] arrays = new int[2];
        try (Model model = EngineFixtures.mlp("leak", 16, 0.2f);
                TabularBatchSource s = new TabularBatchSource(x, EngineFixtures.oneHot(y, 2), 8, ai.djl.Device.cpu())) {
            FitListener probe = FitListener.onSteps(m -> {
                long step = m.step();
                if (step >= WARMUP && step % EVERY == 0) {
                    try {
                        System.out.println("rss " + step + " " + rssKb());
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }
                if (step == WARMUP || step == STEPS) {
                    arrays[step == WARMUP ? 0 : 1] = liveArrays(model);
                }
            });
            TrainingSpec spec = TrainingSpec.builder().setSeed(1).setEpochs(STEPS / 50).setLearningRate(1e-3f)
                    .optMaxGradNorm(1f).optSchedule(LrSchedule.Kind.COSINE, 100).optLogEvery(0).build();
            TrainingEngine.fit(model, s, new SoftTargetCrossEntropyLoss(), spec, probe);
        }
        System.out.println("arrays " + arrays[0] + " " + arrays[1]);
    }
}

package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.BaseNDManager;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * 20,000 updates of an 8-16-2 MLP (batch 8, dropout, clipping, a schedule) leave the number of live arrays
 * unchanged and the resident memory flat.
 */
class MemoryLeakTest {
    static final int WARMUP = 2_000;
    static final int STEPS = 20_000;
    /** Allowed growth of the resident set between warm-up and the end. */
    static final long MAX_RSS_GROWTH_KB = 24 * 1024;

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

    @Test
    void twentyThousandStepsKeepMemoryFlat() throws IOException {
        float[][] x = EngineFixtures.features(8 * 50, 3);
        int[] y = EngineFixtures.labels(x);
        long[] rss = new long[2];
        int[] arrays = new int[2];
        try (Model m = EngineFixtures.mlp("leak", 16, 0.2f);
                TabularBatchSource s = new TabularBatchSource(x, EngineFixtures.oneHot(y, 2), 8, ai.djl.Device.cpu())) {
            StepListener probe = (epoch, step, items, loss) -> {
                if (step == WARMUP || step == STEPS) {
                    System.gc();
                    int i = step == WARMUP ? 0 : 1;
                    try {
                        rss[i] = rssKb();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                    arrays[i] = liveArrays(m);
                }
            };
            TrainingSpec spec = TrainingSpec.builder().setSeed(1).setEpochs(STEPS / 50).setLearningRate(1e-3f)
                    .optMaxGradNorm(1f).optSchedule(LrSchedule.Kind.COSINE, 100).optLogEvery(0).build();
            TrainingResult r = TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec, probe);
            assertEquals(STEPS, r.steps());
        }
        System.out.printf("rss after %d steps %d kB, after %d steps %d kB; live arrays %d -> %d%n", WARMUP, rss[0], STEPS,
                rss[1], arrays[0], arrays[1]);
        assertEquals(arrays[0], arrays[1], "arrays attached to the model's manager");
        assertTrue(rss[1] - rss[0] < MAX_RSS_GROWTH_KB, "resident memory grew by " + (rss[1] - rss[0]) + " kB over "
                + (STEPS - WARMUP) + " steps");
    }
}

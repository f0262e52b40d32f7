package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheStatisticsTest {

    /** Plain two-pass double-precision reference for one item: {var0 mean, var1 mean, H(mean), mean H, MI}. */
    static double[] reference(float[][] p) {
        int k = p.length;
        int c = p[0].length;
        double[] mean = new double[c];
        for (float[] s : p) {
            for (int j = 0; j < c; j++) {
                mean[j] += s[j] / (double) k;
            }
        }
        double ss = 0;
        for (float[] s : p) {
            for (int j = 0; j < c; j++) {
                ss += (s[j] - mean[j]) * (s[j] - mean[j]);
            }
        }
        double hMean = 0;
        for (double m : mean) {
            hMean -= m > 0 ? m * Math.log(m) : 0;
        }
        double meanH = 0;
        for (float[] s : p) {
            for (float v : s) {
                meanH -= v > 0 ? v * Math.log(v) / k : 0;
            }
        }
        return new double[] {ss / k / c, ss / (k - 1) / c, hMean, meanH, hMean - meanH};
    }

    @Test
    void streamingSummaryMatchesATwoPassReference(@TempDir Path dir) throws IOException {
        Random r = new Random(5);
        int n = 40;
        int k = 4;
        int c = 5;
        double[] want = new double[5];
        double maxMi = 0;
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir, "classification", k, c, "probabilities",
                Map.of("name", "t"), "fp", 16, CacheWriteOptions.DEFAULT.withFsync(false))) {
            for (int i = 0; i < n; i++) {
                float[][] p = new float[k][c];
                for (float[] s : p) {
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        s[j] = (float) Math.exp(2 * r.nextGaussian());
                        sum += s[j];
                    }
                    for (int j = 0; j < c; j++) {
                        s[j] = (float) (s[j] / sum);
                    }
                }
                w.append(p);
                double[] ref = reference(p);
                for (int q = 0; q < 5; q++) {
                    want[q] += ref[q] / n;
                }
                maxMi = Math.max(maxMi, ref[4]);
            }
        }
        CacheStatistics s = CacheStatistics.of(TeacherCache.open(dir));
        assertEquals(n, s.items());
        assertEquals(want[0], s.meanVariance0(), 1e-9);
        assertEquals(want[1], s.meanVariance1(), 1e-9);
        assertEquals(want[2], s.meanEntropyOfMean(), 1e-6);
        assertEquals(want[3], s.meanMeanEntropy(), 1e-6);
        assertEquals(want[4], s.meanMutualInformation(), 1e-6);
        assertEquals(maxMi, s.maxMutualInformation(), 1e-6);
        assertTrue(s.meanMutualInformation() > 0);
    }

    @Test
    void logitsAreTurnedIntoProbabilitiesFirst(@TempDir Path dir) throws IOException {
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir, "classification", 2, 2, "logits", Map.of(), "fp",
                4, CacheWriteOptions.DEFAULT.withFsync(false))) {
            w.append(new float[][] {{0, 0}, {(float) Math.log(3), 0}}); // softmax: (0.5, 0.5) and (0.75, 0.25)
        }
        CacheStatistics s = CacheStatistics.of(TeacherCache.open(dir));
        double hMean = -(0.625 * Math.log(0.625) + 0.375 * Math.log(0.375));
        double meanH = (Math.log(2) - 0.75 * Math.log(0.75) - 0.25 * Math.log(0.25)) / 2;
        assertEquals(hMean, s.meanEntropyOfMean(), 1e-6);
        assertEquals(meanH, s.meanMeanEntropy(), 1e-6);
        assertEquals(0.125 * 0.125, s.meanVariance0(), 1e-7); // each class: (0.5 - 0.625)^2
    }

    @Test
    void inspectAndVerifyPrintWhatTheCommandsShow(@TempDir Path dir) throws IOException {
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(dir, "regression", 3, 1, "values",
                Map.of("name", "mlp", "seed", 7), "abc", 2, CacheWriteOptions.DEFAULT.withFsync(false))) {
            for (int i = 0; i < 5; i++) {
                w.append(new float[][] {{i}, {i + 1}, {i + 2}}); // variance ddof 0: 2/3, ddof 1: 1
            }
        }
        String text = CacheInspection.inspect(dir);
        assertTrue(text.contains("task:               regression"), text);
        assertTrue(text.contains("k:                  3"), text);
        assertTrue(text.contains("items:              5"), text);
        assertTrue(text.contains("shards:             3"), text);
        assertTrue(text.contains("teacher.name:       mlp"), text);
        assertTrue(text.contains("teacher.seed:       7"), text);
        assertTrue(text.contains("variance ddof=0:    0.666667"), text);
        assertTrue(text.contains("variance ddof=1:    1.000000"), text);
        String ok = CacheInspection.describe(CacheInspection.verify(dir));
        assertTrue(ok.contains("OK (3 shards, 5 items"), ok);
        java.nio.file.Files.delete(dir.resolve("part-00001.arrow"));
        String bad = CacheInspection.describe(CacheInspection.verify(dir));
        assertTrue(bad.contains("part-00001.arrow: shard listed in the manifest is missing"), bad);
        assertTrue(bad.contains("1 fault(s)"), bad);
    }
}

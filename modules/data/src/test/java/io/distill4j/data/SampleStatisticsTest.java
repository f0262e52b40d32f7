package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SampleStatisticsTest {

    @Test
    void matchesHandComputedValues() {
        // Two samples over two classes: (0.5, 0.5) and (1, 0).
        SampleStatistics s = SampleStatistics.of(new float[][] {{0.5f, 0.5f}, {1f, 0f}});
        assertArrayEquals(new double[] {0.75, 0.25}, s.mean(), 1e-12);
        assertArrayEquals(new double[] {0.0625, 0.0625}, s.variance(0), 1e-12);
        assertArrayEquals(new double[] {0.125, 0.125}, s.variance(1), 1e-12);
        double hMean = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
        double meanH = (Math.log(2) + 0) / 2;
        assertEquals(hMean, s.entropyOfMean(), 1e-12);
        assertEquals(meanH, s.meanEntropy(), 1e-7);
        assertEquals(hMean - meanH, s.mutualInformation(), 1e-7);
    }

    @Test
    void identicalSamplesHaveNoSpreadAndNoMutualInformation() {
        SampleStatistics s = SampleStatistics.of(new float[][] {{0.2f, 0.8f}, {0.2f, 0.8f}, {0.2f, 0.8f}});
        assertArrayEquals(new double[] {0, 0}, s.variance(1), 1e-12);
        assertEquals(0, s.mutualInformation(), 1e-7);
    }
}

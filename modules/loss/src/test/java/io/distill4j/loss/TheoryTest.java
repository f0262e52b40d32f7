package io.distill4j.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cui &amp; Pei 2026 (arXiv 2601.18909): with additive teacher noise of variance s^2, the mean of k samples
 * has noise variance s^2 / k. Checked empirically over 10,000 draws, within 5% (the sampling error of a
 * variance estimated from 10,000 draws is sqrt(2 / 9,999) = 1.4%, so 5% is 3.5 standard errors).
 */
class TheoryTest extends NdTestBase {

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 16})
    void meanTargetVarianceIsNoiseVarianceOverK(int k) {
        int draws = 10_000;
        int outputs = 3;
        double s = 0.7;
        double[] mu = {0.2, -1.0, 3.0};
        Random r = new Random(1000 + k);
        double[] samples = new double[draws * k * outputs];
        for (int i = 0; i < draws; i++) {
            for (int j = 0; j < k; j++) {
                for (int c = 0; c < outputs; c++) {
                    samples[(i * k + j) * outputs + c] = mu[c] + s * r.nextGaussian();
                }
            }
        }
        NDArray t = new MeanTarget().build(manager.create(samples, new Shape(draws, k, outputs)), null);
        double[] flat = t.toDoubleArray();
        for (int c = 0; c < outputs; c++) {
            double[] col = new double[draws];
            for (int i = 0; i < draws; i++) {
                col[i] = flat[i * outputs + c];
            }
            double var = PropertiesTest.variance(col);
            double expected = s * s / k;
            assertEquals(1.0, var / expected, 0.05, "k=" + k + " output " + c + ": variance " + var + " vs s^2/k "
                    + expected);
        }
        // the single-sample target keeps the full noise variance s^2
        if (k > 1) {
            double[] one = new SingleSampleTarget(k - 1).build(manager.create(samples, new Shape(draws, k, outputs)), null)
                    .toDoubleArray();
            double[] col = new double[draws];
            for (int i = 0; i < draws; i++) {
                col[i] = one[i * outputs];
            }
            assertEquals(1.0, PropertiesTest.variance(col) / (s * s), 0.05, "single sample: s^2");
        }
    }
}

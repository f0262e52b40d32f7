package io.distill4j.trainer.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.trainer.Metrics;
import org.junit.jupiter.api.Test;

/**
 * The statistics package against values from scipy 1.17.1 and numpy 2.4.6, made by
 * {@code src/test/resources/stats/reference.py} (its output is quoted beside each value).
 */
class StatsTest {

    @Test
    void studentTQuantilesMatchScipy() {
        // scipy.stats.t.ppf((1 + c) / 2, df)
        assertEquals(12.706204736174694, Descriptive.tQuantile(0.95, 1), 1e-8);
        assertEquals(4.302652729749462, Descriptive.tQuantile(0.95, 2), 1e-8);
        assertEquals(2.7764451051977934, Descriptive.tQuantile(0.95, 4), 1e-8);
        assertEquals(2.262157162798205, Descriptive.tQuantile(0.95, 9), 1e-8);
        assertEquals(2.045229642132703, Descriptive.tQuantile(0.95, 29), 1e-8);
        assertEquals(1.9839715185235518, Descriptive.tQuantile(0.95, 100), 1e-8);
        assertEquals(2.1318467863266495, Descriptive.tQuantile(0.90, 4), 1e-8);
        assertEquals(4.604094871349992, Descriptive.tQuantile(0.99, 4), 1e-8);
        assertThrows(IllegalArgumentException.class, () -> Descriptive.tQuantile(0.95, 0));
        assertThrows(IllegalArgumentException.class, () -> Descriptive.tQuantile(1, 4));
    }

    @Test
    void meanVarianceAndStdByHand() {
        // 1, 2, 6: mean 3, ddof-1 variance (4 + 1 + 9) / 2 = 7
        assertEquals(3, Descriptive.mean(new double[] {1, 2, 6}), 1e-15);
        assertEquals(7, Descriptive.variance(new double[] {1, 2, 6}), 1e-14);
        assertEquals(Math.sqrt(7), Descriptive.std(new double[] {1, 2, 6}), 1e-14);
        assertThrows(IllegalArgumentException.class, () -> Descriptive.variance(new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> Descriptive.mean(new double[0]));
    }

    @Test
    void summaryIsTheStudentTIntervalOfScipy() {
        // acc mean 0.94658 std 0.0010871982339941584 interval 0.9452300650939387 0.9479299349060613
        Summary s = Summary.of(new double[] {0.9466, 0.9481, 0.9452, 0.9470, 0.9460});
        assertEquals(5, s.n());
        assertEquals(0.94658, s.mean(), 1e-15);
        assertEquals(0.0010871982339941584, s.std(), 1e-15);
        assertEquals(0.9452300650939387, s.low(), 1e-11);
        assertEquals(0.9479299349060613, s.high(), 1e-11);
        assertEquals("0.9466 ± 0.0013", s.format(4));
        assertEquals("mean ± half-width of the 95% Student-t interval of the mean over 5 students, t(4) = 2.776",
                s.meaning("students"));
        // the normal interval (1.96) would be 29% narrower: 2.7764 / 1.96 = 1.417
        assertEquals(2.7764451051977934 / 1.959963984540054, s.halfWidth() / (1.959963984540054 * s.std() / Math.sqrt(5)),
                1e-8);
    }

    @Test
    void pairedDifferencesAreResolvedOnlyWhenTheIntervalExcludesZero() {
        // differences 0.001, 0.004, 0.002, 0.005, 0.0025: mean 0.0029, std sqrt(10.2e-6 / 4) = 0.0015969 (by hand),
        // half-width 2.7764451051977934 * std / sqrt(5) = 0.0019829
        double[] d = {0.001, 0.004, 0.002, 0.005, 0.0025};
        Summary s = Summary.of(d);
        double std = Math.sqrt(((0.0019 * 0.0019) + (0.0011 * 0.0011) + (0.0009 * 0.0009) + (0.0021 * 0.0021)
                + (0.0004 * 0.0004)) / 4);
        assertEquals(std, s.std(), 1e-15);
        assertEquals(2.7764451051977934 * std / Math.sqrt(5), s.halfWidth(), 1e-12);
        assertTrue(s.excludes(0));
        assertEquals("+0.0029 ± 0.0020", s.formatSigned(4));
        // mean 0.0015, std 0.0032 (by hand): 1.05 standard errors, inside either interval
        assertFalse(Summary.of(new double[] {-0.001, 0.004, 0.002, 0.005, -0.0025}).excludes(0));
        // mean 0.0024, std sqrt(19.7e-6 / 4) (by hand): 2.42 standard errors, between 1.96 and 2.776, so the
        // normal interval would call it and t(4) does not
        double[] between = {0.0015, 0.0045, 0.0010, 0.0050, 0.0000};
        Summary b = Summary.of(between);
        double se = b.std() / Math.sqrt(5);
        assertTrue(b.mean() / se > 1.96 && b.mean() / se < 2.7764, "t statistic " + b.mean() / se);
        assertFalse(b.excludes(0));
    }

    @Test
    void oneValueHasNoInterval() {
        Summary one = Summary.of(new double[] {0.5});
        assertEquals(0.5, one.mean(), 0);
        assertTrue(Double.isNaN(one.std()) && Double.isNaN(one.halfWidth()) && Double.isNaN(one.low()));
        assertFalse(one.excludes(0));
        assertEquals("0.5000", one.format(4));
        assertEquals("a single value over 1 of the students (no interval)", Summary.meaning(0.95, 1, "students"));
        assertEquals("mean ± half-width of the 90% Student-t interval of the mean over 5 seeds, t(4) = 2.132",
                Summary.meaning(0.9, 5, "seeds"));
    }

    @Test
    void quantilesAreNumpysLinearOnes() {
        double[] v = {3, 1, 4, 1, 5, 9, 2, 6};
        assertEquals(1.0, Bootstrap.quantile(v, 0.025), 1e-12);
        assertEquals(2.1, Bootstrap.quantile(v, 0.3), 1e-12);
        assertEquals(3.5, Bootstrap.quantile(v, 0.5), 1e-12);
        assertEquals(8.475000000000001, Bootstrap.quantile(v, 0.975), 1e-12);
        assertEquals(1, Bootstrap.quantile(v, 0), 0);
        assertEquals(9, Bootstrap.quantile(v, 1), 0);
    }

    @Test
    void bootstrapOfTheMeanMatchesTheExactBootstrapDistribution() {
        // all 5^5 resamples of x enumerated in reference.py: the 2.5% point lies between the inverse CDF at
        // 0.020 (0.46) and at 0.030 (0.48); the 97.5% point between 2.12 (0.970) and 2.18 (0.980)
        double[] x = {0.2, 0.5, 0.9, 1.4, 3.0};
        Bootstrap.Statistic mean = idx -> {
            double s = 0;
            for (int i : idx) {
                s += x[i];
            }
            return s / idx.length;
        };
        BootstrapInterval iv = Bootstrap.percentile(5, mean, 40_000, 0.95, 7, "values");
        assertEquals(1.2, iv.estimate(), 1e-15);
        assertEquals(iv, Bootstrap.percentile(5, mean, 40_000, 0.95, 7, "values"), "the same seed, the same resamples");
        // a statistic that names the whole ordered resample: another seed gives other quantiles
        Bootstrap.Statistic code = idx -> {
            double v = 0;
            for (int i = 0; i < idx.length; i++) {
                v += idx[i] * Math.pow(10, -i);
            }
            return v;
        };
        BootstrapInterval seven = Bootstrap.percentile(10, code, 200, 0.95, 7, "units");
        assertEquals(seven, Bootstrap.percentile(10, code, 200, 0.95, 7, "units"));
        BootstrapInterval eight = Bootstrap.percentile(10, code, 200, 0.95, 8, "units");
        assertTrue(seven.low() != eight.low() && seven.high() != eight.high(), seven + " vs " + eight);
        assertTrue(iv.low() >= 0.46 - 1e-12 && iv.low() <= 0.48 + 1e-12, "low " + iv.low());
        assertTrue(iv.high() >= 2.12 - 1e-12 && iv.high() <= 2.18 + 1e-12, "high " + iv.high());
        assertEquals("estimate [95% percentile-bootstrap interval, 40000 resamples of the 5 values]", iv.meaning());
    }

    @Test
    void bootstrapOfTheInterStudentVarianceIsSeededAndReproducible() {
        // four students, three items, two classes
        double[][][] p = {
            {{0.9, 0.1}, {0.2, 0.8}, {0.6, 0.4}},
            {{0.8, 0.2}, {0.3, 0.7}, {0.5, 0.5}},
            {{0.7, 0.3}, {0.2, 0.8}, {0.9, 0.1}},
            {{0.95, 0.05}, {0.1, 0.9}, {0.4, 0.6}}};
        Bootstrap.Statistic overStudents = idx -> {
            double[][][] pick = new double[idx.length][][];
            for (int i = 0; i < idx.length; i++) {
                pick[i] = p[idx[i]];
            }
            // a resample made of one student repeated has no spread: variance 0
            return Metrics.interStudentVariance(pick);
        };
        BootstrapInterval a = Bootstrap.percentile(4, overStudents, 500, 0.95, 11, "students");
        BootstrapInterval b = Bootstrap.percentile(4, overStudents, 500, 0.95, 11, "students");
        assertEquals(a, b);
        assertEquals(Metrics.interStudentVariance(p), a.estimate(), 1e-15);
        assertTrue(a.low() <= a.estimate() && a.estimate() <= a.high(), a.format());
        assertTrue(a.low() >= 0);
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.percentile(1, overStudents, 500, 0.95, 1, "students"));
    }

    @Test
    void regressionsMatchNumpyPolyfit() {
        // the boston a = 0.1 mean row of the ffn report: numpy.polyfit gives slope -0.3919436863934201,
        // floor 0.009664393203883495 and c 0.024766504854368935
        double[] k = {1, 2, 5, 10, 20};
        double[] v = {3.402e-02, 2.309e-02, 1.396e-02, 1.254e-02, 1.053e-02};
        assertEquals(-0.3919436863934201, Regression.logLogSlope(k, v), 1e-12);
        double[] fit = Regression.fitFloorPlusInverse(k, v);
        assertEquals(0.009664393203883495, fit[0], 1e-14);
        assertEquals(0.024766504854368935, fit[1], 1e-14);
        // an exact power law and an exact floor + c / k
        assertEquals(-1.3, Regression.logLogSlope(k, new double[] {3, 3 * Math.pow(2, -1.3), 3 * Math.pow(5, -1.3),
            3 * Math.pow(10, -1.3), 3 * Math.pow(20, -1.3)}), 1e-12);
        // y = 3 / x exactly: slope -1; y = x^2: slope 2; y = 0.5 + 2 / x exactly
        assertEquals(-1, Regression.logLogSlope(new double[] {1, 2, 5, 10}, new double[] {3, 1.5, 0.6, 0.3}), 1e-12);
        assertEquals(2, Regression.logLogSlope(new double[] {1, 3, 9}, new double[] {1, 9, 81}), 1e-12);
        double[] exact = Regression.fitFloorPlusInverse(new double[] {1, 2, 4}, new double[] {2.5, 1.5, 1});
        assertEquals(0.5, exact[0], 1e-12);
        assertEquals(2, exact[1], 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Regression.logLogSlope(new double[] {1, 2}, new double[] {1, 0}));
    }

    @Test
    void theMeanOfAResampleCountsRepeatedUnits() {
        double[] v = {1, 2, 4};
        assertEquals(7.0 / 3, Bootstrap.mean(v, new int[] {0, 1, 2}), 1e-15);
        assertEquals((4 + 4 + 1) / 3.0, Bootstrap.mean(v, new int[] {2, 2, 0}), 1e-15);
    }
}

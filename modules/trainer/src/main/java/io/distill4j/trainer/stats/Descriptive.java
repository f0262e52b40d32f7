package io.distill4j.trainer.stats;

import org.hipparchus.distribution.continuous.TDistribution;
import org.hipparchus.stat.StatUtils;

/** Descriptive statistics of plain double values: mean, sample variance and Student-t quantiles. */
public final class Descriptive {

    private Descriptive() {
    }

    /**
     * The arithmetic mean.
     *
     * @param values at least one value
     * @return (1/n) sum_i x_i
     */
    public static double mean(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("a mean needs at least 1 value, got none");
        }
        return StatUtils.mean(values);
    }

    /**
     * The sample variance with Bessel's correction (ddof 1), for example of each student's test MSE (the
     * inter-student variance of a scalar metric).
     *
     * @param values at least 2 values
     * @return (1/(n-1)) sum_i (x_i - mean)^2
     */
    public static double variance(double[] values) {
        if (values.length < 2) {
            throw new IllegalArgumentException("a variance needs at least 2 values, got " + values.length);
        }
        return StatUtils.variance(values);
    }

    /**
     * The sample standard deviation (ddof 1).
     *
     * @param values at least 2 values
     * @return sqrt of {@link #variance}
     */
    public static double std(double[] values) {
        return Math.sqrt(variance(values));
    }

    /**
     * The quantile of Student's t distribution that bounds a two-sided interval: t such that
     * P(-t &lt; T &lt; t) = confidence for T ~ t(df); 2.7764 for 95% and df = 4.
     *
     * @param confidence the interval's coverage, in (0, 1)
     * @param df degrees of freedom, positive
     * @return t_{(1 + confidence) / 2, df}
     */
    public static double tQuantile(double confidence, int df) {
        if (!(confidence > 0 && confidence < 1)) {
            throw new IllegalArgumentException("confidence must be in (0, 1), got " + confidence);
        }
        if (df <= 0) {
            throw new IllegalArgumentException("degrees of freedom must be positive, got " + df);
        }
        return new TDistribution(df).inverseCumulativeProbability((1 + confidence) / 2);
    }
}

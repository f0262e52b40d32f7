package io.distill4j.trainer.stats;

import java.util.SplittableRandom;
import org.hipparchus.stat.descriptive.rank.Percentile;

/**
 * The percentile bootstrap (Efron &amp; Tibshirani 1993, ch. 13): an interval for a statistic that has no
 * closed-form one, such as the inter-student variance of predictions. The n units (test items, or students)
 * are drawn n times with replacement, the statistic is recomputed on each of B resamples, and the interval is
 * the (1 - confidence)/2 and (1 + confidence)/2 quantiles of those B values (linear interpolation between
 * order statistics, numpy's default, Hipparchus' {@code R_7}).
 *
 * <p>Resampling <em>items</em> measures how much the statistic depends on which test inputs were drawn;
 * resampling <em>students</em> measures how much it depends on which seeds were drawn (with few students this
 * interval is crude and too narrow). For example, the inter-student variance with an interval over students:
 * <pre>{@code
 *   BootstrapInterval iv = Bootstrap.percentile(probs.length, idx -> Metrics.interStudentVariance(pick(probs, idx)),
 *           Bootstrap.RESAMPLES, Summary.CONFIDENCE, seed, "students");
 * }</pre>
 * Reproducible: the resamples depend only on the seed, n and B.
 */
public final class Bootstrap {

    /** The default number of resamples. */
    public static final int RESAMPLES = 2000;

    private Bootstrap() {
    }

    /** A statistic of a resample. */
    @FunctionalInterface
    public interface Statistic {
        /**
         * Computes the statistic on a resample.
         *
         * @param units the resample: n unit indices in [0, n), drawn with replacement (the identity for the
         *     estimate itself)
         * @return the statistic's value
         */
        double of(int[] units);
    }

    /**
     * The percentile bootstrap interval of a statistic.
     *
     * @param units the number of units n, at least 2
     * @param statistic the statistic of a resample
     * @param resamples the number of resamples B, at least 2
     * @param confidence the coverage, in (0, 1)
     * @param seed seeds the resampling
     * @param over what the units are, plural ("test items", "students"), for {@link BootstrapInterval#meaning}
     * @return the estimate on all units and its interval
     */
    public static BootstrapInterval percentile(int units, Statistic statistic, int resamples, double confidence, long seed,
            String over) {
        if (units < 2) {
            throw new IllegalArgumentException("a bootstrap needs at least 2 units, got " + units);
        }
        if (resamples < 2) {
            throw new IllegalArgumentException("a bootstrap needs at least 2 resamples, got " + resamples);
        }
        if (!(confidence > 0 && confidence < 1)) {
            throw new IllegalArgumentException("confidence must be in (0, 1), got " + confidence);
        }
        int[] all = new int[units];
        for (int i = 0; i < units; i++) {
            all[i] = i;
        }
        double estimate = statistic.of(all);
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] values = new double[resamples];
        int[] draw = new int[units];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < units; i++) {
                draw[i] = rnd.nextInt(units);
            }
            values[b] = statistic.of(draw.clone());
            if (Double.isNaN(values[b])) {
                throw new IllegalArgumentException("the statistic is NaN on bootstrap resample " + b);
            }
        }
        return new BootstrapInterval(estimate, quantile(values, (1 - confidence) / 2),
                quantile(values, (1 + confidence) / 2), confidence, resamples, units, over);
    }

    /**
     * The mean of per-unit values over a resample, the statistic of a bootstrap over items of any per-item quantity
     * (for example {@code Metrics.itemVariances}).
     *
     * @param values one value per unit
     * @param units the resample's unit indices (repeats allowed)
     * @return the mean of {@code values[u]} over the resample
     */
    public static double mean(double[] values, int[] units) {
        double s = 0;
        for (int u : units) {
            s += values[u];
        }
        return s / units.length;
    }

    /**
     * A quantile by linear interpolation between order statistics (numpy's default, Hyndman &amp; Fan's type 7).
     *
     * @param values the values, at least one (not modified)
     * @param p the probability, in [0, 1]
     * @return the p-quantile
     */
    public static double quantile(double[] values, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("quantile probability must be in [0, 1], got " + p);
        }
        if (p == 0 || p == 1) {
            // Hipparchus takes percentiles in (0, 100]; the ends are the extremes
            double e = values[0];
            for (double v : values) {
                e = p == 0 ? Math.min(e, v) : Math.max(e, v);
            }
            return e;
        }
        return new Percentile().withEstimationType(Percentile.EstimationType.R_7).evaluate(values, p * 100);
    }
}

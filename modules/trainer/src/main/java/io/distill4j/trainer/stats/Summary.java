package io.distill4j.trainer.stats;

import java.util.Locale;

/**
 * A metric over a few seeds (students, runs): its mean, its sample standard deviation (ddof 1) and the
 * two-sided Student-t confidence interval of the mean,
 * <pre>
 *   mean ± halfWidth,   halfWidth = t_{(1 + confidence) / 2, n - 1} * std / sqrt(n)
 * </pre>
 * which is exact for normally distributed values and, unlike the normal quantile 1.96, does not shrink the
 * interval when n is small (with n = 5 the normal interval is 29% too narrow). A difference of paired
 * values (same seeds, two methods) is resolved when the interval of the differences excludes 0
 * ({@link #excludes}). With one value, std and the half-width are NaN.
 *
 * <p>A table of summaries says what its {@code ±} means with {@link #meaning} (for example "mean ± half-width
 * of the 95% Student-t interval of the mean over 5 students, t(4) = 2.776").
 *
 * @param n the number of values
 * @param mean their mean
 * @param std their sample standard deviation (ddof 1), NaN for one value
 * @param confidence the interval's coverage, in (0, 1)
 * @param halfWidth the half-width of the interval of the mean, NaN for one value
 */
public record Summary(int n, double mean, double std, double confidence, double halfWidth) {

    /** The coverage of the intervals the project prints: 95%. */
    public static final double CONFIDENCE = 0.95;

    /** Checks the fields. */
    public Summary {
        if (n < 1) {
            throw new IllegalArgumentException("a summary needs at least 1 value, got " + n);
        }
        if (!(confidence > 0 && confidence < 1)) {
            throw new IllegalArgumentException("confidence must be in (0, 1), got " + confidence);
        }
    }

    /**
     * Summarises values with the 95% interval.
     *
     * @param values one per seed, at least one
     * @return the summary
     */
    public static Summary of(double[] values) {
        return of(values, CONFIDENCE);
    }

    /**
     * Summarises values.
     *
     * @param values one per seed, at least one
     * @param confidence the interval's coverage, in (0, 1)
     * @return the summary
     */
    public static Summary of(double[] values, double confidence) {
        double mean = Descriptive.mean(values);
        int n = values.length;
        if (n == 1) {
            return new Summary(1, mean, Double.NaN, confidence, Double.NaN);
        }
        double std = Descriptive.std(values);
        return new Summary(n, mean, std, confidence, Descriptive.tQuantile(confidence, n - 1) * std / Math.sqrt(n));
    }

    /** @return the lower end of the interval, mean - halfWidth */
    public double low() {
        return mean - halfWidth;
    }

    /** @return the upper end of the interval, mean + halfWidth */
    public double high() {
        return mean + halfWidth;
    }

    /** @return the sample variance std^2 (of a per-student metric: its inter-student variance) */
    public double variance() {
        return std * std;
    }

    /**
     * Whether the interval leaves a value out: for a summary of paired differences, {@code excludes(0)} says
     * the difference is resolved at this confidence. False with one value.
     *
     * @param value the value
     * @return |mean - value| &gt; halfWidth
     */
    public boolean excludes(double value) {
        return Math.abs(mean - value) > halfWidth;
    }

    /**
     * The mean and half-width with a fixed number of decimals, {@code "0.9466 ± 0.0019"}; a single value
     * prints without an interval.
     *
     * @param decimals decimals of both numbers
     * @return the text
     */
    public String format(int decimals) {
        String f = "%." + decimals + "f";
        return n == 1 ? String.format(Locale.ROOT, f, mean) : String.format(Locale.ROOT, f + " ± " + f, mean, halfWidth);
    }

    /**
     * A signed difference with its half-width, {@code "+0.0029 ± 0.0021"}.
     *
     * @param decimals decimals of both numbers
     * @return the text
     */
    public String formatSigned(int decimals) {
        String f = "%." + decimals + "f";
        return n == 1 ? String.format(Locale.ROOT, "%+." + decimals + "f", mean)
                : String.format(Locale.ROOT, "%+." + decimals + "f ± " + f, mean, halfWidth);
    }

    /**
     * What {@code ±} means in a table of these summaries.
     *
     * @param over what the values are, plural ("students", "seeds")
     * @return for example "mean ± half-width of the 95% Student-t interval of the mean over 5 students,
     *     t(4) = 2.776"
     */
    public String meaning(String over) {
        return meaning(confidence, n, over);
    }

    /**
     * What {@code ±} means for n values at a coverage, for the caption of a table before its rows exist.
     *
     * @param confidence the coverage, in (0, 1)
     * @param n the number of values, at least 2
     * @param over what the values are, plural ("students", "seeds")
     * @return for example "mean ± half-width of the 95% Student-t interval of the mean over 5 students,
     *     t(4) = 2.776"
     */
    public static String meaning(double confidence, int n, String over) {
        if (n < 2) {
            return "a single value over 1 of the " + over + " (no interval)";
        }
        return String.format(Locale.ROOT, "mean ± half-width of the %s%% Student-t interval of the mean over %d %s, "
                + "t(%d) = %.3f", percent(confidence), n, over, n - 1, Descriptive.tQuantile(confidence, n - 1));
    }

    /**
     * The coverage as a percentage without trailing zeros, for captions.
     *
     * @param confidence the coverage, in (0, 1)
     * @return 95 for 0.95, 97.5 for 0.975
     */
    public static String percent(double confidence) {
        return java.math.BigDecimal.valueOf(confidence).movePointRight(2).stripTrailingZeros().toPlainString();
    }
}

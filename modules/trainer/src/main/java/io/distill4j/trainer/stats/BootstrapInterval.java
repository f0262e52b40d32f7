package io.distill4j.trainer.stats;

import java.util.Locale;

/**
 * A statistic on all units with its percentile bootstrap interval ({@link Bootstrap#percentile}).
 *
 * @param estimate the statistic on all units
 * @param low the lower end of the interval
 * @param high the upper end of the interval
 * @param confidence the coverage, in (0, 1)
 * @param resamples the number of resamples B
 * @param units the number of units n resampled
 * @param over what the units are, plural ("test items", "students")
 */
public record BootstrapInterval(double estimate, double low, double high, double confidence, int resamples, int units,
        String over) {

    /**
     * Whether the interval leaves a value out.
     *
     * @param value the value
     * @return value &lt; low or value &gt; high
     */
    public boolean excludes(double value) {
        return value < low || value > high;
    }

    /**
     * The estimate and the interval in scientific notation, {@code "1.76e-03 [1.52e-03, 2.01e-03]"}.
     *
     * @return the text
     */
    public String format() {
        return String.format(Locale.ROOT, "%.2e [%.2e, %.2e]", estimate, low, high);
    }

    /**
     * What the bracket means in a table.
     *
     * @return for example "estimate [95% percentile-bootstrap interval, 2000 resamples of the 10 students]"
     */
    public String meaning() {
        return meaning(confidence, resamples, units, over);
    }

    /**
     * What the bracket means, for the caption of a table before its rows exist.
     *
     * @param confidence the coverage, in (0, 1)
     * @param resamples the number of resamples B
     * @param units the number of units n
     * @param over what the units are, plural
     * @return for example "estimate [95% percentile-bootstrap interval, 2000 resamples of the 10 students]"
     */
    public static String meaning(double confidence, int resamples, int units, String over) {
        return String.format(Locale.ROOT, "estimate [%s%% percentile-bootstrap interval, %d resamples of the %d %s]",
                Summary.percent(confidence), resamples, units, over);
    }
}

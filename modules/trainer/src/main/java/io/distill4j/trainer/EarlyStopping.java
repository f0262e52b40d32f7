package io.distill4j.trainer;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Early stopping on a validation metric: training stops after {@code patience} consecutive validations
 * that do not improve on the best value by more than {@code minDelta}.
 *
 * <p>In YAML ({@code training.earlyStopping}): {@code {metric: nll, patience: 3, minDelta: 0.0, restoreBest: true}};
 * the metric's direction follows from its name ({@link Evaluators#higherIsBetter}).
 *
 * @param metric the validation metric the rule watches (accuracy, nll, ece, brier, mse), or null when the
 *     caller's validator computes something else
 * @param higherIsBetter true for metrics such as accuracy, false for losses such as NLL
 * @param patience validations without improvement tolerated, positive
 * @param minDelta the smallest change that counts as an improvement, non-negative
 * @param restoreBest whether to restore the parameters of the best validation when training ends
 */
public record EarlyStopping(String metric, boolean higherIsBetter, int patience, double minDelta, boolean restoreBest) {

    /**
     * A rule on a validator whose metric has no name here.
     *
     * @param higherIsBetter true for metrics such as accuracy, false for losses such as NLL
     * @param patience validations without improvement tolerated, positive
     * @param minDelta the smallest change that counts as an improvement, non-negative
     * @param restoreBest whether to restore the parameters of the best validation when training ends
     */
    public EarlyStopping(boolean higherIsBetter, int patience, double minDelta, boolean restoreBest) {
        this(null, higherIsBetter, patience, minDelta, restoreBest);
    }

    /**
     * The rule as a configuration file gives it: the direction from the metric's name.
     *
     * @param metric accuracy, nll, ece, brier or mse (default nll)
     * @param patience validations without improvement tolerated (default 3)
     * @param minDelta the smallest improvement that counts (default 0)
     * @param restoreBest whether to restore the best parameters at the end (default true)
     * @return the rule
     * @throws IllegalArgumentException for an unknown metric or a value out of range
     */
    @JsonCreator
    public static EarlyStopping of(@JsonProperty("metric") String metric, @JsonProperty("patience") Integer patience,
            @JsonProperty("minDelta") Double minDelta, @JsonProperty("restoreBest") Boolean restoreBest) {
        String m = metric == null ? "nll" : metric;
        return new EarlyStopping(m, Evaluators.higherIsBetter(m), patience == null ? 3 : patience,
                minDelta == null ? 0 : minDelta, restoreBest == null || restoreBest);
    }

    /** Validates every field. */
    public EarlyStopping {
        if (patience <= 0) {
            throw new IllegalArgumentException("early-stopping patience must be positive, got " + patience);
        }
        if (!(minDelta >= 0) || Double.isInfinite(minDelta)) {
            throw new IllegalArgumentException("early-stopping minDelta must be non-negative and finite, got " + minDelta);
        }
    }

    /**
     * Whether a value improves on the best so far.
     *
     * @param value the new validation value
     * @param best the best so far, NaN when there is none
     * @return true if it is better by more than {@code minDelta}
     */
    public boolean improves(double value, double best) {
        if (Double.isNaN(best)) {
            return !Double.isNaN(value);
        }
        return higherIsBetter ? value > best + minDelta : value < best - minDelta;
    }
}

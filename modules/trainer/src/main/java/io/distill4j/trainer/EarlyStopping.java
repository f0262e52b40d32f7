package io.distill4j.trainer;

/**
 * Early stopping on a validation metric: training stops after {@code patience} consecutive validations
 * that do not improve on the best value by more than {@code minDelta}.
 *
 * @param higherIsBetter true for metrics such as accuracy, false for losses such as NLL
 * @param patience validations without improvement tolerated, positive
 * @param minDelta the smallest change that counts as an improvement, non-negative
 * @param restoreBest whether to restore the parameters of the best validation when training ends
 */
public record EarlyStopping(boolean higherIsBetter, int patience, double minDelta, boolean restoreBest) {

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

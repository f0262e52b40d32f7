package io.distill4j.trainer;

/**
 * One validation of a run, as {@link FitListener#onValidation} gets it.
 *
 * @param step the update after which it ran
 * @param epoch the epoch of that update
 * @param metric the validator's metric name ({@link Validator#name()})
 * @param value the value
 * @param best the best value so far, this one included; NaN without early stopping
 * @param bestStep the update of the best value, -1 without early stopping
 * @param improved whether this value improved on the best by more than the rule's {@code minDelta}
 * @param withoutImprovement validations since the best one (0 when this one improved)
 * @param patience the early-stopping patience, 0 without early stopping
 */
public record Validation(long step, int epoch, String metric, double value, double best, long bestStep,
        boolean improved, int withoutImprovement, int patience) {
}

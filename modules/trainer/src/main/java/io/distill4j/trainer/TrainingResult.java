package io.distill4j.trainer;

import java.nio.file.Path;
import java.util.List;

/**
 * What a call to {@link TrainingEngine#fit} did.
 *
 * @param steps optimiser updates done in total (including those before a resume)
 * @param epochs completed epochs
 * @param lastLoss the mean micro-batch loss of the last update
 * @param skippedSteps fp16 updates skipped because gradients overflowed (in this call)
 * @param validations every validation value of this call, in order
 * @param bestMetric the best validation value, NaN without validation
 * @param bestStep the update of the best validation, -1 without validation
 * @param stoppedEarly whether early stopping ended the run
 * @param restoredBest whether the best parameters were restored at the end
 * @param lastCheckpoint the last checkpoint written, or null
 * @param itemsPerSecond training items per second over this call
 */
public record TrainingResult(long steps, int epochs, double lastLoss, long skippedSteps, List<Double> validations,
        double bestMetric, long bestStep, boolean stoppedEarly, boolean restoredBest, Path lastCheckpoint,
        double itemsPerSecond) {

    /** Copies the list. */
    public TrainingResult {
        validations = List.copyOf(validations);
    }
}

package io.distill4j.trainer;

import java.nio.file.Path;
import java.util.List;

/**
 * What a call to {@link TrainingEngine#fit} did. Named apart from DJL's {@code ai.djl.training.TrainingResult}.
 *
 * @param steps optimiser updates done in total (including those before a resume)
 * @param epochs completed epochs
 * @param lastLoss the mean micro-batch loss of the last update
 * @param skippedSteps fp16 updates skipped because gradients overflowed (in this call)
 * @param validations every validation value of this call, in order
 * @param bestMetric the best validation value, NaN without early stopping
 * @param bestStep the update of the best validation, -1 without early stopping
 * @param stoppedEarly whether a listener (early stopping, or one of the caller's) ended the run before its last update
 * @param restoredBest whether the best parameters were restored at the end
 * @param lastCheckpoint the last checkpoint written, or null
 * @param itemsPerSecond training items (or tokens, see {@link BatchSource#unit()}) per second over this call
 */
public record FitResult(long steps, int epochs, double lastLoss, long skippedSteps, List<Double> validations,
        double bestMetric, long bestStep, boolean stoppedEarly, boolean restoredBest, Path lastCheckpoint,
        double itemsPerSecond) {

    /** Copies the list. */
    public FitResult {
        validations = List.copyOf(validations);
    }
}

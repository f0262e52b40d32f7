package io.distill4j.trainer;

/**
 * What one optimiser update did, as {@link FitListener#onStep} gets it.
 *
 * @param epoch the epoch of this update's micro-batches, from 0
 * @param step updates done, from 1; a resumed run continues the count
 * @param totalSteps the run's updates in all
 * @param epochEnd whether this update finished an epoch
 * @param items items of its micro-batches (rows, or tokens: see {@link BatchSource#unit()})
 * @param loss the mean micro-batch loss, before loss scaling
 * @param learningRate the schedule's rate of this update (AdamW applies it in float32)
 * @param gradNorm the global L2 norm of the gradients (unscaled, averaged over the micro-batches), NaN when
 *     not measured (see {@link FitListener#wantsGradNorm()}) and infinite or NaN when fp16 gradients overflowed
 * @param skipped whether fp16 gradients overflowed and the update was skipped
 * @param lossScale the fp16 loss scale after this update (1 in fp32)
 * @param seconds wall-clock time of this update: its micro-batches, backward passes and the update
 */
public record StepMetrics(int epoch, long step, long totalSteps, boolean epochEnd, int items, double loss,
        double learningRate, double gradNorm, boolean skipped, float lossScale, double seconds) {

    /** @return items (or tokens) per second of this update, 0 if it took no measurable time */
    public double itemsPerSecond() {
        return seconds > 0 ? items / seconds : 0;
    }
}

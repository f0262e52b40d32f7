package io.distill4j.trainer;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The training data of a run as random-access micro-batches.
 *
 * <p>A source must be reproducible: batch {@code index} of {@code epoch} for a given {@code seed} is always
 * the same items in the same order (typically a permutation drawn from (seed, epoch)). That lets a resumed
 * run continue at the exact micro-batch where its checkpoint was written, without replaying the epoch.
 */
public interface BatchSource {

    /** @return micro-batches per epoch, positive; the same for every epoch */
    int batchesPerEpoch();

    /**
     * The shapes of a batch's inputs, used to initialise an uninitialised block before the first batch is
     * built (a batch may need the student, through its {@link StudentProbe}).
     *
     * @return the input shapes, or null to let the engine read them from the first batch (whose targets
     *     must then not need the student)
     */
    default Shape[] inputShapes() {
        return null;
    }

    /**
     * What a {@link MicroBatch#size()} counts, for throughput in logs, progress and tracking.
     *
     * @return "items" by default; "tokens" for a language model's batches
     */
    default String unit() {
        return "items";
    }

    /**
     * Builds one micro-batch.
     *
     * @param manager the step's manager: arrays made here are freed when the step ends
     * @param seed the run's seed
     * @param epoch the epoch, from 0
     * @param index the micro-batch within the epoch, from 0 to {@link #batchesPerEpoch()} - 1
     * @param student a probe of the student being trained, for targets built from its own estimate
     * @return the batch
     */
    MicroBatch batch(NDManager manager, long seed, int epoch, int index, StudentProbe student);
}

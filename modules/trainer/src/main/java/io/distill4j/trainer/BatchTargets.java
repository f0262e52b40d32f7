package io.distill4j.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

/**
 * Supplies the labels NDList of one training batch: the teacher signal (and labels) the loss reads.
 */
@FunctionalInterface
public interface BatchTargets {

    /**
     * Builds the labels of a batch.
     *
     * @param manager the step's manager: arrays made here are freed after the step
     * @param rows the training-set rows of the batch, in batch order
     * @param inputs the batch's inputs, shape (B, ...)
     * @param student a probe of the student being trained (for targets that need its own estimate)
     * @return the labels passed to the loss
     */
    NDList labels(NDManager manager, int[] rows, NDArray inputs, StudentProbe student);
}

package io.distill4j.trainer;

import ai.djl.ndarray.NDList;

/**
 * One micro-batch of a {@link BatchSource}: the block's inputs, the loss's labels and the number of items it
 * counts for throughput (rows, or the tokens of a language model's batch; see {@link BatchSource#unit()}).
 * Named apart from DJL's {@code ai.djl.training.dataset.Batch}, which also carries its manager.
 *
 * @param inputs the block's inputs
 * @param labels the loss's labels (targets, teacher signal, weights)
 * @param size the number of items, positive
 */
public record MicroBatch(NDList inputs, NDList labels, int size) {

    /** Validates the size. */
    public MicroBatch {
        java.util.Objects.requireNonNull(inputs, "inputs");
        java.util.Objects.requireNonNull(labels, "labels");
        if (size <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + size);
        }
    }
}

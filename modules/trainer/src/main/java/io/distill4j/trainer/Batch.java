package io.distill4j.trainer;

import ai.djl.ndarray.NDList;

/**
 * One micro-batch: the block's inputs, the loss's labels and the number of items (for items/s).
 *
 * @param inputs the block's inputs
 * @param labels the loss's labels (targets, teacher signal, weights)
 * @param size the number of items, positive
 */
public record Batch(NDList inputs, NDList labels, int size) {

    /** Validates the size. */
    public Batch {
        java.util.Objects.requireNonNull(inputs, "inputs");
        java.util.Objects.requireNonNull(labels, "labels");
        if (size <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + size);
        }
    }
}

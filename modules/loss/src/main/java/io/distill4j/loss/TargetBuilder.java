package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * Builds one training target per item from the item's k teacher samples.
 *
 * <p>Implementations are stateless and thread-safe; the arrays they return belong to the manager of
 * {@code samples}.
 */
public interface TargetBuilder {

    /**
     * Builds the targets of a batch.
     *
     * @param samples teacher samples, shape (B, k, C)
     * @param student the student's own estimate of the target, or {@code null} when the builder does not
     *     need one (see {@link #needsStudentEstimate()})
     * @return the targets, shape (B, C)
     */
    NDArray build(NDArray samples, StudentEstimate student);

    /** @return whether {@link #build} needs the student's estimate; false by default */
    default boolean needsStudentEstimate() {
        return false;
    }

    /** @return the registry name of this builder */
    String name();
}

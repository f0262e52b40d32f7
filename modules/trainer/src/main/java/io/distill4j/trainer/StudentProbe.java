package io.distill4j.trainer;

import ai.djl.ndarray.NDArray;

/** Read-only access to the student being trained, for targets built from the student's own estimate. */
@FunctionalInterface
public interface StudentProbe {

    /**
     * Runs the student with dropout active and without recording gradients, several times.
     *
     * @param inputs the batch inputs, shape (B, ...)
     * @param passes the number of stochastic passes S, positive
     * @return softmax probabilities of each pass, shape (S, B, C)
     */
    NDArray mcDropoutProbabilities(NDArray inputs, int passes);
}

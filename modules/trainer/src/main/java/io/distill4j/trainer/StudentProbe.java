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

    /**
     * Runs the student once as it trains (dropout active) without recording gradients: its raw outputs (logits or
     * regression values), for estimates kept over the student's own predictions across steps (an EMA).
     *
     * @param inputs the batch inputs, shape (B, ...)
     * @return the outputs, shape (B, C)
     * @throws UnsupportedOperationException from a probe that gives MC-dropout probabilities only (this default;
     *     the training engine's and the stacked students' probes give both)
     */
    default NDArray outputs(NDArray inputs) {
        throw new UnsupportedOperationException("this student probe gives MC-dropout probabilities only");
    }
}

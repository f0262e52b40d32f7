package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * Builds one training target per item from the item's k teacher samples.
 *
 * <p>Builders compose: {@link WrongMassClipTarget} reshapes the output of any other builder. Implementations
 * are stateless and thread-safe; the arrays they return belong to the manager of {@code samples}. Shapes,
 * k and hyperparameters are always checked; value checks (probabilities on the simplex, non-negative
 * variances) run only in builders that have a {@code validate} flag and have it on (the default).
 *
 * <p>Callers that hold the class labels should call {@link #build(NDArray, StudentEstimate, NDArray)}, which
 * every builder accepts; builders that need them ({@link #needsLabels()}) reject the two-argument form.
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

    /**
     * Builds the targets of a batch, given the true class labels as well.
     *
     * @param samples teacher samples, shape (B, k, C)
     * @param student the student's own estimate, or null when not needed
     * @param labels the class labels, shape (B), or null when not needed (see {@link #needsLabels()})
     * @return the targets, shape (B, C)
     */
    default NDArray build(NDArray samples, StudentEstimate student, NDArray labels) {
        return build(samples, student);
    }

    /**
     * The signal of this builder's targets when it reads samples of a given signal: the same signal by default
     * (a mean of probabilities is probabilities, of logits logits); a builder that turns logits into probabilities
     * says so, and one that cannot read a signal returns null. Whoever turns targets into a loss's labels reads it
     * (a softmax applies to logit targets only).
     *
     * @param samples the samples' signal: {@code probabilities}, {@code logits} or {@code values}
     * @return the targets' signal, or null when this builder cannot read samples of that signal
     */
    default String outputSignal(String samples) {
        return samples;
    }

    /** @return whether {@link #build} needs the student's estimate; false by default */
    default boolean needsStudentEstimate() {
        return false;
    }

    /** @return whether {@link #build(NDArray, StudentEstimate, NDArray)} needs the labels; false by default */
    default boolean needsLabels() {
        return false;
    }

    /** @return the registry name of this builder */
    String name();
}

package io.distill4j.trainer;

import ai.djl.Model;

/** Scores a model on held-out data during training, for logging and early stopping. */
@FunctionalInterface
public interface Validator {

    /**
     * Evaluates the model in inference mode (dropout off, no gradients).
     *
     * @param model the model being trained
     * @return the metric; early stopping reads it as better when higher or lower as its rule says
     */
    double evaluate(Model model);
}

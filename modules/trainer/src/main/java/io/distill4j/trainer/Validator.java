package io.distill4j.trainer;

import ai.djl.Model;
import java.util.Objects;

/** Scores a model on held-out data during training, for logging, tracking and early stopping. */
@FunctionalInterface
public interface Validator {

    /**
     * Evaluates the model in inference mode (dropout off, no gradients).
     *
     * @param model the model being trained
     * @return the metric; early stopping reads it as better when higher or lower as its rule says
     */
    double evaluate(Model model);

    /**
     * The metric's name in logs, in the JSONL metrics ({@code "metric"}) and as the TensorBoard tag
     * {@code validation/NAME}.
     *
     * @return "score" unless {@link #named} gave another
     */
    default String name() {
        return "score";
    }

    /**
     * Gives a validator a metric name.
     *
     * @param name the name, such as "nll" or "accuracy"; letters, digits, '_', '-' and '.'
     * @param validator the validator
     * @return a validator that evaluates as {@code validator} and is called {@code name}
     */
    static Validator named(String name, Validator validator) {
        Objects.requireNonNull(validator, "validator");
        if (name == null || !name.matches("[A-Za-z0-9_.\\-]+")) {
            throw new IllegalArgumentException("a validation metric name must be letters, digits, '_', '-' or '.',"
                    + " got '" + name + "'");
        }
        return new Validator() {
            @Override
            public double evaluate(Model model) {
                return validator.evaluate(model);
            }

            @Override
            public String name() {
                return name;
            }
        };
    }
}

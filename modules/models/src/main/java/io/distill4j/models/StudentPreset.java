package io.distill4j.models;

import ai.djl.nn.Block;

/**
 * An architecture a student (or a teacher) is built from, as a preset file names it ({@code models/*.yaml}): a
 * record whose components are the preset's keys, bound strictly from YAML, with {@code model_type} choosing the
 * record (see the pipeline's student registry). Inputs and outputs a preset leaves at 0 are taken from the data.
 */
public interface StudentPreset {

    /** @return the input width it takes, 0 when it takes the data's */
    int inputs();

    /** @return the output width it gives, 0 when it gives what the loss asks for */
    int outputs();

    /** @return the {@code model_type} this preset is registered under, e.g. {@code mlp} */
    String modelType();

    /**
     * Builds a fresh, uninitialised block.
     *
     * @param inputs the data's feature count (used where the preset leaves it open)
     * @param outputs the width the loss wants of the predictions (used where the preset leaves it open)
     * @return the block
     * @throws IllegalArgumentException naming the key whose value does not fit the data
     */
    Block build(int inputs, int outputs);

    /**
     * This preset with inputs and outputs fixed to the data's, as saved beside a trained student so that it can be
     * rebuilt without the data.
     *
     * @param inputs the feature count
     * @param outputs the prediction width
     * @return the complete preset
     */
    StudentPreset complete(int inputs, int outputs);

    /** @return a short description for logs and model cards, e.g. {@code mlp 64-64-10 dropout 0.2} */
    String describe();

    /**
     * Checks a preset's own input and output counts (0: take the data's and the loss's) against the data and the loss.
     *
     * @param inputs the preset's inputs, 0 when unset
     * @param outputs the preset's outputs, 0 when unset
     * @param dataInputs the data's features
     * @param lossOutputs the outputs the loss needs
     * @throws IllegalArgumentException naming the count that does not fit
     */
    static void checkShape(int inputs, int outputs, int dataInputs, int lossOutputs) {
        if (inputs != 0 && inputs != dataInputs) {
            throw new IllegalArgumentException("the preset takes " + inputs + " inputs, but the data has " + dataInputs
                    + " features (leave inputs out to take the data's)");
        }
        if (outputs != 0 && outputs != lossOutputs) {
            throw new IllegalArgumentException("the preset has " + outputs + " outputs, but the loss needs " + lossOutputs
                    + " (leave outputs out to take the loss's)");
        }
    }
}

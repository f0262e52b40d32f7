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
}

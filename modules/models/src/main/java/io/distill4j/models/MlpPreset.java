package io.distill4j.models;

import ai.djl.nn.Block;
import java.util.List;

/**
 * An MLP preset from {@code models/mlp-*.yaml}:
 * <pre>
 * model_type: mlp
 * inputs: 784          # 0 or absent: the data's feature count
 * hidden: [512, 256]
 * outputs: 10          # 0 or absent: the width the loss asks for (classes, or regression outputs)
 * dropout: 0.0
 * </pre>
 *
 * @param inputs input width, 0 to take the data's
 * @param hidden hidden widths, each positive
 * @param outputs output width, 0 to take the loss's
 * @param dropout dropout after each hidden layer, in [0, 1) (also used at inference for MC dropout)
 */
public record MlpPreset(int inputs, List<Integer> hidden, int outputs, float dropout) implements StudentPreset {

    /** Validates every field. */
    public MlpPreset {
        hidden = hidden == null ? List.of() : List.copyOf(hidden);
        if (inputs < 0) {
            throw new IllegalArgumentException("inputs must be positive (or 0: from the data), got " + inputs);
        }
        if (outputs < 0) {
            throw new IllegalArgumentException("outputs must be positive (or 0: from the loss), got " + outputs);
        }
        for (Integer h : hidden) {
            if (h == null || h <= 0) {
                throw new IllegalArgumentException("hidden widths must be positive, got " + hidden);
            }
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        }
    }

    /**
     * The preset of an MLP builder's current settings.
     *
     * @param b the builder
     * @return its preset (inputs and outputs 0 where the builder leaves them open)
     */
    public static MlpPreset of(Mlp.Builder b) {
        return new MlpPreset(b.inputs(), java.util.Arrays.stream(b.hidden()).boxed().toList(), b.outputs(), b.dropout());
    }

    @Override
    public String modelType() {
        return "mlp";
    }

    /** @return a builder with these settings */
    public Mlp.Builder builder() {
        return Mlp.builder().setInputs(inputs).setHidden(hidden.stream().mapToInt(Integer::intValue).toArray())
                .setOutputs(outputs).optDropout(dropout);
    }

    @Override
    public Block build(int dataInputs, int lossOutputs) {
        return complete(dataInputs, lossOutputs).builder().build();
    }

    @Override
    public MlpPreset complete(int dataInputs, int lossOutputs) {
        StudentPreset.checkShape(inputs, outputs, dataInputs, lossOutputs);
        return new MlpPreset(dataInputs, hidden, lossOutputs, dropout);
    }

    @Override
    public String describe() {
        return builder().describe();
    }
}

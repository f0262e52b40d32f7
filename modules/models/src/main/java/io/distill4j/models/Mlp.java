package io.distill4j.models;

import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import java.util.Arrays;

/**
 * A multi-layer perceptron student or teacher: Linear, ReLU and Dropout per hidden layer, then a Linear
 * output layer producing logits.
 *
 * <p>Dropout is active whenever the block is run with {@code training = true}, so the same block gives
 * MC-dropout samples at inference by forwarding in training mode outside a gradient collector.
 */
public final class Mlp {

    private Mlp() {
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** Builder of an MLP; {@link #build()} validates. */
    public static final class Builder {
        private int inputs;
        private int[] hidden = new int[0];
        private int outputs;
        private float dropout;

        private Builder() {
        }

        /**
         * Sets the input width (used for validation and {@link #describe()}).
         *
         * @param inputs the number of input features, positive
         * @return this builder
         */
        public Builder setInputs(int inputs) {
            this.inputs = inputs;
            return this;
        }

        /**
         * Sets the hidden widths.
         *
         * @param widths the width of each hidden layer, each positive
         * @return this builder
         */
        public Builder setHidden(int... widths) {
            this.hidden = widths.clone();
            return this;
        }

        /**
         * Sets the output width (classes, or regression outputs).
         *
         * @param outputs the number of outputs, positive
         * @return this builder
         */
        public Builder setOutputs(int outputs) {
            this.outputs = outputs;
            return this;
        }

        /**
         * Sets the dropout probability after each hidden layer (default 0).
         *
         * @param p the probability, in [0, 1)
         * @return this builder
         */
        public Builder optDropout(float p) {
            this.dropout = p;
            return this;
        }

        /** @return the input width, 0 if not set */
        public int inputs() {
            return inputs;
        }

        /** @return a copy of the hidden widths */
        public int[] hidden() {
            return hidden.clone();
        }

        /** @return the output width, 0 if not set */
        public int outputs() {
            return outputs;
        }

        /** @return the dropout rate */
        public float dropout() {
            return dropout;
        }

        /** @return a one-line description such as {@code mlp 64-128-10 dropout 0.2} */
        public String describe() {
            StringBuilder sb = new StringBuilder("mlp ").append(inputs);
            for (int h : hidden) {
                sb.append('-').append(h);
            }
            return sb.append('-').append(outputs).append(" dropout ").append(dropout).toString();
        }

        /**
         * Builds the block.
         *
         * @return an uninitialised {@link SequentialBlock}
         * @throws IllegalArgumentException if a width or the dropout is out of range
         */
        public SequentialBlock build() {
            if (inputs <= 0) {
                throw new IllegalArgumentException("inputs must be positive, got " + inputs);
            }
            if (outputs <= 0) {
                throw new IllegalArgumentException("outputs must be positive, got " + outputs);
            }
            if (Arrays.stream(hidden).anyMatch(h -> h <= 0)) {
                throw new IllegalArgumentException("hidden widths must be positive, got " + Arrays.toString(hidden));
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
            }
            SequentialBlock net = new SequentialBlock();
            for (int h : hidden) {
                net.add(Linear.builder().setUnits(h).build());
                net.add(Activation.reluBlock());
                if (dropout > 0) {
                    net.add(Dropout.builder().optRate(dropout).build());
                }
            }
            net.add(Linear.builder().setUnits(outputs).build());
            return net;
        }
    }
}

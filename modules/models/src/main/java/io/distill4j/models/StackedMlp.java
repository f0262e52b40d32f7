package io.distill4j.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.util.PairList;

/**
 * R independent MLP students held as one block, so that R seeds train in a single forward and backward
 * pass (batched matrix products) instead of R small ones.
 *
 * <p>Layer l holds weights of shape (R, in_l, out_l) and biases (R, 1, out_l), initialised like PyTorch's
 * {@code nn.Linear}: U(-1/sqrt(in_l), 1/sqrt(in_l)), independently per student. Input (R, B, in): student r
 * sees rows {@code [r, :, :]}; output (R, B, out). Hidden layers use ReLU, then dropout with the given
 * rate when run in training mode. Because a sum of per-student losses has per-student gradients and Adam(W)
 * updates element-wise, training the stack equals training R students separately.
 */
public final class StackedMlp extends AbstractBlock {

    private final int students;
    private final int[] widths;
    private final float dropout;
    private final Parameter[] weights;
    private final Parameter[] biases;

    /**
     * Starts a stack.
     *
     * @return a builder: set the students, inputs, hidden widths and outputs; dropout defaults to 0
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link StackedMlp}: {@code set*} values are required, {@code opt*} ones have defaults. */
    public static final class Builder {
        private int students;
        private int inputs;
        private int[] hidden = new int[0];
        private int outputs;
        private float dropout;

        private Builder() {
        }

        /**
         * Sets the number of students R.
         *
         * @param count R, positive
         * @return this builder
         */
        public Builder setStudents(int count) {
            this.students = count;
            return this;
        }

        /**
         * Sets the input width.
         *
         * @param width positive
         * @return this builder
         */
        public Builder setInputs(int width) {
            this.inputs = width;
            return this;
        }

        /**
         * Sets the hidden widths (none for a linear model).
         *
         * @param widths each positive
         * @return this builder
         */
        public Builder setHidden(int... widths) {
            this.hidden = widths.clone();
            return this;
        }

        /**
         * Sets the output width.
         *
         * @param width positive
         * @return this builder
         */
        public Builder setOutputs(int width) {
            this.outputs = width;
            return this;
        }

        /**
         * Sets the dropout rate after each hidden layer (default 0).
         *
         * @param rate in [0, 1)
         * @return this builder
         */
        public Builder optDropout(float rate) {
            this.dropout = rate;
            return this;
        }

        /**
         * Builds the stack.
         *
         * @return the block
         * @throws IllegalArgumentException if a width or count is not positive or the dropout is outside [0, 1)
         */
        public StackedMlp build() {
            return new StackedMlp(students, inputs, hidden, outputs, dropout);
        }
    }

    private StackedMlp(int students, int inputs, int[] hidden, int outputs, float dropout) {
        if (students <= 0 || inputs <= 0 || outputs <= 0 || java.util.Arrays.stream(hidden).anyMatch(h -> h <= 0)) {
            throw new IllegalArgumentException("students, inputs, outputs and hidden widths must be positive, got "
                    + students + ", " + inputs + ", " + outputs + ", " + java.util.Arrays.toString(hidden));
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        }
        this.students = students;
        this.dropout = dropout;
        widths = new int[hidden.length + 2];
        widths[0] = inputs;
        System.arraycopy(hidden, 0, widths, 1, hidden.length);
        widths[widths.length - 1] = outputs;
        int layers = widths.length - 1;
        weights = new Parameter[layers];
        biases = new Parameter[layers];
        for (int l = 0; l < layers; l++) {
            float bound = (float) (1 / Math.sqrt(widths[l]));
            weights[l] = addParameter(Parameter.builder().setName("w" + l).setType(Parameter.Type.WEIGHT)
                    .optShape(new Shape(students, widths[l], widths[l + 1])).optInitializer(new UniformInitializer(bound)).build());
            biases[l] = addParameter(Parameter.builder().setName("b" + l).setType(Parameter.Type.BIAS)
                    .optShape(new Shape(students, 1, widths[l + 1])).optInitializer(new UniformInitializer(bound)).build());
        }
    }

    /** @return the number of students R */
    public int students() {
        return students;
    }

    /** @return the layer widths: inputs, each hidden width, outputs */
    public int[] widths() {
        return widths.clone();
    }

    /** @return the dropout rate after each hidden layer */
    public float dropout() {
        return dropout;
    }

    /**
     * A layer's weights, all students.
     *
     * @param layer the layer, from 0
     * @return shape (R, in, out); the parameter's own array (initialised stacks only)
     */
    public NDArray weight(int layer) {
        return weights[layer].getArray();
    }

    /**
     * A layer's biases, all students.
     *
     * @param layer the layer, from 0
     * @return shape (R, 1, out); the parameter's own array (initialised stacks only)
     */
    public NDArray bias(int layer) {
        return biases[layer].getArray();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        if (x.getShape().dimension() != 3 || x.getShape().get(0) != students || x.getShape().get(2) != widths[0]) {
            throw new IllegalArgumentException("input must have shape (" + students + ", B, " + widths[0] + "), got " + x.getShape());
        }
        for (int l = 0; l < weights.length; l++) {
            NDArray w = ps.getValue(weights[l], x.getDevice(), training);
            NDArray b = ps.getValue(biases[l], x.getDevice(), training);
            x = x.batchMatMul(w).add(b);
            if (l < weights.length - 1) {
                x = x.getNDArrayInternal().relu(); // not maximum(0f): DJL's Number ops leave autograd a scalar that GC frees
                if (dropout > 0 && training) {
                    x = Dropout.dropout(x, dropout, true).head();
                }
            }
        }
        return new NDList(x);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(students, in.get(1), widths[widths.length - 1])};
    }
}

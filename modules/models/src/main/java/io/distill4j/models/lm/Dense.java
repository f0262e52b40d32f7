package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;

/**
 * A linear map y = x W^T + b over the last axis, with W stored (out, in) as in {@code torch.nn.Linear}.
 *
 * <p>Calls libtorch's {@code linear} on a 2-D view of the input, so that the bias add is fused into one
 * addmm; W is drawn from N(0, std^2), b starts at zero. With a {@link LoraLayer} attached, its low-rank
 * update is added to the output.
 */
final class Dense extends AbstractBlock {
    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;
    private LoraLayer lora;

    /**
     * Creates the map.
     *
     * @param in input width
     * @param out output width
     * @param bias whether there is a bias
     * @param std standard deviation of the weight initialiser
     */
    Dense(int in, int out, boolean bias, double std) {
        this.in = in;
        this.out = out;
        this.weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(out, in)).optInitializer(new NormalInitializer((float) std)).build());
        this.bias = bias
                ? addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS)
                        .optShape(new Shape(out)).optInitializer(Initializer.ZEROS).build())
                : null;
    }

    /** @return the input width */
    int in() {
        return in;
    }

    /** @return the output width */
    int out() {
        return out;
    }

    /** @return the weight, shape (out, in) */
    Parameter weight() {
        return weight;
    }

    /** @return the bias, shape (out), or null */
    Parameter bias() {
        return bias;
    }

    /** @return the low-rank adapter on this map, or null */
    LoraLayer lora() {
        return lora;
    }

    /**
     * Puts a low-rank adapter on this map (as a child block, so that its parameters join the model's).
     *
     * @param adapter an initialised adapter of this map's widths
     * @throws IllegalStateException if the map already has one
     */
    void attach(LoraLayer adapter) {
        if (lora != null) {
            throw new IllegalStateException(this + " already has a LoRA adapter");
        }
        lora = addChildBlock("lora", adapter);
    }

    /**
     * Applies the map.
     *
     * @param ps the parameter store
     * @param x input (..., in)
     * @param training whether this is a training pass
     * @return output (..., out), attached to {@code x}'s manager
     */
    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        NDArray w = ps.getValue(weight, x.getDevice(), training);
        NDArray b = bias == null ? null : ps.getValue(bias, x.getDevice(), training);
        Shape s = x.getShape();
        // flatten to 2-D: libtorch 2.7's linear then fuses the bias into one addmm instead of mm + add
        NDArray flat = s.dimension() <= 2 ? x : x.reshape(-1, in);
        NDArray y = flat.getNDArrayInternal().linear(flat, w, b).head();
        if (lora != null) {
            y = lora.addTo(ps, flat, y, training);
        }
        return s.dimension() <= 2 ? y : y.reshape(s.slice(0, s.dimension() - 1).add(out));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
        return new NDList(apply(ps, inputs.head(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {s.slice(0, s.dimension() - 1).add(out)};
    }

    @Override
    protected void initializeChildBlocks(ai.djl.ndarray.NDManager manager, DataType dataType, Shape... shapes) {
        // an adapter is initialised before it is attached
    }

    @Override
    public String toString() {
        return "Dense(" + in + " -> " + out + (bias == null ? ", no bias)" : ")");
    }
}

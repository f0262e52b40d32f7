package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.util.PairList;
import io.distill4j.loss.Scalars;

/**
 * The low-rank update of one linear map (LoRA, Hu et al. 2021), as Hugging Face peft's {@code lora.Linear}
 * computes it: delta(x) = B(A(dropout(x))) * s, with A of shape (r, in), B of shape (out, r) and s = alpha / r
 * (alpha / sqrt(r) with rsLoRA).
 *
 * <p>A starts as peft's default ({@code kaiming_uniform_(a = sqrt(5))}, i.e. uniform on +-1/sqrt(in)) and B at
 * zero, so a fresh adapter leaves the model unchanged. Parameter names are peft's {@code lora_A} and
 * {@code lora_B}.
 */
final class LoraLayer extends AbstractBlock {
    private final int in;
    private final int out;
    private final int rank;
    private final double scaling;
    private final float dropout;
    private final Parameter a;
    private final Parameter b;

    /**
     * Creates an uninitialised adapter.
     *
     * @param in the map's input width
     * @param out the map's output width
     * @param rank r
     * @param scaling s
     * @param dropout dropout rate on the adapter's input, in [0, 1)
     */
    LoraLayer(int in, int out, int rank, double scaling, double dropout) {
        this.in = in;
        this.out = out;
        this.rank = rank;
        this.scaling = scaling;
        this.dropout = (float) dropout;
        a = addParameter(Parameter.builder().setName("lora_A").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(rank, in)).optInitializer(new UniformInitializer((float) (1 / Math.sqrt(in))))
                .build());
        b = addParameter(Parameter.builder().setName("lora_B").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(out, rank)).optInitializer(Initializer.ZEROS).build());
    }

    /** @return A, shape (r, in) */
    Parameter a() {
        return a;
    }

    /** @return B, shape (out, r) */
    Parameter b() {
        return b;
    }

    /** @return s */
    double scaling() {
        return scaling;
    }

    /** @return r */
    int rank() {
        return rank;
    }

    /**
     * The update.
     *
     * @param ps the parameter store
     * @param x input (..., in)
     * @param training whether this is a training pass (dropout)
     * @return (..., out)
     */
    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        NDArray wa = ps.getValue(a, x.getDevice(), training);
        NDArray wb = ps.getValue(b, x.getDevice(), training);
        return update(x, wa, wb, training);
    }

    /**
     * A base map's output plus the update, y + s B(A(dropout(x))), as one product with y as its bias (libtorch's
     * addmm): the only (N, out) tensor made is the result, where adding a separate update would keep two more
     * (the update and the sum) alive in the step's manager until the backward pass is done.
     *
     * @param ps the parameter store
     * @param x input (N, in)
     * @param y the base map's output (N, out)
     * @param training whether this is a training pass (dropout)
     * @return (N, out)
     */
    NDArray addTo(ParameterStore ps, NDArray x, NDArray y, boolean training) {
        NDArray wa = ps.getValue(a, x.getDevice(), training);
        NDArray wb = ps.getValue(b, x.getDevice(), training);
        NDArray h = training && dropout > 0 ? x.getNDArrayInternal().dropout(x, dropout, true).head() : x;
        NDArray low = Scalars.mul(h.getNDArrayInternal().linear(h, wa, null).head(), scaling);
        return low.getNDArrayInternal().linear(low, wb, y).head();
    }

    /**
     * The update from the current arrays, without a parameter store (inference: no dropout).
     *
     * @param x input (..., in)
     * @return (..., out)
     */
    NDArray apply(NDArray x) {
        return update(x, a.getArray(), b.getArray(), false);
    }

    private NDArray update(NDArray x, NDArray wa, NDArray wb, boolean training) {
        NDArray h = x;
        if (training && dropout > 0) {
            h = h.getNDArrayInternal().dropout(h, dropout, true).head();
        }
        Shape s = h.getShape();
        NDArray flat = s.dimension() <= 2 ? h : h.reshape(-1, in);
        NDArray low = flat.getNDArrayInternal().linear(flat, wa, null).head();
        // the scale goes on the (N, r) product, not on the (N, out) output: no extra output-sized tensor per
        // adapter in the forward pass (peft scales the output; the two differ by float rounding only)
        low = Scalars.mul(low, scaling);
        NDArray y = low.getNDArrayInternal().linear(low, wb, null).head();
        return s.dimension() <= 2 ? y : y.reshape(s.slice(0, s.dimension() - 1).add(out));
    }

    /**
     * The dense update s * B A of the current arrays, (out, in) row-major: what merging adds to the weight.
     *
     * @return out * in values
     */
    float[] delta() {
        try (NDManager tmp = a.getArray().getManager().newSubManager()) {
            NDArray ba = b.getArray().matMul(a.getArray());
            ba.attach(tmp);
            return ba.toType(DataType.FLOAT32, false).mul((float) scaling).toFloatArray();
        }
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
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
        // no children
    }

    @Override
    public String toString() {
        return "LoraLayer(" + in + " -> r=" + rank + " -> " + out + ", scaling=" + scaling + ")";
    }
}

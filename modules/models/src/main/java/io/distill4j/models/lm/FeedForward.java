package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The position-wise MLP of a decoder layer.
 *
 * <ul>
 *   <li>GPT-2: c_proj(act(c_fc(x))), with biases.</li>
 *   <li>Llama, SwiGLU (Shazeer 2020): down_proj(silu(gate_proj(x)) * up_proj(x)).</li>
 * </ul>
 */
final class FeedForward extends AbstractBlock {
    private final LmActivation activation;
    private final Dense fc;
    private final Dense gate;
    private final Dense up;
    private final Dense down;

    /**
     * Creates the MLP.
     *
     * @param c the model config
     * @param gated true for SwiGLU (Llama)
     * @param outStd initialiser standard deviation of the output projection
     */
    FeedForward(CausalLmConfig c, boolean gated, double outStd) {
        this.activation = c.activation();
        int d = c.hiddenSize();
        int inner = c.intermediateSize();
        double std = c.initializerRange();
        if (gated) {
            fc = null;
            gate = addChildBlock("gate_proj", new Dense(d, inner, c.mlpBias(), std));
            up = addChildBlock("up_proj", new Dense(d, inner, c.mlpBias(), std));
            down = addChildBlock("down_proj", new Dense(inner, d, c.mlpBias(), outStd));
        } else {
            gate = null;
            up = null;
            fc = addChildBlock("c_fc", new Dense(d, inner, c.mlpBias(), std));
            down = addChildBlock("c_proj", new Dense(inner, d, c.mlpBias(), outStd));
        }
    }

    /** @return GPT-2's input projection, or null */
    Dense fc() {
        return fc;
    }

    /** @return Llama's gate projection, or null */
    Dense gate() {
        return gate;
    }

    /** @return Llama's up projection, or null */
    Dense up() {
        return up;
    }

    /** @return the output projection */
    Dense down() {
        return down;
    }

    /**
     * Applies the MLP.
     *
     * @param ps the parameter store
     * @param x the normalised input (B, T, d)
     * @param training whether this is a training pass
     * @return (B, T, d), before residual dropout
     */
    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        if (fc != null) {
            return down.apply(ps, activation.apply(fc.apply(ps, x, training)), training);
        }
        NDArray h = activation.apply(gate.apply(ps, x, training)).mul(up.apply(ps, x, training));
        return down.apply(ps, h, training);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
        return new NDList(apply(ps, inputs.head(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(ai.djl.ndarray.NDManager manager, DataType dataType, Shape... shapes) {
        for (ai.djl.nn.Block child : getChildren().values()) {
            child.initialize(manager, dataType, shapes);
        }
    }
}

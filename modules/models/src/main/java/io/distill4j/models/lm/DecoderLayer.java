package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * One pre-norm transformer layer: h = x + drop(attn(norm1(x))); y = h + drop(mlp(norm2(h))).
 *
 * <p>The same layer serves GPT-2 (LayerNorm, GELU MLP, residual dropout), Llama (RMSNorm, SwiGLU, rotary
 * attention) and the bidirectional encoder of {@link EncoderClassifier}; whether attention is causal is
 * decided by the mask the caller passes, never here.
 */
final class DecoderLayer extends AbstractBlock {
    private final Norm norm1;
    private final SelfAttention attention;
    private final Norm norm2;
    private final FeedForward mlp;
    private final float residDropout;

    /**
     * Creates the layer.
     *
     * @param c the model config
     * @param llama true for the Llama layout
     * @param outStd initialiser standard deviation of the two output projections
     */
    DecoderLayer(CausalLmConfig c, boolean llama, double outStd) {
        String n1 = llama ? "input_layernorm" : "ln_1";
        String n2 = llama ? "post_attention_layernorm" : "ln_2";
        norm1 = addChildBlock(n1, new Norm(llama, c.hiddenSize(), c.normEps()));
        attention = addChildBlock(llama ? "self_attn" : "attn", new SelfAttention(c, !llama, outStd));
        norm2 = addChildBlock(n2, new Norm(llama, c.hiddenSize(), c.normEps()));
        mlp = addChildBlock("mlp", new FeedForward(c, llama, outStd));
        residDropout = (float) c.residDropout();
    }

    /** @return the norm before attention */
    Norm norm1() {
        return norm1;
    }

    /** @return the attention */
    SelfAttention attention() {
        return attention;
    }

    /** @return the norm before the MLP */
    Norm norm2() {
        return norm2;
    }

    /** @return the MLP */
    FeedForward mlp() {
        return mlp;
    }

    /**
     * Applies the layer.
     *
     * @param ps the parameter store
     * @param x (B, T, d)
     * @param ctx the pass's mask and rotary tables
     * @param training whether this is a training pass
     * @return (B, T, d)
     */
    NDArray apply(ParameterStore ps, NDArray x, AttentionContext ctx, boolean training) {
        NDArray a = dropout(attention.apply(ps, norm1.apply(ps, x, training), ctx, training), training);
        NDArray h = x.add(a);
        NDArray m = dropout(mlp.apply(ps, norm2.apply(ps, h, training), training), training);
        return h.add(m);
    }

    private NDArray dropout(NDArray x, boolean training) {
        if (!training || residDropout == 0) {
            return x;
        }
        return x.getNDArrayInternal().dropout(x, residDropout, true).head();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
        throw new UnsupportedOperationException("DecoderLayer is applied by its model with a mask");
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

package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.distill4j.loss.Scalars;

/**
 * Multi-head scaled dot-product self-attention (Vaswani et al. 2017), in the two layouts of the families.
 *
 * <p>softmax(Q K^T / sqrt(head_dim) + M) V per head, where M is the additive mask of the pass (causal,
 * padding, packing). GPT-2 projects q, k, v with one fused matrix ({@code c_attn}) and has biases; Llama
 * projects them separately, applies rotary position embeddings to q and k (Su et al. 2021, with Hugging
 * Face's {@code rotate_half} convention: the head is split into two halves, not interleaved pairs), and
 * shares each key/value head between {@code num_heads / num_kv_heads} query heads (grouped-query attention,
 * Ainslie et al. 2023), repeating each kv head consecutively as {@code repeat_kv} does.
 */
final class SelfAttention extends AbstractBlock {
    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;
    private final float attnDropout;
    private final Dense qkv;
    private final Dense q;
    private final Dense k;
    private final Dense v;
    private final Dense out;

    /**
     * Creates the layer.
     *
     * @param c the model config
     * @param fused true for GPT-2's single q/k/v projection
     * @param outStd initialiser standard deviation of the output projection
     */
    SelfAttention(CausalLmConfig c, boolean fused, double outStd) {
        this.numHeads = c.numHeads();
        this.numKvHeads = c.numKvHeads();
        this.headDim = c.headDim();
        this.attnDropout = (float) c.attnDropout();
        int d = c.hiddenSize();
        double std = c.initializerRange();
        if (fused) {
            qkv = addChildBlock("c_attn", new Dense(d, 3 * numHeads * headDim, c.attentionBias(), std));
            q = null;
            k = null;
            v = null;
            out = addChildBlock("c_proj", new Dense(numHeads * headDim, d, c.attentionBias(), outStd));
        } else {
            qkv = null;
            q = addChildBlock("q_proj", new Dense(d, numHeads * headDim, c.attentionBias(), std));
            k = addChildBlock("k_proj", new Dense(d, numKvHeads * headDim, c.attentionBias(), std));
            v = addChildBlock("v_proj", new Dense(d, numKvHeads * headDim, c.attentionBias(), std));
            out = addChildBlock("o_proj", new Dense(numHeads * headDim, d, c.attentionBias(), outStd));
        }
    }

    /** @return GPT-2's fused projection, or null */
    Dense fused() {
        return qkv;
    }

    /** @return the query projection (Llama), or null */
    Dense query() {
        return q;
    }

    /** @return the key projection (Llama), or null */
    Dense key() {
        return k;
    }

    /** @return the value projection (Llama), or null */
    Dense value() {
        return v;
    }

    /** @return the output projection */
    Dense output() {
        return out;
    }

    /**
     * Attends.
     *
     * @param ps the parameter store
     * @param x the normalised input (B, T, d)
     * @param ctx the pass's mask and rotary tables
     * @param training whether this is a training pass (attention dropout)
     * @return the projected output (B, T, d), before residual dropout
     */
    NDArray apply(ParameterStore ps, NDArray x, AttentionContext ctx, boolean training) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray qh;
        NDArray kh;
        NDArray vh;
        if (qkv != null) {
            NDList parts = qkv.apply(ps, x, training).split(3, 2);
            qh = heads(parts.get(0), b, t, numHeads);
            kh = heads(parts.get(1), b, t, numHeads);
            vh = heads(parts.get(2), b, t, numHeads);
        } else {
            qh = heads(q.apply(ps, x, training), b, t, numHeads);
            kh = heads(k.apply(ps, x, training), b, t, numKvHeads);
            vh = heads(v.apply(ps, x, training), b, t, numKvHeads);
        }
        if (ctx.cos() != null) {
            qh = rotate(qh, ctx);
            kh = rotate(kh, ctx);
        }
        if (numKvHeads != numHeads) {
            kh = repeatKv(kh, b, t);
            vh = repeatKv(vh, b, t);
        }
        NDArray scores = Scalars.mul(qh, 1.0 / Math.sqrt(headDim)).matMul(kh.transpose(0, 1, 3, 2));
        if (ctx.mask() != null) {
            scores = scores.add(ctx.mask());
        }
        NDArray probs = scores.softmax(3);
        if (training && attnDropout > 0) {
            probs = probs.getNDArrayInternal().dropout(probs, attnDropout, true).head();
        }
        NDArray y = probs.matMul(vh).transpose(0, 2, 1, 3).reshape(b, t, (long) numHeads * headDim);
        return out.apply(ps, y, training);
    }

    private NDArray heads(NDArray a, long b, long t, int h) {
        return a.reshape(b, t, h, headDim).transpose(0, 2, 1, 3);
    }

    /** x * cos + rotate_half(x) * sin, rotate_half(x) = concat(-x2, x1) over the head axis. */
    private static NDArray rotate(NDArray x, AttentionContext ctx) {
        NDList halves = x.split(2, 3);
        NDArray rotated = NDArrays.concat(new NDList(halves.get(1).neg(), halves.get(0)), 3);
        return x.mul(ctx.cos()).add(rotated.mul(ctx.sin()));
    }

    /** (B, kv, T, hd) to (B, kv * g, T, hd), each kv head repeated g times consecutively. */
    private NDArray repeatKv(NDArray a, long b, long t) {
        int g = numHeads / numKvHeads;
        return a.expandDims(2).broadcast(new Shape(b, numKvHeads, g, t, headDim)).reshape(b, numHeads, t, headDim);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
        throw new UnsupportedOperationException("SelfAttention is applied by its decoder layer with a mask");
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

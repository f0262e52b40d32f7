package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import io.distill4j.loss.Scalars;

/**
 * Normalisation over the last axis only (so that no position sees another): LayerNorm or RMSNorm.
 *
 * <ul>
 *   <li>LayerNorm (GPT-2): y = (x - mean(x)) / sqrt(var(x) + eps) * g + b, libtorch's fused kernel over the
 *       last axis (the DJL pitfall of normalising over more axes, which leaks future tokens, cannot occur).</li>
 *   <li>RMSNorm (Llama; Zhang &amp; Sennrich 2019): y = x / sqrt(mean(x^2) + eps) * g, as Hugging Face's
 *       {@code LlamaRMSNorm}.</li>
 * </ul>
 */
final class Norm extends AbstractBlock {
    private final boolean rms;
    private final int width;
    private final float eps;
    private final Parameter gain;
    private final Parameter shift;

    /**
     * Creates the norm.
     *
     * @param rms true for RMSNorm, false for LayerNorm
     * @param width the normalised width
     * @param eps epsilon
     */
    Norm(boolean rms, int width, double eps) {
        this.rms = rms;
        this.width = width;
        this.eps = (float) eps;
        this.gain = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.GAMMA)
                .optShape(new Shape(width)).optInitializer(Initializer.ONES).build());
        this.shift = rms ? null
                : addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BETA)
                        .optShape(new Shape(width)).optInitializer(Initializer.ZEROS).build());
    }

    /** @return the gain g, shape (width) */
    Parameter gain() {
        return gain;
    }

    /** @return the LayerNorm shift b, or null for RMSNorm */
    Parameter shift() {
        return shift;
    }

    /**
     * Normalises.
     *
     * @param ps the parameter store
     * @param x input (..., width)
     * @param training whether this is a training pass
     * @return the normalised array, attached to {@code x}'s manager
     */
    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        NDArray g = ps.getValue(gain, x.getDevice(), training);
        if (!rms) {
            NDArray b = ps.getValue(shift, x.getDevice(), training);
            return x.getNDArrayInternal().layerNorm(x, new Shape(width), g, b, eps).head();
        }
        int last = x.getShape().dimension() - 1;
        NDArray ms = x.square().mean(new int[] {last}, true).add(eps);
        if (x.getDataType() != DataType.FLOAT32) {
            // float16 (mixed precision): divide by sqrt(ms) instead of multiplying by ms^-0.5, whose
            // derivative -0.5 ms^-1.5 overflows float16 for hidden states of ordinary size (|x| ~ 0.02)
            return x.div(ms.sqrt()).mul(g);
        }
        return x.mul(Scalars.pow(ms, -0.5)).mul(g);
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
        // no children
    }
}

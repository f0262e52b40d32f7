package io.distill4j.trainer.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies one optimiser step to a block's parameters after a backward pass: optional clipping of the
 * global gradient norm, then AdamW (Loshchilov &amp; Hutter 2019) with decoupled weight decay on matrices
 * and embeddings only (not on biases and norm gains, as is usual for transformers), under a learning-rate
 * schedule.
 *
 * <p>Each parameter is updated in place by DJL's fused libtorch AdamW kernel, which also zeroes its
 * gradient; gradient handles are closed after use, so nothing accumulates in the model's manager.
 */
public final class AdamWStepper {
    private final List<Parameter> params = new ArrayList<>();
    private final Optimizer decayed;
    private final Optimizer undecayed;
    private final double clipNorm;

    /**
     * Creates the stepper.
     *
     * @param block the initialised block whose trainable parameters are updated
     * @param schedule the learning rate per step
     * @param weightDecay the decoupled weight decay of matrices
     * @param clipNorm the maximum global L2 norm of the gradient, or 0 for no clipping
     */
    public AdamWStepper(Block block, LrSchedule schedule, double weightDecay, double clipNorm) {
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weight decay must be non-negative and finite, got " + weightDecay);
        }
        if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("clip norm must be non-negative and finite (0 = off), got " + clipNorm);
        }
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getValue().requiresGradient()) {
                params.add(p.getValue());
            }
        }
        this.decayed = Optimizer.adamW().optLearningRateTracker(schedule.tracker())
                .optWeightDecays((float) weightDecay).build();
        this.undecayed = Optimizer.adamW().optLearningRateTracker(schedule.tracker()).optWeightDecays(0f).build();
        this.clipNorm = clipNorm;
    }

    /**
     * Clips and applies the gradients accumulated by the last backward pass.
     *
     * @return the global gradient norm before clipping, or NaN when clipping is off (not computed)
     * @throws IllegalStateException if the gradient norm is not finite (nothing is updated then)
     */
    public double step() {
        List<NDArray> grads = new ArrayList<>(params.size());
        try {
            for (Parameter p : params) {
                grads.add(p.getArray().getGradient());
            }
            double norm = Double.NaN;
            if (clipNorm > 0) {
                NDList squares = new NDList(grads.size());
                for (NDArray g : grads) {
                    squares.add(g.square().sum());
                }
                try (NDArray sum = NDArrays.stack(squares).sum()) {
                    norm = Math.sqrt(sum.getFloat());
                }
                squares.close();
                if (!Double.isFinite(norm)) {
                    throw new IllegalStateException("gradient norm is " + norm + "; the step is skipped");
                }
                if (norm > clipNorm) {
                    float scale = (float) (clipNorm / (norm + 1e-6));
                    for (NDArray g : grads) {
                        g.muli(scale);
                    }
                }
            }
            for (int i = 0; i < params.size(); i++) {
                Parameter p = params.get(i);
                Optimizer o = p.getShape().dimension() >= 2 ? decayed : undecayed;
                o.update(p.getId(), p.getArray(), grads.get(i));
            }
            return norm;
        } finally {
            for (NDArray g : grads) {
                g.close();
            }
        }
    }
}

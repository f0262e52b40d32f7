package io.distill4j.trainer.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies one optimiser step to a block's parameters after a backward pass: optional clipping of the
 * global gradient norm, then AdamW (Loshchilov &amp; Hutter 2019) with decoupled weight decay on matrices
 * and embeddings only (not on biases and norm gains, as is usual for transformers), under a learning-rate
 * schedule.
 *
 * <p>Update of step t (1-based) for weight w, gradient g, rate lr_t, decay lambda, as {@code torch.optim.AdamW}:
 * <pre>
 *   w &lt;- w * (1 - lr_t * lambda)
 *   m &lt;- beta1 m + (1 - beta1) g            v &lt;- beta2 v + (1 - beta2) g^2
 *   w &lt;- w - (lr_t / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * with beta1 = 0.9, beta2 = 0.999, eps = 1e-8. It is written with in-place NDArray operations, using the
 * gradient as scratch, so that each parameter allocates one temporary (sqrt v); PyTorch's single-tensor
 * AdamW allocates two, DJL's own AdamW kernel about seven (it clones the gradient), and on this machine a
 * large fresh allocation costs more in page faults than the arithmetic on it.
 * Gradients are zeroed after the update and their handles closed, so nothing accumulates in the model's
 * manager.
 */
public final class AdamWStepper {
    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.999f;
    private static final float EPS = 1e-8f;
    private static final NDIndex ALL = new NDIndex("...");

    private final List<Parameter> params = new ArrayList<>();
    private final List<NDArray> means = new ArrayList<>();
    private final List<NDArray> variances = new ArrayList<>();
    private final LrSchedule schedule;
    private final double weightDecay;
    private final double clipNorm;
    private int t;

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
                NDArray w = p.getValue().getArray();
                params.add(p.getValue());
                means.add(w.zerosLike());
                variances.add(w.zerosLike());
            }
        }
        this.schedule = schedule;
        this.weightDecay = weightDecay;
        this.clipNorm = clipNorm;
    }

    /** @return the number of steps taken */
    public int steps() {
        return t;
    }

    /**
     * Clips and applies the gradients accumulated by the last backward pass, then zeroes them.
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
            double lr = schedule.at(t);
            t++;
            double bc1 = 1 - Math.pow(BETA1, t);
            double bc2Sqrt = Math.sqrt(1 - Math.pow(BETA2, t));
            for (int i = 0; i < params.size(); i++) {
                NDArray w = params.get(i).getArray();
                NDArray g = grads.get(i);
                NDArray m = means.get(i);
                NDArray v = variances.get(i);
                if (w.getShape().dimension() >= 2 && weightDecay > 0) {
                    w.muli(1 - lr * weightDecay);
                }
                // the gradient is scratch from here on (zeroed at the end); only sqrt(v) is a new array
                m.muli(BETA1 / (1 - BETA1)).addi(g).muli(1 - BETA1); // m = beta1 m + (1 - beta1) g
                g.muli(g);
                v.muli(BETA2 / (1 - BETA2)).addi(g).muli(1 - BETA2); // v = beta2 v + (1 - beta2) g^2
                try (NDArray denom = v.sqrt()) {
                    denom.muli(1 / bc2Sqrt).addi(EPS);
                    g.set(ALL, 0);
                    g.addi(m).divi(denom).muli(lr / bc1);
                    w.subi(g);
                }
                g.set(ALL, 0);
            }
            return norm;
        } finally {
            for (NDArray g : grads) {
                g.close();
            }
        }
    }
}

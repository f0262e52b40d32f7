package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Gaussian negative log-likelihood for students that predict a mean and a log-variance per output.
 *
 * <p>Formula, with mu and s = log sigma^2 the student's outputs and t the target:
 * <pre>
 *   l_i = (1/D) sum_d 0.5 * ( s_id + ((t_id - mu_id)^2 + v_id) * exp(-s_id) )  [+ 0.5 log(2 pi) if full]
 * </pre>
 * L = mean over unpadded items. Without v it is the heteroscedastic regression loss of Nix &amp; Weigend
 * 1994 and Kendall &amp; Gal 2017, and equals PyTorch's {@code GaussianNLLLoss(full, eps = 1e-6)} with
 * var = exp(s). The optional v is the teacher's per-output sample variance: for a target distributed
 * with mean t and variance v, E[(y - mu)^2] = (t - mu)^2 + v, so the term is the expected NLL of the
 * teacher's samples and the student learns to predict the teacher's spread (its optimum is
 * sigma^2 = (t - mu)^2 + v).
 *
 * <p>The variance floor, as in PyTorch: {@code F.gaussian_nll_loss} clamps var at eps = 1e-6 under
 * {@code torch.no_grad()} (on a clone of var), so the value is taken at var_c = max(var, eps) while the gradient
 * is not cut: d/dvar is evaluated at var_c and passed through the clamp as if it were the identity. Here, with
 * s_c = max(s, log eps), the value uses s_c in place of s and
 * <pre>
 *   dl/ds_id = (1/D) * 0.5 * (1 - ((t_id - mu_id)^2 + v_id) * exp(-s_c,id)) * exp(s_id - s_c,id)
 * </pre>
 * which is PyTorch's 0.5 (1/var_c - sq/var_c^2) * dvar/ds with var = exp(s); above the floor the last factor is
 * 1 and this is the ordinary derivative. A student whose log-variance fell below log eps therefore still
 * receives a gradient (upward when the squared error exceeds eps), as with PyTorch.
 *
 * <p>Predictions: either {@code [mu, s]} (two arrays of shape item + (D)) or one array of shape
 * item + (2D) whose first half is mu and second half s. Labels: {@code [t, v?, mask?]}: t with shape
 * item + (D) (rank at least 2); v, if present, the same shape as t; the mask the item shape (told apart
 * from v by its rank). Value check (when validating): v non-negative.
 */
public final class GaussianNllLoss extends DistillationLoss {
    /** Lower bound on the log-variance, log(1e-6), PyTorch's default eps. */
    public static final double MIN_LOG_VARIANCE = Math.log(1e-6);

    private final boolean full;

    /** Creates the loss without the constant term (as PyTorch's default). */
    public GaussianNllLoss() {
        this(false);
    }

    /**
     * Creates the loss.
     *
     * @param full whether to add the constant 0.5 log(2 pi)
     */
    public GaussianNllLoss(boolean full) {
        super("gaussian-nll");
        this.full = full;
    }

    @Override
    public Shape itemShape(NDList predictions) {
        ArgumentChecks.predictionCount("gaussian-nll", predictions);
        Shape s = predictions.head().getShape();
        return s.slice(0, s.dimension() - 1);
    }

    @Override
    public NDArray itemLosses(NDList labels, NDList predictions) {
        ArgumentChecks.labelCount("gaussian-nll", labels, 1, "[targets, teacher variance?, mask?]");
        NDArray[] ms = meanAndLogVariance(predictions);
        NDArray mu = ms[0];
        NDArray s = ms[1];
        NDArray t = labels.head();
        ArgumentChecks.sameShape("targets", t, "predicted mean", mu);
        Shape item = itemShape(predictions);
        NDArray v = null;
        int maskIndex = 1;
        if (labels.size() > 1 && labels.get(1).getShape().equals(t.getShape())) {
            v = labels.get(1);
            maskIndex = 2;
        }
        NDArray mask = maskAt("gaussian-nll", labels, maskIndex, item, mu);
        if (mask != null) {
            t = keepWhere(mask, t, 0);
            if (v != null) {
                v = keepWhere(mask, v, 0);
            }
        }
        if (v != null && isValidate()) {
            ArgumentChecks.nonNegative("gaussian-nll: teacher variance", v);
        }
        s = clampLikeTorch(s);
        NDArray sq = t.sub(mu).square();
        if (v != null) {
            sq = sq.add(v);
        }
        NDArray l = Scalars.mul(s.add(sq.mul(s.neg().exp())).mean(new int[] {-1}), 0.5);
        if (full) {
            l = l.add(0.5 * Math.log(2 * Math.PI));
        }
        return mask == null ? l : l.mul(mask);
    }

    /**
     * max(s, {@link #MIN_LOG_VARIANCE}) in value, with PyTorch's gradient through the clamp: the result is
     * s_c + (r - r_detached), r = exp(s - s_c) with s_c detached, whose value is exactly s_c (r - r = 0) and whose
     * derivative with respect to s is r = exp(s - s_c) (1 above the floor); a loss f(s_c) thus gets
     * f'(s_c) * exp(s - s_c), which for f(s) = g(exp(s)) is g'(var_c) * exp(s), PyTorch's clone-then-clamp_
     * under no_grad.
     */
    private static NDArray clampLikeTorch(NDArray s) {
        NDArray sc = Scalars.maximum(s.stopGradient(), MIN_LOG_VARIANCE);
        NDArray r = s.sub(sc).exp();
        return sc.add(r.sub(r.stopGradient()));
    }

    @Override
    public NDArray itemMask(NDList labels, NDList predictions) {
        NDArray mu = meanAndLogVariance(predictions)[0];
        int maskIndex = labels.size() > 1 && labels.get(1).getShape().equals(labels.head().getShape()) ? 2 : 1;
        return maskAt("gaussian-nll", labels, maskIndex, itemShape(predictions), mu);
    }

    private static NDArray[] meanAndLogVariance(NDList predictions) {
        ArgumentChecks.predictionCount("gaussian-nll", predictions);
        if (predictions.size() >= 2) {
            NDArray mu = predictions.get(0);
            NDArray s = predictions.get(1);
            ArgumentChecks.minRank("gaussian-nll: predicted mean", mu, 2);
            ArgumentChecks.sameShape("predicted log-variance", s, "predicted mean", mu);
            return new NDArray[] {mu, s};
        }
        NDArray both = predictions.head();
        ArgumentChecks.minRank("gaussian-nll: predictions", both, 2);
        long width = both.getShape().getLastDimension();
        if (width % 2 != 0) {
            throw new IllegalArgumentException("gaussian-nll: a single prediction array must hold [mean, log-variance] "
                    + "halves on its last axis, so its width must be even, got " + width);
        }
        NDList halves = both.split(2, both.getShape().dimension() - 1);
        return new NDArray[] {halves.get(0), halves.get(1)};
    }

    /** @return whether the constant 0.5 log(2 pi) is added */
    public boolean full() {
        return full;
    }

    @Override
    public List<Label> labels() {
        return List.of(Label.TARGET_VALUES, Label.TARGET_VARIANCE);
    }

    /** The student predicts a mean and a log-variance per output: twice the target's width. */
    @Override
    public int predictionWidth(int targetWidth) {
        return 2 * targetWidth;
    }
}

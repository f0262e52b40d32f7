package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Focal loss with a gated entropy bonus, for fine-tuning a teacher to be calibrated before distillation:
 * the difficulty-aware uncertainty shaping (DUS) of Kim et al. 2026, "Trust the Uncertain Teacher:
 * Distilling Dark Knowledge via Calibrated Uncertainty" (CUD, arXiv 2602.12687).
 *
 * <p>Formula, with p_i = softmax(z_i), p_iy its probability of the label and H(p_i) = - sum_c p_ic log p_ic:
 * <pre>
 *   focal_i = (1 - p_iy)^gamma * (- log p_iy)                      (Lin et al. 2017, focal loss)
 *   g_i     = 1 if argmax_c p_ic != y_i or p_iy &lt; tau, else 0       (the gate: hard or misclassified)
 *   w_i     = min(W, - log p_iy)                                    (difficulty weight, clipped at W = 3.0)
 *   l_i     = focal_i - lambda * g_i * w_i * H(p_i)
 * </pre>
 * L is the mean over unpadded items. The focal term tempers over-confidence on easy examples; the bonus
 * raises the entropy only where the teacher is wrong or unsure, more so the harder the example, so that
 * easy cases stay confident and hard ones keep structured uncertainty. g_i and w_i are computed from the
 * current prediction and held constant (no gradient through them).
 *
 * <p>The paper's full text (and code) was not available; the focal form, the gate on misclassified or
 * low-confidence examples, and the clip of the per-example weight at 3.0 follow its description. The
 * difficulty measure (the example's cross-entropy) and the defaults gamma = 2, lambda = 0.1, tau = 0.5 are
 * this implementation's choices, documented here and configurable.
 *
 * <p>Labels: {@code [y, mask?]}, y the class ids with the item shape; optional padding mask. Predictions:
 * logits, item shape + (C). Value check (when validating): 0 &lt;= y &lt; C. Registry name
 * {@code focal-entropy}.
 */
public final class FocalEntropyLoss extends DistillationLoss {
    private final double gamma;
    private final double lambda;
    private final double maxWeight;
    private final double tau;

    /** Creates the loss with gamma = 2, lambda = 0.1, W = 3.0, tau = 0.5. */
    public FocalEntropyLoss() {
        this(2.0, 0.1, 3.0, 0.5);
    }

    /**
     * Creates the loss.
     *
     * @param gamma the focusing exponent, non-negative (0 gives cross-entropy)
     * @param lambda the weight of the entropy bonus, non-negative
     * @param maxWeight W, the clip of the per-example weight, positive
     * @param tau the confidence below which an example counts as hard, in [0, 1]
     */
    public FocalEntropyLoss(double gamma, double lambda, double maxWeight, double tau) {
        super("focal-entropy");
        ArgumentChecks.nonNegative("gamma", gamma);
        ArgumentChecks.nonNegative("lambda", lambda);
        ArgumentChecks.positive("max weight", maxWeight);
        ArgumentChecks.unitInterval("tau", tau);
        this.gamma = gamma;
        this.lambda = lambda;
        this.maxWeight = maxWeight;
        this.tau = tau;
    }

    @Override
    public NDArray itemLosses(NDList labels, NDList predictions) {
        ArgumentChecks.labelCount("focal-entropy", labels, 1, "[class labels, mask?]");
        ArgumentChecks.predictionCount("focal-entropy", predictions);
        NDArray z = predictions.head();
        ArgumentChecks.minRank("focal-entropy: predictions", z, 2);
        Shape item = itemShape(predictions);
        NDArray mask = maskAt("focal-entropy", labels, 1, item, z);
        NDArray idx = classIndex("focal-entropy", labels.get(0), item, z.getShape().getLastDimension(), mask, isValidate());
        NDArray logP = z.logSoftmax(-1);
        NDArray logPy = logP.gather(idx, -1).squeeze(-1);
        NDArray pY = logPy.exp();
        NDArray focal = gamma == 0 ? logPy.neg() : Scalars.pow(Scalars.maximum(pY.neg().add(1), 0), gamma).mul(logPy.neg());
        NDArray l = focal;
        if (lambda > 0) {
            NDArray entropy = logP.exp().mul(logP).sum(new int[] {-1}).neg();
            NDArray logPyFixed = logPy.stopGradient();
            NDArray wrong = z.argMax(-1).neq(idx.squeeze(-1));
            NDArray gate = wrong.logicalOr(logPyFixed.lt(Math.log(Math.max(tau, 1e-30)))).toType(z.getDataType(), false);
            NDArray w = logPyFixed.neg().minimum(maxWeight);
            l = focal.sub(entropy.mul(gate.mul(w).mul(lambda)));
        }
        return mask == null ? l : l.mul(mask);
    }

    @Override
    public NDArray itemMask(NDList labels, NDList predictions) {
        return maskAt("focal-entropy", labels, 1, itemShape(predictions), predictions.head());
    }

    /** @return gamma */
    public double gamma() {
        return gamma;
    }

    /** @return lambda */
    public double lambda() {
        return lambda;
    }

    /** @return W, the clip of the per-example weight */
    public double maxWeight() {
        return maxWeight;
    }

    /** @return tau */
    public double tau() {
        return tau;
    }

    @Override
    public List<Label> labels() {
        return List.of(Label.CLASS_LABELS);
    }
}

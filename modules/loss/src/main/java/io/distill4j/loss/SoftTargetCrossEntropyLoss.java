package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;

/**
 * Cross-entropy of student logits against soft (probability) targets.
 *
 * <p>Formula: L = (1/B) sum_i [ - sum_c t_ic log softmax(z_i)_c ], where t is the target distribution in
 * {@code labels.head()} (shape (B, C)) and z the student logits in {@code predictions.head()}. With
 * one-hot targets it is the ordinary cross-entropy; with teacher probabilities it is the soft-target term
 * of Hinton, Vinyals &amp; Dean 2015 at temperature 1 (it differs from KL(t || p) by the target's entropy,
 * a constant, so its gradient is the same).
 */
public final class SoftTargetCrossEntropyLoss extends Loss {

    /** Creates the loss under the name {@code soft-ce}. */
    public SoftTargetCrossEntropyLoss() {
        super("soft-ce");
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray t = labels.head();
        NDArray z = predictions.head();
        Checks.rank("predictions", z, 2);
        Checks.sameShape("targets", t, "predictions", z);
        return z.logSoftmax(1).mul(t).sum(new int[] {1}).neg().mean();
    }
}

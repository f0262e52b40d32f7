package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Cross-entropy of student logits against soft (probability) targets.
 *
 * <p>Formula: l_i = - sum_c t_ic log softmax(z_i)_c, L = mean over unpadded items. With one-hot targets it
 * is the ordinary cross-entropy; with teacher probabilities it is the soft-target term of Hinton, Vinyals
 * &amp; Dean 2015 ("Distilling the Knowledge in a Neural Network") at temperature 1. It differs from
 * KL(t || softmax(z)) by the entropy of t, a constant, so the gradient is the same.
 *
 * <p>Labels: {@code [t, mask?]}, t the targets with shape item + (C) (the output of a
 * {@link TargetBuilder}); the optional mask has the item shape. Predictions: the logits, same shape as t.
 * Value check (when validating): each row of t is on the simplex.
 */
public final class SoftTargetCrossEntropyLoss extends DistillationLoss {

    /** Creates the loss under the name {@code soft-ce}. */
    public SoftTargetCrossEntropyLoss() {
        super("soft-ce");
    }

    @Override
    public NDArray itemLosses(NDList labels, NDList predictions) {
        ArgumentChecks.labelCount("soft-ce", labels, 1, "[targets, mask?]");
        ArgumentChecks.predictionCount("soft-ce", predictions);
        NDArray t = labels.head();
        NDArray z = predictions.head();
        ArgumentChecks.minRank("predictions", z, 2);
        ArgumentChecks.sameShape("targets", t, "predictions", z);
        Shape item = itemShape(predictions);
        NDArray mask = maskAt("soft-ce", labels, 1, item, z);
        if (isValidate()) {
            ArgumentChecks.simplex("soft-ce: targets", t, mask);
        }
        if (mask != null) {
            t = keepWhere(mask, t, 0);
        }
        return z.logSoftmax(-1).mul(t).sum(new int[] {-1}).neg();
    }

    @Override
    public NDArray itemMask(NDList labels, NDList predictions) {
        return maskAt("soft-ce", labels, 1, itemShape(predictions), predictions.head());
    }

    @Override
    public List<Label> labels() {
        return List.of(Label.TARGET_PROBABILITIES);
    }
}

package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Mean squared error between the student's outputs and the targets, for regression distillation and for
 * logit matching.
 *
 * <p>Formula: l_i = (1/D) sum_d (z_id - t_id)^2, L = mean over unpadded items (for unpadded inputs this is
 * the mean over all elements, as PyTorch's {@code MSELoss}). The regression loss of Cui &amp; Pei 2026
 * (arXiv 2601.18909), whose students fit the teacher targets built by a {@link TargetBuilder} by least
 * squares; with teacher logits as targets it is the logit matching of Ba &amp; Caruana 2014.
 *
 * <p>Labels: {@code [t, mask?]}, t with shape item + (D) (rank at least 2: give scalar targets as (B, 1));
 * the optional mask has the item shape. Predictions: same shape as t. No value checks.
 */
public final class MseLoss extends DistillationLoss {

    /** Creates the loss under the name {@code mse}. */
    public MseLoss() {
        super("mse");
    }

    @Override
    public NDArray itemLosses(NDList labels, NDList predictions) {
        ArgumentChecks.labelCount("mse", labels, 1, "[targets, mask?]");
        ArgumentChecks.predictionCount("mse", predictions);
        NDArray z = predictions.head();
        ArgumentChecks.minRank("mse: predictions", z, 2);
        NDArray t = labels.head();
        ArgumentChecks.sameShape("targets", t, "predictions", z);
        Shape item = itemShape(predictions);
        NDArray mask = maskAt("mse", labels, 1, item, z);
        if (mask != null) {
            t = keepWhere(mask, t, 0);
        }
        NDArray l = z.sub(t).square().mean(new int[] {-1});
        return mask == null ? l : l.mul(mask);
    }

    @Override
    public NDArray itemMask(NDList labels, NDList predictions) {
        return maskAt("mse", labels, 1, itemShape(predictions), predictions.head());
    }

    @Override
    public List<Label> labels() {
        return List.of(Label.TARGET_VALUES);
    }
}

package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Cross-entropy of student logits against hard class labels.
 *
 * <p>Formula: l_i = - log softmax(z_i)_{y_i}, L = mean over unpadded items. The standard maximum-likelihood
 * loss; the (1 - alpha) term of Hinton, Vinyals &amp; Dean 2015.
 *
 * <p>Labels: {@code [y, mask?]}, y the class ids with the item shape (B) or (B, T), any numeric type;
 * the optional mask has the item shape. Predictions: the logits, item shape + (C).
 * Value check (when validating): 0 &lt;= y &lt; C at unpadded items.
 */
public final class CrossEntropyLoss extends DistillationLoss {

    /** Creates the loss under the name {@code ce}. */
    public CrossEntropyLoss() {
        super("ce");
    }

    @Override
    public NDArray itemLosses(NDList labels, NDList predictions) {
        ArgumentChecks.labelCount("ce", labels, 1, "[class labels, mask?]");
        ArgumentChecks.predictionCount("ce", predictions);
        NDArray z = predictions.head();
        ArgumentChecks.minRank("ce: predictions", z, 2);
        Shape item = itemShape(predictions);
        NDArray mask = maskAt("ce", labels, 1, item, z);
        NDArray idx = classIndex("ce", labels.get(0), item, z.getShape().getLastDimension(), mask, isValidate());
        NDArray l = z.logSoftmax(-1).gather(idx, -1).squeeze(-1).neg();
        return mask == null ? l : l.mul(mask);
    }

    @Override
    public NDArray itemMask(NDList labels, NDList predictions) {
        return maskAt("ce", labels, 1, itemShape(predictions), predictions.head());
    }

    @Override
    public List<Label> labels() {
        return List.of(Label.CLASS_LABELS);
    }
}

package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;

/**
 * Hinton knowledge distillation: hard-label cross-entropy mixed with a tempered KL to the teacher.
 *
 * <p>Formula (Hinton, Vinyals &amp; Dean 2015, "Distilling the Knowledge in a Neural Network"):
 * <pre>
 *   L = (1 - alpha) * CE(softmax(z_s), y) + alpha * T^2 * KL( p_T^(T) || softmax(z_s / T) )
 * </pre>
 * averaged over the batch, where p_T^(T) is the teacher distribution at temperature T. Labels:
 * {@code labels.get(0)} the integer class labels (B), {@code labels.get(1)} the teacher's tempered
 * probabilities (B, C). Predictions: the student's logits (B, C).
 */
public final class HintonKdLoss extends Loss {
    private final double temperature;
    private final double alpha;

    /**
     * Creates the loss.
     *
     * @param temperature T, positive
     * @param alpha the weight of the distillation term, in [0, 1]
     */
    public HintonKdLoss(double temperature, double alpha) {
        super("hinton-kd");
        Checks.positive("temperature", temperature);
        Checks.unitInterval("alpha", alpha);
        this.temperature = temperature;
        this.alpha = alpha;
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        if (labels.size() < 2) {
            throw new IllegalArgumentException("labels must hold [class labels, teacher probabilities], got "
                    + labels.size() + " arrays");
        }
        NDArray y = labels.get(0);
        NDArray pT = labels.get(1);
        NDArray z = predictions.head();
        Checks.rank("predictions", z, 2);
        Checks.sameShape("teacher probabilities", pT, "predictions", z);
        NDArray logP = z.logSoftmax(1);
        NDArray oneHot = y.toType(ai.djl.ndarray.types.DataType.INT64, false).oneHot((int) z.getShape().get(1))
                .toType(z.getDataType(), false);
        NDArray ce = logP.mul(oneHot).sum(new int[] {1}).neg();
        NDArray logPT = z.div(temperature).logSoftmax(1);
        NDArray kl = pT.mul(pT.clip(1e-30, 1).log().sub(logPT)).sum(new int[] {1});
        return ce.mul(1 - alpha).add(kl.mul(alpha * temperature * temperature)).mean();
    }

    /** @return the temperature T */
    public double temperature() {
        return temperature;
    }

    /** @return the distillation weight alpha */
    public double alpha() {
        return alpha;
    }
}

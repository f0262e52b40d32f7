package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;

/**
 * Hinton knowledge distillation: hard-label cross-entropy mixed with a tempered KL to the teacher, in two
 * forms.
 *
 * <p><b>Hinton KD</b> (Hinton, Vinyals &amp; Dean 2015, "Distilling the Knowledge in a Neural Network"),
 * {@link #HintonKdLoss(double, double)}, registry name {@code hinton-kd}:
 * <pre>
 *   l_i = (1 - alpha) * CE(softmax(z_i), y_i) + alpha * T^2 * KL( p_T,i || softmax(z_i / T) )
 * </pre>
 * The T^2 factor keeps the soft term's gradient magnitude independent of T.
 *
 * <p><b>Bayesian-teacher KD</b> (Morad, Shlezinger &amp; Eldar 2026, "SGD-Based Knowledge Distillation with
 * Bayesian Teachers", arXiv 2601.01484, as in their code), {@link #HintonKdLoss(double, double, double)},
 * registry name {@code bayesian-kd}: the teacher is softened at T_T, the student at T_S, and the soft term
 * is scaled by T_T * T_S:
 * <pre>
 *   l_i = (1 - alpha) * CE(softmax(z_i), y_i) + alpha * T_T * T_S * KL( p_T,i || softmax(z_i / T_S) )
 * </pre>
 * where p_T is the mean over posterior draws of softmax(z_T / T_T) (build it with
 * {@link BayesianMeanTarget}). With T_T = T_S = T the two forms agree.
 *
 * <p>Labels: {@code [y, p_T, mask?]}: y the class ids (item shape, (B) or (B, T)), p_T the teacher's
 * probabilities already softened at the teacher temperature (item shape + (C)), and an optional padding
 * mask (item shape). Predictions: the student logits (item shape + (C)). L is the mean of l_i over
 * unpadded items. Value checks (when validating): p_T on the simplex, 0 &lt;= y &lt; C.
 */
public final class HintonKdLoss extends DistillationLoss {
    private final double teacherTemperature;
    private final double studentTemperature;
    private final double alpha;

    /**
     * Creates Hinton KD with one temperature (T^2 scaling), named {@code hinton-kd}.
     *
     * @param temperature T, positive
     * @param alpha the weight of the distillation term, in [0, 1]
     */
    public HintonKdLoss(double temperature, double alpha) {
        this("hinton-kd", temperature, temperature, alpha);
    }

    /**
     * Creates the Bayesian-teacher form of Morad et al. 2026 (T_T * T_S scaling), named {@code bayesian-kd}.
     *
     * @param teacherTemperature T_T, positive: the temperature p_T was softened at
     * @param studentTemperature T_S, positive: the temperature the student's logits are divided by
     * @param alpha the weight of the distillation term, in [0, 1]
     */
    public HintonKdLoss(double teacherTemperature, double studentTemperature, double alpha) {
        this("bayesian-kd", teacherTemperature, studentTemperature, alpha);
    }

    private HintonKdLoss(String name, double teacherTemperature, double studentTemperature, double alpha) {
        super(name);
        if (teacherTemperature == studentTemperature) {
            Checks.positive("temperature", teacherTemperature);
        } else {
            Checks.positive("teacher temperature", teacherTemperature);
            Checks.positive("student temperature", studentTemperature);
        }
        Checks.unitInterval("alpha", alpha);
        this.teacherTemperature = teacherTemperature;
        this.studentTemperature = studentTemperature;
        this.alpha = alpha;
    }

    @Override
    public NDArray itemLosses(NDList labels, NDList predictions) {
        Parts p = parts(labels, predictions);
        double scale = alpha * teacherTemperature * studentTemperature;
        // KL(p_T || q) = sum p_T log p_T - sum p_T log q; the first sum carries no gradient.
        NDArray negEntropy = p.pT.xlogy(p.pT).sum(new int[] {-1});
        NDArray cross = p.pT.mul(p.logQ).sum(new int[] {-1});
        NDArray l = negEntropy.sub(cross).mul(scale);
        if (alpha < 1) {
            l = l.sub(p.logP.gather(p.idx, -1).squeeze(-1).mul(1 - alpha));
        }
        return p.mask == null ? l : l.mul(p.mask);
    }

    /** The mean over unpadded items, computed by {@link #weightedSum} with coefficients m_i / sum m. */
    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        return weightedSum(labels, predictions, null);
    }

    /**
     * sum_i c_i l_i with the coefficients folded into the label-side arrays (c_i * scale * p_T and
     * c_i * (1 - alpha)), so that the gradient path holds only the two log-softmaxes, one product with its
     * sum, and one gather with its weighted sum. {@code coefficients == null} means the plain mean over
     * unpadded items.
     */
    @Override
    public NDArray weightedSum(NDList labels, NDList predictions, NDArray coefficients) {
        Parts p = parts(labels, predictions);
        NDArray c = coefficients;
        if (c == null) {
            c = p.mask == null
                    ? p.logP.getManager().ones(p.item, p.logP.getDataType()).div(Math.max(1, p.item.size()))
                    : p.mask.div(p.mask.sum().maximum(1));
        }
        double scale = alpha * teacherTemperature * studentTemperature;
        NDArray cs = c.mul(scale).expandDims(-1);
        NDArray value = p.pT.xlogy(p.pT).mul(cs).sum().sub(p.pT.mul(cs).mul(p.logQ).sum());
        if (alpha < 1) {
            value = value.sub(p.logP.gather(p.idx, -1).mul(c.mul(1 - alpha).expandDims(-1)).sum());
        }
        return value;
    }

    /** The checked inputs and the student's log-probabilities. */
    private static final class Parts {
        NDArray pT;
        NDArray idx;
        NDArray mask;
        NDArray logP;
        NDArray logQ;
        Shape item;
    }

    private Parts parts(NDList labels, NDList predictions) {
        String me = getName();
        Checks.labelCount(me, labels, 2, "[class labels, teacher probabilities, mask?]");
        Checks.predictionCount(me, predictions);
        NDArray z = predictions.head();
        Checks.minRank("predictions", z, 2);
        Parts p = new Parts();
        p.pT = labels.get(1);
        Checks.sameShape("teacher probabilities", p.pT, "predictions", z);
        p.item = itemShape(predictions);
        p.mask = maskAt(me, labels, 2, p.item, z);
        p.idx = classIndex(me, labels.get(0), p.item, z.getShape().getLastDimension(), p.mask, isValidate());
        if (isValidate()) {
            Checks.simplex(me + ": teacher probabilities", p.pT, p.mask);
        }
        if (p.mask != null) {
            p.pT = keepWhere(p.mask, p.pT, 0);
        }
        p.logP = z.logSoftmax(-1);
        p.logQ = studentTemperature == 1 ? p.logP : z.div(studentTemperature).logSoftmax(-1);
        return p;
    }

    @Override
    public NDArray itemMask(NDList labels, NDList predictions) {
        return maskAt(getName(), labels, 2, itemShape(predictions), predictions.head());
    }

    /** @return the temperature T (the teacher temperature T_T in the Bayesian form) */
    public double temperature() {
        return teacherTemperature;
    }

    /** @return the teacher temperature T_T */
    public double teacherTemperature() {
        return teacherTemperature;
    }

    /** @return the student temperature T_S */
    public double studentTemperature() {
        return studentTemperature;
    }

    /** @return the distillation weight alpha */
    public double alpha() {
        return alpha;
    }
}

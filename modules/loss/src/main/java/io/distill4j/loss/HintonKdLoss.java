package io.distill4j.loss;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;

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
            ArgumentChecks.positive("temperature", teacherTemperature);
        } else {
            ArgumentChecks.positive("teacher temperature", teacherTemperature);
            ArgumentChecks.positive("student temperature", studentTemperature);
        }
        ArgumentChecks.unitInterval("alpha", alpha);
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
        NDArray l = Scalars.mul(negEntropy.sub(cross), scale);
        if (alpha < 1) {
            l = l.sub(Scalars.mul(p.logP.gather(p.idx, -1).squeeze(-1), 1 - alpha));
        }
        return p.mask == null ? l : l.mul(p.mask);
    }

    /** The mean over unpadded items, computed by {@link #weightedSum} with coefficients m_i / sum m. */
    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        return weightedSum(labels, predictions, null);
    }

    /**
     * sum_i c_i l_i. {@code coefficients == null} means the plain mean over unpadded items.
     *
     * <p>The value and its gradient are computed outside autograd, from the detached logits, and joined
     * to the graph through one product: the returned array is {@code value + sum(z * G) - sum(z * G)}
     * with the second sum detached, so it equals the value and its gradient with respect to z is G, the
     * analytic gradient of the loss:
     * <pre>
     *   dL/dz_ic = c_i * alpha * T_T * (q_ic * sum_c p_T,ic - p_T,ic) + c_i * (1 - alpha) * (P_ic - [c = y_i])
     * </pre>
     * with q = softmax(z / T_S) and P = softmax(z) (the T_S of the scale cancels against the 1/T_S of the
     * tempered softmax). Gradients flow to the student logits only: the teacher probabilities and the
     * coefficients are data. On the CPU, for up to {@value #HOST_LIMIT} logits, value and G are computed in
     * one double-precision pass on the host (a fused kernel: a handful of native calls instead of about 35
     * small tensor operations, which is what keeps a KD step within a few percent of a cross-entropy step);
     * otherwise, and on accelerators, with tensor operations on the device.
     */
    @Override
    public NDArray weightedSum(NDList labels, NDList predictions, NDArray coefficients) {
        NDArray z = predictions.head();
        if (Device.Type.CPU.equals(z.getDevice().getDeviceType()) && z.getShape().size() <= HOST_LIMIT
                && (z.getDataType() == DataType.FLOAT32 || z.getDataType() == DataType.FLOAT64)) {
            return weightedSumOnHost(labels, predictions, coefficients);
        }
        return weightedSumOnDevice(labels, predictions, coefficients);
    }

    /** {@link #weightedSum} with tensor operations on z's device (what accelerators and large inputs use). */
    NDArray weightedSumOnDevice(NDList labels, NDList predictions, NDArray coefficients) {
        NDArray z = predictions.head();
        NDArray zc = z.stopGradient();
        Parts p = parts(labels, new NDList(zc));
        NDArray c = coefficients == null ? null : coefficients.stopGradient();
        if (c == null) {
            c = p.mask == null
                    ? p.logP.getManager().ones(p.item, p.logP.getDataType()).div(Math.max(1, p.item.size()))
                    : p.mask.div(p.mask.sum().maximum(1));
        }
        double scale = alpha * teacherTemperature * studentTemperature;
        NDArray ce = c.expandDims(-1);
        NDArray cs = ce.mul(scale);
        NDArray value = p.pT.xlogy(p.pT).mul(cs).sum().sub(p.pT.mul(cs).mul(p.logQ).sum());
        if (alpha < 1) {
            value = value.sub(p.logP.gather(p.idx, -1).mul(ce.mul(1 - alpha)).sum());
        }
        NDArray q = p.logQ.exp();
        NDArray g = q.mul(p.pT.sum(new int[] {-1}, true)).sub(p.pT).mul(ce.mul(alpha * teacherTemperature));
        if (alpha < 1) {
            NDArray big = studentTemperature == 1 ? q : p.logP.exp();
            NDArray hot = p.idx.squeeze(-1).oneHot((int) z.getShape().getLastDimension(), z.getDataType());
            g = g.add(big.sub(hot).mul(ce.mul(1 - alpha)));
        }
        return attach(z, g, value);
    }

    /** Largest number of logits for which {@link #weightedSum} computes on the host (CPU arrays only). */
    public static final long HOST_LIMIT = 1L << 18;

    /** value + sum(z * g) - detached sum(z * g): the value, with gradient g with respect to z. */
    private static NDArray attach(NDArray z, NDArray g, NDArray value) {
        NDArray surrogate = z.mul(g).sum();
        return surrogate.sub(surrogate.stopGradient()).add(value);
    }

    /** The fused host pass of {@link #weightedSum}: the same value and gradient, in double precision. */
    private NDArray weightedSumOnHost(NDList labels, NDList predictions, NDArray coefficients) {
        String me = getName();
        ArgumentChecks.labelCount(me, labels, 2, "[class labels, teacher probabilities, mask?]");
        ArgumentChecks.predictionCount(me, predictions);
        NDArray z = predictions.head();
        ArgumentChecks.minRank("predictions", z, 2);
        NDArray pTArr = labels.get(1);
        ArgumentChecks.sameShape("teacher probabilities", pTArr, "predictions", z);
        Shape item = itemShape(predictions);
        NDArray maskArr = maskAt(me, labels, 2, item, z);
        int classes = (int) z.getShape().getLastDimension();
        NDArray yArr = labels.get(0);
        if (!yArr.getShape().equals(item)) {
            throw new IllegalArgumentException(me + ": class labels have shape " + yArr.getShape()
                    + " but the predictions' item shape is " + item);
        }
        if (isValidate()) {
            classIndex(me, yArr, item, classes, maskArr, true);
            ArgumentChecks.simplex(me + ": teacher probabilities", pTArr, maskArr);
        }
        int n = Math.toIntExact(item.size());
        double[] zs = z.toType(DataType.FLOAT64, false).toDoubleArray();
        double[] pt = pTArr.toType(DataType.FLOAT64, false).toDoubleArray();
        long[] y = yArr.toType(DataType.INT64, false).toLongArray();
        double[] mask = maskArr == null ? null : maskArr.toType(DataType.FLOAT64, false).toDoubleArray();
        double[] c = coefficients == null ? null : coefficients.toType(DataType.FLOAT64, false).toDoubleArray();
        if (c != null && c.length != n) {
            throw new IllegalArgumentException(me + ": coefficients have shape " + coefficients.getShape()
                    + " but the predictions' item shape is " + item);
        }
        double plainC;
        if (mask == null) {
            plainC = 1.0 / Math.max(1, n);
        } else {
            double kept = 0;
            for (double m : mask) {
                kept += m;
            }
            plainC = 1.0 / Math.max(1, kept);
        }
        double scale = alpha * teacherTemperature * studentTemperature;
        double gKl = alpha * teacherTemperature;
        double hard = 1 - alpha;
        double invTs = 1 / studentTemperature;
        double[] g = new double[zs.length];
        double[] logQ = new double[classes];
        double value = 0;
        for (int i = 0; i < n; i++) {
            double m = mask == null ? 1 : mask[i];
            double ci = c != null ? c[i] : plainC * m;
            if (m == 0 || ci == 0) {
                continue;
            }
            int o = i * classes;
            double maxZ = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) {
                maxZ = Math.max(maxZ, zs[o + k]);
            }
            double sumP = 0;
            double sumQ = 0;
            for (int k = 0; k < classes; k++) {
                sumP += Math.exp(zs[o + k] - maxZ);
                sumQ += Math.exp((zs[o + k] - maxZ) * invTs);
            }
            double lseP = maxZ + Math.log(sumP);
            double lseQ = maxZ * invTs + Math.log(sumQ);
            double rowSum = 0;
            double kl = 0;
            for (int k = 0; k < classes; k++) {
                double p = pt[o + k];
                logQ[k] = zs[o + k] * invTs - lseQ;
                rowSum += p;
                // xlogy(p, p): 0 at p = 0, NaN below (as the tensor path), so unchecked bad input shows
                kl += (p == 0 ? 0 : p * Math.log(p)) - p * logQ[k];
            }
            long label = y[i];
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException(me + ": class labels must be in [0, " + classes + "), got "
                        + label);
            }
            double li = scale * kl;
            if (hard > 0) {
                li -= hard * (zs[o + (int) label] - lseP);
            }
            value += ci * li;
            for (int k = 0; k < classes; k++) {
                double gk = gKl * (Math.exp(logQ[k]) * rowSum - pt[o + k]);
                if (hard > 0) {
                    gk += hard * (Math.exp(zs[o + k] - lseP) - (k == label ? 1 : 0));
                }
                g[o + k] = ci * gk;
            }
        }
        NDManager mgr = z.getManager();
        NDArray gArr = mgr.create(g, z.getShape()).toType(z.getDataType(), false);
        NDArray valueArr = mgr.create(value).toType(z.getDataType(), false);
        return attach(z, gArr, valueArr);
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
        ArgumentChecks.labelCount(me, labels, 2, "[class labels, teacher probabilities, mask?]");
        ArgumentChecks.predictionCount(me, predictions);
        NDArray z = predictions.head();
        ArgumentChecks.minRank("predictions", z, 2);
        Parts p = new Parts();
        p.pT = labels.get(1);
        ArgumentChecks.sameShape("teacher probabilities", p.pT, "predictions", z);
        p.item = itemShape(predictions);
        p.mask = maskAt(me, labels, 2, p.item, z);
        p.idx = classIndex(me, labels.get(0), p.item, z.getShape().getLastDimension(), p.mask, isValidate());
        if (isValidate()) {
            ArgumentChecks.simplex(me + ": teacher probabilities", p.pT, p.mask);
        }
        if (p.mask != null) {
            p.pT = keepWhere(p.mask, p.pT, 0);
        }
        p.logP = z.logSoftmax(-1);
        p.logQ = studentTemperature == 1 ? p.logP : Scalars.div(z, studentTemperature).logSoftmax(-1);
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

    @Override
    public List<Label> labels() {
        return List.of(Label.CLASS_LABELS, Label.TARGET_PROBABILITIES);
    }
}

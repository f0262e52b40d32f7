package io.distill4j.loss;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Objects;

/**
 * Per-item inverse-variance weights on any {@link DistillationLoss}: items whose teacher samples disagree
 * count less.
 *
 * <p>Formula, with l_i the base loss's per-item losses, m_i its padding mask and v_i the teacher's
 * variance for item i:
 * <pre>
 *   w_i = 1 / (v_i + eps),   w'_i = w_i / mean_{j: m_j = 1} w_j   (normalised to mean 1 over unpadded items)
 *   L   = sum_i m_i w'_i l_i / sum_i m_i  =  sum_i m_i w_i l_i / sum_i m_i w_i
 * </pre>
 * Inverse-variance weighting is the minimum-variance way to combine unequally noisy observations (Aitken
 * 1935; the weighting behind Cui &amp; Pei 2026, arXiv 2601.18909). Normalising to mean 1 keeps the loss
 * on the scale of the unweighted one, so learning rates carry over. The weights are data, not parameters:
 * no gradient flows through them.
 *
 * <p>Labels: the base loss's labels followed by one more array, the variance, in one of two
 * {@link VarianceSource forms}:
 * <ul>
 *   <li>{@link VarianceSource#GIVEN} (default, YAML {@code variance: given}): v precomputed per item, with
 *       the item shape, or the item shape plus trailing axes (for example per-class variances (B, C)),
 *       which are averaged. This is the cheap form: the cache pipeline stores each item's variance once
 *       (see {@code io.distill4j.data.SampleStatistics});</li>
 *   <li>{@link VarianceSource#SAMPLES} ({@code variance: samples}): the teacher samples (B, k, ...), from
 *       which v_i is computed in the step as the sample variance over axis 1 (ddof 1; ddof 0 when k = 1),
 *       averaged over the axes after the item shape (for (B, k, C) samples and (B) items: the mean
 *       per-class variance).</li>
 * </ul>
 * Only the ratio of the variances matters (the weights are normalised) except relative to eps, which
 * bounds the weight of a zero-variance item: choose eps at the scale of variance the teacher can resolve.
 * Value check (when validating): v non-negative. Registry name {@code weighted}, with options
 * {@code base}, {@code eps}, {@code variance}.
 */
public final class InverseVarianceWeightedLoss extends DistillationLoss {

    /** Default eps. */
    public static final double DEFAULT_EPS = 1e-6;

    /** Where the per-item teacher variance comes from. */
    public enum VarianceSource {
        /** Precomputed per item; YAML {@code given}. */
        GIVEN,
        /** Computed from the teacher samples (B, k, ...) in the step; YAML {@code samples}. */
        SAMPLES;

    }

    private final DistillationLoss base;
    private final double eps;
    private final VarianceSource source;

    /**
     * Creates the weighted loss with precomputed variances and eps = {@value #DEFAULT_EPS}.
     *
     * @param base the loss to weight
     */
    public InverseVarianceWeightedLoss(DistillationLoss base) {
        this(base, DEFAULT_EPS, VarianceSource.GIVEN);
    }

    /**
     * Creates the weighted loss.
     *
     * @param base the loss to weight
     * @param eps positive: added to each variance
     * @param source where the variance comes from
     */
    public InverseVarianceWeightedLoss(DistillationLoss base, double eps, VarianceSource source) {
        super("weighted-" + Objects.requireNonNull(base, "base").getName());
        ArgumentChecks.positive("eps", eps);
        this.base = base;
        this.eps = eps;
        this.source = Objects.requireNonNull(source, "source");
    }

    @Override
    public DistillationLoss setValidate(boolean validate) {
        base.setValidate(validate);
        return super.setValidate(validate);
    }

    @Override
    public Shape itemShape(NDList predictions) {
        return base.itemShape(predictions);
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDList baseLabels = baseLabels(labels);
        NDArray m = base.itemMask(baseLabels, predictions);
        Shape item = base.itemShape(predictions);
        NDArray like = predictions.head();
        NDArray c = Device.Type.CPU.equals(like.getDevice().getDeviceType())
                && item.size() <= HintonKdLoss.HOST_LIMIT
                && (source == VarianceSource.GIVEN || item.dimension() == 1)
                ? hostCoefficients(labels, item, like, m)
                : tensorCoefficients(labels, item, like, m);
        return base.weightedSum(baseLabels, predictions, c);
    }

    /** c_i = m_i w_i / sum_j m_j w_j: the weighted mean as a weighted sum the base loss may fuse. */
    NDArray tensorCoefficients(NDList labels, Shape item, NDArray like, NDArray mask) {
        NDArray w = variance(labels, item, like, mask).add(eps).pow(-1);
        if (mask != null) {
            w = w.mul(mask);
        }
        return w.div(w.sum().maximum(1e-30f));
    }

    /**
     * The coefficients c_i = m_i w_i / sum_j m_j w_j of {@link #evaluate}, computed in one double-precision
     * pass on the host (CPU arrays, small batches): a few native calls instead of about ten small tensor
     * operations. Same values as the tensor path.
     */
    NDArray hostCoefficients(NDList labels, Shape item, NDArray like, NDArray mask) {
        NDArray raw = labels.get(labels.size() - 1);
        int n = Math.toIntExact(item.size());
        double[] v;
        if (source == VarianceSource.SAMPLES) {
            // (B, k, rest...) samples, items (B): per item the ddof-1 variance over k, averaged over rest
            rawVariance(labels, item, like); // shape checks and their messages
            long k = raw.getShape().get(1);
            int rest = Math.toIntExact(raw.getShape().size() / (n * k));
            double[] s = raw.toType(DataType.FLOAT64, false).toDoubleArray();
            v = new double[n];
            double count = Math.max(1, k - 1) * (double) rest;
            for (int i = 0; i < n; i++) {
                double total = 0;
                for (int e = 0; e < rest; e++) {
                    double mean = 0;
                    for (int j = 0; j < k; j++) {
                        mean += s[(int) ((i * k + j) * rest + e)];
                    }
                    mean /= k;
                    for (int j = 0; j < k; j++) {
                        double d = s[(int) ((i * k + j) * rest + e)] - mean;
                        total += d * d;
                    }
                }
                v[i] = total / count;
            }
        } else {
            // variance() value-checks (with the tensor path's message) when validating
            NDArray given = isValidate() ? variance(labels, item, like, mask) : rawVariance(labels, item, like);
            v = given.toType(DataType.FLOAT64, false).toDoubleArray();
        }
        double[] m = mask == null ? null : mask.toType(DataType.FLOAT64, false).toDoubleArray();
        double[] w = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            if (m != null && m[i] == 0) {
                continue;
            }
            if (isValidate() && !(v[i] >= 0)) {
                throw new IllegalArgumentException(getName() + ": teacher variance must be non-negative and not NaN, got "
                        + v[i] + " at item " + i);
            }
            w[i] = (m == null ? 1 : m[i]) / (v[i] + eps);
            sum += w[i];
        }
        double norm = Math.max(sum, 1e-30);
        for (int i = 0; i < n; i++) {
            w[i] /= norm;
        }
        return like.getManager().create(w, item).toType(like.getDataType(), false);
    }

    /** Returns w'_i l_i, the base losses times the weights normalised to mean 1 over unpadded items. */
    @Override
    public NDArray itemLosses(NDList labels, NDList predictions) {
        NDList baseLabels = baseLabels(labels);
        NDArray l = base.itemLosses(baseLabels, predictions);
        NDArray m = base.itemMask(baseLabels, predictions);
        NDArray w = variance(labels, l.getShape(), l, m).add(eps).pow(-1);
        NDArray count;
        if (m != null) {
            w = w.mul(m);
            count = m.sum().maximum(1);
        } else {
            count = w.getManager().create((float) l.getShape().size()).toType(w.getDataType(), false);
        }
        NDArray norm = w.sum().maximum(1e-30f).div(count);
        return l.mul(w).div(norm);
    }

    @Override
    public NDArray itemMask(NDList labels, NDList predictions) {
        return base.itemMask(baseLabels(labels), predictions);
    }

    /**
     * The per-item weights w'_i, normalised to mean 1 over unpadded items (0 at padded ones).
     *
     * @param labels the labels as given to {@link #evaluate}
     * @param predictions the predictions as given to {@link #evaluate}
     * @return the weights, item shape
     */
    public NDArray weights(NDList labels, NDList predictions) {
        NDList baseLabels = baseLabels(labels);
        NDArray m = base.itemMask(baseLabels, predictions);
        Shape item = base.itemShape(predictions);
        NDArray like = predictions.head();
        NDArray w = variance(labels, item, like, m).add(eps).pow(-1);
        if (m != null) {
            w = w.mul(m);
            return w.div(w.sum().maximum(1e-30f)).mul(m.sum().maximum(1));
        }
        return w.div(w.mean());
    }

    private NDList baseLabels(NDList labels) {
        ArgumentChecks.labelCount(getName(), labels, 2, "the base loss's labels followed by the teacher variance");
        return labels.subNDList(0, labels.size() - 1);
    }

    /** The per-item variance (item shape), 1 at padded items; value-checked at unpadded ones. */
    private NDArray variance(NDList labels, Shape item, NDArray like, NDArray mask) {
        NDArray v = rawVariance(labels, item, like);
        if (mask != null) {
            v = keepWhere(mask, v, 1);
        }
        if (isValidate()) {
            ArgumentChecks.nonNegative(getName() + ": teacher variance", v);
        }
        return v;
    }

    private NDArray rawVariance(NDList labels, Shape item, NDArray like) {
        NDArray v = labels.get(labels.size() - 1);
        if (v.getDataType() != like.getDataType()) {
            v = v.toType(like.getDataType(), false);
        }
        int r = item.dimension();
        if (source == VarianceSource.SAMPLES) {
            ArgumentChecks.minRank(getName() + ": teacher samples", v, 2);
            long k = ArgumentChecks.samplesK("teacher samples", v);
            Shape rest = v.getShape().slice(2);
            Shape afterVar = new Shape(v.getShape().get(0)).addAll(rest);
            if (afterVar.dimension() < r || !afterVar.slice(0, r).equals(item)) {
                throw new IllegalArgumentException(getName() + ": teacher samples " + v.getShape()
                        + " do not match the item shape " + item + " (expected " + item.get(0)
                        + ", k, then the item's other axes)");
            }
            int[] axes = new int[afterVar.dimension() - r + 1];
            axes[0] = 1;
            for (int i = 1; i < axes.length; i++) {
                axes[i] = r + i;
            }
            long count = Math.max(1, k - 1);
            for (int i = r; i < afterVar.dimension(); i++) {
                count *= afterVar.get(i);
            }
            NDArray centred = v.sub(v.mean(new int[] {1}, true));
            return centred.square().sum(axes).div(count);
        }
        Shape s = v.getShape();
        if (s.dimension() < r || !s.slice(0, r).equals(item)) {
            throw new IllegalArgumentException(getName() + ": teacher variance (last label) has shape " + s
                    + " but the items have shape " + item);
        }
        if (s.dimension() == r) {
            return v;
        }
        int[] axes = new int[s.dimension() - r];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = r + i;
        }
        return v.mean(axes);
    }

    /** @return the weighted loss */
    public DistillationLoss base() {
        return base;
    }

    /** @return eps */
    public double eps() {
        return eps;
    }

    /** @return where the variance comes from */
    public VarianceSource source() {
        return source;
    }

    /** The base loss's labels, then the per-item variance ({@code given}) or the samples ({@code samples}). */
    @Override
    public List<Label> labels() {
        List<Label> out = new java.util.ArrayList<>(base.labels());
        out.add(source == VarianceSource.GIVEN ? Label.ITEM_VARIANCE : Label.TEACHER_SAMPLES);
        return List.copyOf(out);
    }

    @Override
    public int predictionWidth(int targetWidth) {
        return base.predictionWidth(targetWidth);
    }
}

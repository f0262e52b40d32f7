package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Objects;

/**
 * Wrong-mass clipping (W-Clip) of Kim et al. 2026, "Trust the Uncertain Teacher: Distilling Dark Knowledge
 * via Calibrated Uncertainty" (CUD, arXiv 2602.12687): when the teacher's top-1 class is not the true
 * label, part of its mass moves to the label.
 *
 * <p>Formula, on the target p_i = base(samples)_i with label y_i and top-1 class k* = argmax_c p_ic:
 * <pre>
 *   if k* != y_i:   delta = min(budget, p_ik* - p_iy);   p_ik* -= delta;   p_iy += delta
 * </pre>
 * other entries and correctly-ranked items unchanged. The result stays on the simplex (mass moves, none is
 * made), and with budget 1 the label and the wrong top-1 swap their masses, so the label becomes top-1.
 * The other classes' mass, the dark knowledge, is kept as it is.
 *
 * <p>Composable: it reshapes the output of any base builder ({@link MeanTarget} by default, or
 * {@link BayesianMeanTarget}, {@link InverseVarianceTarget}, ...). It needs the labels, so call
 * {@link #build(NDArray, StudentEstimate, NDArray)}. ArgumentChecks: labels of shape (B) with ids in [0, C)
 * (always; the range check reads the labels to the host), budget in [0, 1]. Registry name
 * {@code wrong-mass-clip}, options {@code base} (a builder name or map) and {@code budget}.
 */
public final class WrongMassClipTarget implements TargetBuilder {
    private final TargetBuilder base;
    private final double budget;

    /**
     * Creates the builder on the mean of the samples.
     *
     * @param budget the most mass moved per item, in [0, 1]
     */
    public WrongMassClipTarget(double budget) {
        this(new MeanTarget(), budget);
    }

    /**
     * Creates the builder.
     *
     * @param base the builder whose targets are clipped
     * @param budget the most mass moved per item, in [0, 1]
     */
    public WrongMassClipTarget(TargetBuilder base, double budget) {
        this.base = Objects.requireNonNull(base, "base");
        ArgumentChecks.unitInterval("budget", budget);
        this.budget = budget;
    }

    /** Clips a distribution: the base builder's targets must be probabilities. */
    @Override
    public String outputSignal(String samples) {
        return "probabilities".equals(base.outputSignal(samples)) ? "probabilities" : null;
    }

    @Override
    public NDArray build(NDArray samples, StudentEstimate student) {
        throw new IllegalArgumentException("wrong-mass-clip needs the class labels: call build(samples, student, "
                + "labels), labels were not given");
    }

    @Override
    public NDArray build(NDArray samples, StudentEstimate student, NDArray labels) {
        if (labels == null) {
            return build(samples, student);
        }
        NDArray p = base.build(samples, student, labels);
        return clip(p, labels, budget);
    }

    /**
     * Applies the clip to given targets.
     *
     * @param p targets (B, C)
     * @param labels class ids (B)
     * @param budget the most mass moved per item, in [0, 1]
     * @return the clipped targets (B, C)
     */
    public static NDArray clip(NDArray p, NDArray labels, double budget) {
        ArgumentChecks.rank("targets", p, 2);
        ArgumentChecks.unitInterval("budget", budget);
        long b = p.getShape().get(0);
        long c = p.getShape().get(1);
        ArgumentChecks.shape("labels", labels, new ai.djl.ndarray.types.Shape(b));
        NDArray y = labels.getDataType() == DataType.INT64 ? labels : labels.toType(DataType.INT64, false);
        if (b > 0) {
            long min = y.min().getLong();
            long max = y.max().getLong();
            if (min < 0 || max >= c) {
                throw new IllegalArgumentException("labels must be in [0, " + c + "), got " + (min < 0 ? min : max));
            }
        }
        NDArray top = p.argMax(1);
        NDArray pTop = p.max(new int[] {1});
        NDArray pY = p.gather(y.expandDims(1), 1).squeeze(1);
        NDArray wrong = top.neq(y).toType(p.getDataType(), false);
        NDArray delta = pTop.sub(pY).minimum(budget).maximum(0).mul(wrong).expandDims(1);
        NDArray move = y.oneHot((int) c, p.getDataType()).sub(top.oneHot((int) c, p.getDataType()));
        return p.add(move.mul(delta));
    }

    /** @return the builder whose targets are clipped */
    public TargetBuilder base() {
        return base;
    }

    /** @return the budget */
    public double budget() {
        return budget;
    }

    @Override
    public boolean needsStudentEstimate() {
        return base.needsStudentEstimate();
    }

    @Override
    public boolean needsLabels() {
        return true;
    }

    @Override
    public String name() {
        return "wrong-mass-clip";
    }
}

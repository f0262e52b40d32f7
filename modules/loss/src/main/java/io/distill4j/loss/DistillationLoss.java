package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;

/**
 * A DJL {@link Loss} that is a mean of per-item losses, so that it can be reweighted per item (see
 * {@link InverseVarianceWeightedLoss}).
 *
 * <p>An <i>item</i> is one row of the batch (shape (B)) or one position of a sequence batch (shape
 * (B, T)); each subclass documents its item shape and the layout of its labels. The loss is
 * <pre>
 *   L = sum_i m_i l_i / max(1, sum_i m_i)
 * </pre>
 * where l_i are the {@link #itemLosses per-item losses} and m_i the optional padding mask (1 counted,
 * 0 padded; absent means all 1). Padded items contribute nothing, to the value or to the gradient: the
 * subclasses replace padded teacher entries by harmless values before computing, so that NaN or
 * infinite padding cannot leak through {@code 0 * NaN}.
 *
 * <h2>Validation</h2>
 * Shape, rank and hyperparameter checks are free and always run. Value checks (teacher probabilities on
 * the simplex, log-probabilities at most 0, variances non-negative, class ids in range) cost a reduction
 * and a device-to-host copy each; they run while {@link #isValidate()} is true, the default, and can be
 * switched off with {@link #setValidate(boolean)} (YAML option {@code validate: false}) once a pipeline is
 * trusted. Every failure is an {@link IllegalArgumentException} naming the argument and the value.
 */
public abstract class DistillationLoss extends Loss {

    /** Floor on teacher log-probabilities (log 1e-30), so that zero-probability entries stay finite. */
    public static final double LOG_FLOOR = Math.log(1e-30);

    private boolean validate = true;

    /**
     * Creates the loss.
     *
     * @param name the name DJL reports (and the registry uses)
     */
    protected DistillationLoss(String name) {
        super(name);
    }

    /**
     * The arrays this loss reads from its labels, in order (a padding mask may follow them). A label adapter
     * makes them from a teacher-cache batch and a target builder; see {@link Label}.
     *
     * @return the labels, in the order {@link #evaluate} reads them
     */
    public abstract java.util.List<Label> labels();

    /**
     * The width of the student's predictions for targets of a given width (most losses: the same).
     *
     * @param targetWidth C classes or D regression outputs
     * @return the student's output width
     */
    public int predictionWidth(int targetWidth) {
        return targetWidth;
    }

    /**
     * Computes the per-item losses, zero at padded items.
     *
     * @param labels the teacher signal, as the subclass documents
     * @param predictions the student's outputs
     * @return the per-item losses, shape {@link #itemShape}
     */
    public abstract NDArray itemLosses(NDList labels, NDList predictions);

    /**
     * The padding mask of the items, as a floating-point array of the item shape, or {@code null} when
     * every item counts.
     *
     * @param labels the labels as given to {@link #evaluate}
     * @param predictions the predictions as given to {@link #evaluate}
     * @return the mask or null
     */
    public NDArray itemMask(NDList labels, NDList predictions) {
        return null;
    }

    /**
     * The item shape for these predictions: by default all axes of the first prediction but the last.
     *
     * @param predictions the student's outputs
     * @return the item shape
     */
    public Shape itemShape(NDList predictions) {
        Shape s = predictions.head().getShape();
        return s.slice(0, s.dimension() - 1);
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray items = itemLosses(labels, predictions);
        NDArray mask = itemMask(labels, predictions);
        if (mask == null) {
            return items.mean();
        }
        return items.sum().div(mask.sum().maximum(1));
    }

    /**
     * The weighted sum of the per-item losses, sum_i c_i l_i, for coefficients c that the caller has already
     * normalised (and zeroed at padded items); {@link InverseVarianceWeightedLoss} calls it with
     * c_i = m_i w_i / sum_j m_j w_j. The default multiplies {@link #itemLosses}; a subclass may fold the
     * coefficients into its label-side arrays instead, for fewer operations on the gradient path, as long as
     * the value and gradient are the same.
     *
     * @param labels the labels as given to {@link #evaluate}
     * @param predictions the predictions as given to {@link #evaluate}
     * @param coefficients c, the item shape, no gradient
     * @return the scalar sum_i c_i l_i
     */
    public NDArray weightedSum(NDList labels, NDList predictions, NDArray coefficients) {
        return itemLosses(labels, predictions).mul(coefficients).sum();
    }

    /** @return whether value checks run (true by default) */
    public boolean isValidate() {
        return validate;
    }

    /**
     * Switches the value checks on or off.
     *
     * @param validate true to check values (default), false to skip them
     * @return this loss
     */
    public DistillationLoss setValidate(boolean validate) {
        this.validate = validate;
        return this;
    }

    // ---------------------------------------------------------------------------------------- helpers

    /**
     * The optional mask at {@code labels.get(index)}, checked against the item shape and converted to the
     * dtype of {@code like}; null when the labels are shorter.
     */
    static NDArray maskAt(String loss, NDList labels, int index, Shape itemShape, NDArray like) {
        if (labels.size() <= index) {
            return null;
        }
        NDArray m = labels.get(index);
        if (!m.getShape().equals(itemShape)) {
            throw new IllegalArgumentException(loss + ": padding mask (labels[" + index + "]) must have the item shape "
                    + itemShape + ", got " + m.getShape());
        }
        return m.getDataType() == like.getDataType() ? m : m.toType(like.getDataType(), false);
    }

    /** {@code x} where {@code keep} (broadcast along trailing axes) is non-zero, {@code fill} elsewhere. */
    static NDArray keepWhere(NDArray keep, NDArray x, double fill) {
        NDArray cond = keep.toType(DataType.BOOLEAN, false);
        while (cond.getShape().dimension() < x.getShape().dimension()) {
            cond = cond.expandDims(-1);
        }
        if (!cond.getShape().equals(x.getShape())) {
            cond = cond.broadcast(x.getShape());
        }
        NDArray f = x.getManager().full(x.getShape(), (float) fill, x.getDataType());
        return NDArrays.where(cond, x, f);
    }

    /** Integer class ids as INT64 with a trailing axis of 1, for {@code gather}. */
    static NDArray classIndex(String loss, NDArray y, Shape itemShape, long classes, NDArray mask, boolean validate) {
        if (!y.getShape().equals(itemShape)) {
            throw new IllegalArgumentException(loss + ": class labels have shape " + y.getShape()
                    + " but the predictions' item shape is " + itemShape);
        }
        NDArray idx = y.getDataType() == DataType.INT64 ? y : y.toType(DataType.INT64, false);
        if (mask != null) {
            idx = keepWhere(mask, idx, 0);
        }
        if (validate && idx.getShape().size() > 0) {
            long min = idx.min().getLong();
            long max = idx.max().getLong();
            if (min < 0 || max >= classes) {
                throw new IllegalArgumentException(loss + ": class labels must be in [0, " + classes + "), got "
                        + (min < 0 ? min : max));
            }
        }
        return idx.expandDims(-1);
    }

    /** Value checks of a dense teacher distribution in the given form, ignoring padded rows. */
    static void validateTeacher(String loss, NDArray teacher, TeacherForm form, NDArray mask) {
        switch (form) {
            case PROBABILITIES:
                ArgumentChecks.simplex(loss + ": teacher probabilities", teacher, mask);
                break;
            case LOG_PROBABILITIES: {
                NDArray kept = mask == null ? teacher : keepWhere(mask, teacher, 0);
                ArgumentChecks.logProbabilities(loss + ": teacher log-probabilities", kept);
                ArgumentChecks.simplex(loss + ": teacher log-probabilities (exponentiated)", kept.exp(), mask);
                break;
            }
            default:
                break;
        }
    }
}

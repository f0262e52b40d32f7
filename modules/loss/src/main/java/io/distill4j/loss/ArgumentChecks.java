package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Argument checks shared by target builders and losses; each failure is an {@link IllegalArgumentException}
 * that names the argument and the offending value.
 *
 * <p>Two kinds of check:
 * <ul>
 *   <li><b>metadata checks</b> (ranks, shapes, counts, hyperparameters): free, always run;</li>
 *   <li><b>value checks</b> (non-negative variances, probabilities on the simplex, log-probabilities
 *       at most 0): each costs a reduction over the array and one device-to-host copy of a scalar, so
 *       losses and builders run them only while their {@code validate} flag is on (the default).</li>
 * </ul>
 */
final class ArgumentChecks {

    /** Tolerance on |sum p - 1| for a probability vector. */
    static final double SIMPLEX_TOLERANCE = 1e-3;

    private ArgumentChecks() {
    }

    static void rank(String name, NDArray a, int rank) {
        if (a.getShape().dimension() != rank) {
            throw new IllegalArgumentException(name + " must have rank " + rank + ", got shape " + a.getShape());
        }
    }

    static void minRank(String name, NDArray a, int rank) {
        if (a.getShape().dimension() < rank) {
            throw new IllegalArgumentException(name + " must have rank at least " + rank + ", got shape " + a.getShape());
        }
    }

    static void sameShape(String nameA, NDArray a, String nameB, NDArray b) {
        if (!a.getShape().equals(b.getShape())) {
            throw new IllegalArgumentException(nameA + " has shape " + a.getShape() + " but " + nameB + " has shape "
                    + b.getShape());
        }
    }

    static void shape(String name, NDArray a, Shape expected) {
        if (!a.getShape().equals(expected)) {
            throw new IllegalArgumentException(name + " must have shape " + expected + ", got " + a.getShape());
        }
    }

    static void positive(String name, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(name + " must be positive and finite, got " + v);
        }
    }

    static void nonNegative(String name, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(name + " must be non-negative and finite, got " + v);
        }
    }

    static void unitInterval(String name, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1], got " + v);
        }
    }

    static void labelCount(String loss, NDList labels, int min, String layout) {
        if (labels == null || labels.size() < min) {
            throw new IllegalArgumentException(loss + ": labels must hold " + layout + ", got "
                    + (labels == null ? "null" : labels.size() + " arrays"));
        }
    }

    static void predictionCount(String loss, NDList predictions) {
        if (predictions == null || predictions.isEmpty()) {
            throw new IllegalArgumentException(loss + ": predictions must hold the student's output, got "
                    + (predictions == null ? "null" : "an empty list"));
        }
    }

    /** Checks that k (the number of samples on axis 1 of a (B, k, ...) array) is positive. */
    static long samplesK(String name, NDArray samples) {
        long k = samples.getShape().get(1);
        if (k <= 0) {
            throw new IllegalArgumentException("k (axis 1 of " + name + " " + samples.getShape()
                    + ") must be positive, got " + k);
        }
        return k;
    }

    /** Value check: every entry non-negative and not NaN (infinity allowed). */
    static void nonNegative(String name, NDArray a) {
        if (a.getShape().size() == 0) {
            return;
        }
        float min = f(a.min());
        if (!(min >= 0)) {
            throw new IllegalArgumentException(name + " must be non-negative and not NaN, got " + min + " at index "
                    + Arrays.toString(indexOf(a, a.min())));
        }
    }

    /**
     * Value check: every row along the last axis is a probability vector (entries in [0, 1], sum 1 within
     * {@link #SIMPLEX_TOLERANCE}).
     */
    static void simplex(String name, NDArray p) {
        simplex(name, p, null);
    }

    /**
     * As {@link #simplex(String, NDArray)}, ignoring the rows where {@code mask} (the shape of p without its
     * last axis) is 0; a null mask ignores none.
     */
    static void simplex(String name, NDArray p, NDArray mask) {
        if (p.getShape().size() == 0) {
            return;
        }
        if (mask != null) {
            p = DistillationLoss.keepWhere(mask, p, 0);
        }
        float min = f(p.min());
        if (!(min >= 0)) {
            throw new IllegalArgumentException(name + " must be probabilities on the simplex, but holds " + min
                    + " at index " + Arrays.toString(indexOf(p, p.min())));
        }
        NDArray dev = p.sum(new int[] {-1}).sub(1).abs();
        if (mask != null) {
            dev = DistillationLoss.keepWhere(mask, dev, 0);
        }
        float worst = f(dev.max());
        if (!(worst <= SIMPLEX_TOLERANCE)) {
            long[] at = indexOf(dev, dev.max());
            float sum = p.sum(new int[] {-1}).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).getFloat(at);
            throw new IllegalArgumentException(name + " must be probabilities on the simplex, but the row at index "
                    + Arrays.toString(at) + " sums to " + sum);
        }
    }

    /** Value check: log-probabilities (entries at most 0 within float rounding, NaN rejected). */
    static void logProbabilities(String name, NDArray lp) {
        if (lp.getShape().size() == 0) {
            return;
        }
        float max = f(lp.max());
        if (!(max <= 1e-4) || Float.isNaN(f(lp.sum()))) {
            float shown = Float.isNaN(max) ? Float.NaN : max;
            throw new IllegalArgumentException(name + " must be log-probabilities (at most 0, not NaN), got " + shown
                    + " at index " + Arrays.toString(indexOf(lp, lp.max())));
        }
    }

    /** A scalar array's value as a float, whatever its floating-point type. */
    static float f(NDArray scalar) {
        return scalar.getDataType() == ai.djl.ndarray.types.DataType.FLOAT32 ? scalar.getFloat()
                : scalar.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).getFloat();
    }

    /** The multi-index of the first entry of {@code a} equal to the scalar {@code value} (or NaN). */
    private static long[] indexOf(NDArray a, NDArray value) {
        float v = f(value);
        float[] flat = a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        int at = 0;
        for (int i = 0; i < flat.length; i++) {
            if (flat[i] == v || (Float.isNaN(v) && Float.isNaN(flat[i]))) {
                at = i;
                break;
            }
        }
        long[] shape = a.getShape().getShape();
        long[] idx = new long[shape.length];
        long rest = at;
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = rest % shape[d];
            rest /= shape[d];
        }
        return idx;
    }
}

package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * A per-item exponential moving average of the student's predictions and of their spread: the
 * "EMA copy" source of the student estimate for {@link InverseVarianceTarget} in its practical form.
 *
 * <p>Update for item i with a new prediction x (Finch 2009, "Incremental calculation of weighted mean and
 * variance"), smoothing alpha in (0, 1]:
 * <pre>
 *   d = x - mu_i;   mu_i += alpha * d;   S_i = (1 - alpha) * (S_i + alpha * d^2)
 * </pre>
 * At an item's first prediction mu_i = x and S_i = S_0 (the initial spread, 0 by default). S_i estimates the
 * variance of the predictions around the average. What the estimate reports as var_S is chosen by
 * {@link Variance}:
 * <ul>
 *   <li>{@link Variance#OF_MEAN} (the default): S_i * alpha / (2 - alpha), the variance of an exponentially weighted
 *       mean of independent draws of variance S_i; items seen fewer than twice have var_S = +infinity, so
 *       inverse-variance fusion gives them weight 0 and trusts the teacher alone;</li>
 *   <li>{@link Variance#SPREAD}: S_i itself from the first prediction on, the spread of the student's recent
 *       predictions (Cui &amp; Pei's practical variant as the ffn experiment runs it, with S_0 = 1, the variance of a
 *       standardised target).</li>
 * </ul>
 * Feed it the predictions of the live student or of an EMA-of-weights copy, whichever the trainer keeps.
 *
 * <p>The table lives on the Java heap (items x width floats); methods are synchronized.
 */
public final class EmaStudentEstimate {

    /** What an estimate reports as the student's variance. */
    public enum Variance {
        /** S alpha / (2 - alpha), +infinity until an item has been seen twice. */
        OF_MEAN,
        /** S itself, from the first prediction on. */
        SPREAD
    }

    private final int items;
    private final int width;
    private final double alpha;
    private final Variance variance;
    private final float initialSpread;
    private final float[] mean;
    private final float[] spread;
    private final int[] seen;

    /**
     * Creates an empty table.
     *
     * @param items the number of items in the dataset, positive
     * @param width the number of outputs per item, positive
     * @param alpha the smoothing weight of a new prediction, in (0, 1]
     */
    public EmaStudentEstimate(int items, int width, double alpha) {
        this(items, width, alpha, Variance.OF_MEAN, 0);
    }

    /**
     * Creates an empty table that reports a chosen variance.
     *
     * @param items the number of items in the dataset, positive
     * @param width the number of outputs per item, positive
     * @param alpha the smoothing weight of a new prediction, in (0, 1]
     * @param variance what var_S is
     * @param initialSpread S at an item's first prediction, finite and non-negative
     */
    public EmaStudentEstimate(int items, int width, double alpha, Variance variance, double initialSpread) {
        if (items <= 0) {
            throw new IllegalArgumentException("items must be positive, got " + items);
        }
        if (width <= 0) {
            throw new IllegalArgumentException("width must be positive, got " + width);
        }
        if (!(alpha > 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1], got " + alpha);
        }
        if (!(initialSpread >= 0) || Double.isInfinite(initialSpread)) {
            throw new IllegalArgumentException("initialSpread must be finite and >= 0, got " + initialSpread);
        }
        this.items = items;
        this.width = width;
        this.alpha = alpha;
        this.variance = java.util.Objects.requireNonNull(variance, "variance");
        this.initialSpread = (float) initialSpread;
        this.mean = new float[Math.multiplyExact(items, width)];
        this.spread = new float[mean.length];
        this.seen = new int[items];
    }

    /**
     * Folds a batch of predictions into the table.
     *
     * @param itemIds the dataset indices of the batch's items (B)
     * @param predictions the student's outputs (B, width), detached or not (the values are copied)
     */
    public synchronized void update(long[] itemIds, NDArray predictions) {
        ArgumentChecks.shape("predictions", predictions, new Shape(itemIds.length, width));
        float[] x = predictions.toType(DataType.FLOAT32, false).toFloatArray();
        for (int b = 0; b < itemIds.length; b++) {
            int i = item(itemIds[b]);
            int off = i * width;
            if (seen[i] == 0) {
                System.arraycopy(x, b * width, mean, off, width);
                java.util.Arrays.fill(spread, off, off + width, initialSpread);
            } else {
                for (int c = 0; c < width; c++) {
                    double d = x[b * width + c] - mean[off + c];
                    mean[off + c] += (float) (alpha * d);
                    spread[off + c] = (float) ((1 - alpha) * (spread[off + c] + alpha * d * d));
                }
            }
            if (seen[i] < Integer.MAX_VALUE) {
                seen[i]++;
            }
        }
    }

    /**
     * The current estimate for a batch of items.
     *
     * @param itemIds the dataset indices (B)
     * @param manager where to create the arrays
     * @return mu_S and var_S, both (B, width) float32
     */
    public synchronized StudentEstimate estimate(long[] itemIds, NDManager manager) {
        float[] mu = new float[itemIds.length * width];
        float[] var = new float[mu.length];
        double factor = alpha / (2 - alpha);
        for (int b = 0; b < itemIds.length; b++) {
            int i = item(itemIds[b]);
            int off = i * width;
            System.arraycopy(mean, off, mu, b * width, width);
            for (int c = 0; c < width; c++) {
                if (variance == Variance.SPREAD) {
                    var[b * width + c] = seen[i] == 0 ? Float.POSITIVE_INFINITY : spread[off + c];
                } else {
                    var[b * width + c] = seen[i] < 2 ? Float.POSITIVE_INFINITY : (float) (spread[off + c] * factor);
                }
            }
        }
        Shape s = new Shape(itemIds.length, width);
        return new StudentEstimate(manager.create(mu, s), manager.create(var, s));
    }

    /**
     * How many predictions of an item have been folded in.
     *
     * @param itemId the dataset index
     * @return the count
     */
    public synchronized int seen(long itemId) {
        return seen[item(itemId)];
    }

    private int item(long id) {
        if (id < 0 || id >= items) {
            throw new IllegalArgumentException("item id must be in [0, " + items + "), got " + id);
        }
        return (int) id;
    }
}

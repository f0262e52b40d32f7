package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Additive attention masks: 0 where query i may attend key j, {@link #BLOCKED} where it may not.
 *
 * <p>With segment ids (one id per packed document, 0 for padding), query i may attend key j when
 * {@code seg[i] == seg[j]} and, for causal models, {@code j <= i}. Every query may attend itself, so no row is
 * fully blocked and the softmax never produces NaN; padding attends only padding and no real token
 * attends padding. A blocked score becomes exactly 0 after the softmax (exp(-1e30) underflows), so the
 * outputs at position t are bit-identical whatever the tokens after t (or in other segments) are.
 */
final class AttentionMasks {
    /** The additive value of a blocked (query, key) pair; finite so that sums never produce NaN. */
    static final float BLOCKED = -1e30f;

    private AttentionMasks() {
    }

    /**
     * The causal mask of length t.
     *
     * @param manager where the constant lives
     * @param t sequence length
     * @return (1, 1, t, t) float32
     */
    static NDArray causal(NDManager manager, int t) {
        float[] m = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                m[i * t + j] = BLOCKED;
            }
        }
        return manager.create(m, new Shape(1, 1, t, t));
    }

    /**
     * The boolean lower triangle of length t (true where j <= i).
     *
     * @param manager where the constant lives
     * @param t sequence length
     * @return (t, t) boolean
     */
    static NDArray lowerTriangle(NDManager manager, int t) {
        boolean[] m = new boolean[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j <= i; j++) {
                m[i * t + j] = true;
            }
        }
        return manager.create(m, new Shape(t, t));
    }

    /**
     * The mask of a batch of packed or padded rows.
     *
     * @param segments (B, T) integer segment ids, 0 for padding
     * @param lowerTriangle the (T, T) boolean lower triangle for causal models, or null for bidirectional
     * @return (B, 1, T, T) float32, attached to {@code segments}' manager
     */
    static NDArray fromSegments(NDArray segments, NDArray lowerTriangle) {
        NDArray same = segments.expandDims(2).eq(segments.expandDims(1));
        if (lowerTriangle != null) {
            same = same.logicalAnd(lowerTriangle);
        }
        return same.toType(DataType.FLOAT32, false).sub(1f).mul(-BLOCKED).expandDims(1);
    }
}

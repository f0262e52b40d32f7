package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;

/**
 * What every attention layer of one forward pass shares.
 *
 * @param mask additive mask, 0 where a query may attend a key and {@link AttentionMasks#BLOCKED} where it may
 *     not, broadcastable to (B, heads, T, T); null for full attention
 * @param cos rotary cosines broadcastable to (B, heads, T, head_dim), or null without rotary positions
 * @param sin rotary sines, same shape as {@code cos}, or null
 */
record AttentionContext(NDArray mask, NDArray cos, NDArray sin) {
}

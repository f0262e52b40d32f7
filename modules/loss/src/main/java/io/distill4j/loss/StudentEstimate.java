package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * The student's own estimate of an item's target and the variance of that estimate, used by
 * inverse-variance fusion.
 *
 * @param mean the estimate, shape (B, C)
 * @param variance its variance, shape (B, C), non-negative
 */
public record StudentEstimate(NDArray mean, NDArray variance) {
}

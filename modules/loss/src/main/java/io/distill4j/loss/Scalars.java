package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Scalars for operations whose backward pass reads them ({@code x * c}, {@code x / c}, {@code x ^ c},
 * {@code max(x, c)}), as arrays that libtorch owns.
 *
 * <p>Why: DJL's {@code NDArray.mul(Number)} (likewise {@code div}, {@code pow}, {@code maximum},
 * {@code minimum}) makes the scalar with {@code manager.create(Number)} and closes it right after the op. On
 * the CPU that array's memory is a Java direct buffer lent to libtorch without a copy ({@code from_blob}),
 * while autograd keeps the tensor for the backward pass. Once the closed array is collected, its buffer is
 * freed and the backward pass reads whatever memory took its place: gradients that are silently wrong, or
 * NaN, whenever a garbage collection falls between forward and backward (found through the {@code llm}
 * experiment's random NaN gradients; reproduced in {@code ScalarsTest}). {@code manager.full} allocates in
 * libtorch instead, so the saved tensor keeps its own memory. Use these in every computation that is
 * differentiated.
 */
public final class Scalars {

    private Scalars() {
    }

    /**
     * A 0-d array holding v (exactly for float64 arrays, else rounded to the type), owned by libtorch, with {@code like}'s type, device and manager.
     *
     * @param like the array the scalar is combined with
     * @param v the value
     * @return the scalar
     */
    public static NDArray of(NDArray like, double v) {
        if (like.getDataType() == DataType.FLOAT64) {
            // full() takes a float; 0 + v in float64 keeps every bit of v (the result is libtorch's own tensor,
            // and add's backward does not read its scalar)
            return like.getManager().full(new Shape(), 0f, DataType.FLOAT64).add(v);
        }
        return like.getManager().full(new Shape(), (float) v, like.getDataType());
    }

    /**
     * x * c, differentiable safely.
     *
     * @param x the array
     * @param c the factor
     * @return the product
     */
    public static NDArray mul(NDArray x, double c) {
        return x.mul(of(x, c));
    }

    /**
     * x / c, differentiable safely.
     *
     * @param x the array
     * @param c the divisor
     * @return the quotient
     */
    public static NDArray div(NDArray x, double c) {
        return x.div(of(x, c));
    }

    /**
     * x ^ c, differentiable safely.
     *
     * @param x the array
     * @param c the exponent
     * @return the power
     */
    public static NDArray pow(NDArray x, double c) {
        return x.pow(of(x, c));
    }

    /**
     * max(x, c) elementwise, differentiable safely.
     *
     * @param x the array
     * @param c the lower bound
     * @return the maximum
     */
    public static NDArray maximum(NDArray x, double c) {
        return x.maximum(of(x, c));
    }
}

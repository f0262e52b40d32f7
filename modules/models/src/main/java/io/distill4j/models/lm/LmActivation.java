package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import java.util.Locale;
import io.distill4j.loss.Scalars;

/** The MLP activations of the causal-LM families, under their Hugging Face names. */
public enum LmActivation {
    /** Exact GELU, x * Phi(x) (Hugging Face {@code gelu}); one fused libtorch kernel. */
    GELU("gelu"),
    /**
     * Tanh-approximated GELU, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), GPT-2's own activation
     * (Hugging Face {@code gelu_new}, also {@code gelu_pytorch_tanh} and {@code gelu_fast}).
     */
    GELU_TANH("gelu_new"),
    /** ReLU, max(0, x). */
    RELU("relu"),
    /** SiLU (swish), x * sigmoid(x): the gate activation of Llama's SwiGLU. */
    SILU("silu");

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    private final String hfName;

    LmActivation(String hfName) {
        this.hfName = hfName;
    }

    /** @return the name written to a Hugging Face config */
    public String hfName() {
        return hfName;
    }

    /**
     * Applies the activation.
     *
     * @param x the input
     * @return the activated array, attached to {@code x}'s manager
     */
    public NDArray apply(NDArray x) {
        switch (this) {
            case GELU:
                return x.getNDArrayInternal().gelu();
            case GELU_TANH: {
                // no in-place ops: autograd keeps tanh's output for the backward pass. The cube sees x clipped to
                // [-10, 10]: the same values (tanh is saturated to +-1 in float32 beyond |x| = 10 either way), but
                // the composite's backward no longer forms 0 * inf = NaN for |x| >= 1.8e19 (x^2 overflows).
                // constants through Scalars: DJL's mul(Number) lends libtorch a Java buffer that is freed before backward
                NDArray inner = Scalars.mul(Scalars.mul(Scalars.pow(x.clip(-10, 10), 3), 0.044715).add(x), SQRT_2_OVER_PI)
                        .tanh();
                return Scalars.mul(inner.add(1).mul(x), 0.5);
            }
            case RELU:
                return x.getNDArrayInternal().relu();
            case SILU:
                return x.getNDArrayInternal().sigmoid().mul(x);
            default:
                throw new AssertionError(this);
        }
    }

    /**
     * Finds an activation by its Hugging Face name.
     *
     * @param name e.g. {@code gelu}, {@code gelu_new}, {@code gelu_pytorch_tanh}, {@code relu}, {@code silu}
     * @return the activation
     * @throws IllegalArgumentException for an unsupported name
     */
    public static LmActivation ofHfName(String name) {
        switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "gelu":
                return GELU;
            case "gelu_new":
            case "gelu_pytorch_tanh":
            case "gelu_fast":
                return GELU_TANH;
            case "relu":
                return RELU;
            case "silu":
            case "swish":
                return SILU;
            default:
                throw new IllegalArgumentException("activation must be one of gelu, gelu_new, gelu_pytorch_tanh, "
                        + "gelu_fast, relu, silu; got '" + name + "'");
        }
    }
}

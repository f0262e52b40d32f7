package io.distill4j.data;

/**
 * The {@code uint8-scaled} encoding of one response position's top-K log-probabilities.
 *
 * <p>The K log-probabilities are sorted in descending order (all at most 0). With
 * {@code s = -min_r lp_r / 255} (the position's {@code logprob_scale}, float32) each is stored as
 * {@code q_r = round(-lp_r / s)} in {@code [0, 255]} and decoded as {@code lp_r = -q_r * s}. The absolute
 * error is at most {@code s / 2 = |min_r lp_r| / 510} (plus float32 rounding): for example 0.02 nats when the
 * K-th log-probability is -10. When every log-probability is 0, {@code s = 0} and every {@code q} is 0.
 */
public final class LogprobQuantizer {
    private LogprobQuantizer() {
    }

    /**
     * Computes the scale of one position.
     *
     * @param lp log-probabilities of one position
     * @param off first index
     * @param k count
     * @return {@code -min lp / 255}, or 0
     */
    public static float scale(float[] lp, int off, int k) {
        float min = 0;
        for (int r = 0; r < k; r++) {
            min = Math.min(min, lp[off + r]);
        }
        return -min / 255f;
    }

    /**
     * Quantises one log-probability.
     *
     * @param lp the log-probability, at most 0
     * @param scale the position's scale
     * @return the code in [0, 255]
     */
    public static int quantize(float lp, float scale) {
        if (scale == 0) {
            return 0;
        }
        long q = Math.round(-lp / (double) scale);
        return (int) Math.max(0, Math.min(255, q));
    }

    /**
     * Decodes one code.
     *
     * @param q the code, 0 to 255
     * @param scale the position's scale
     * @return the log-probability
     */
    public static float dequantize(int q, float scale) {
        return -q * scale;
    }

    /**
     * The guaranteed bound of the absolute decoding error for a position of the given scale.
     *
     * @param scale the position's scale
     * @return {@code scale / 2} plus float32 rounding of the product
     */
    public static double errorBound(float scale) {
        return scale / 2.0 + 255.0 * scale * Math.ulp(1f);
    }
}

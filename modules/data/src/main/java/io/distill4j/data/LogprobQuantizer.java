package io.distill4j.data;

/**
 * The {@code uint8-sqrt} encoding of one response position's top-K log-probabilities.
 *
 * <p>The K log-probabilities {@code lp_0 >= lp_1 >= ... >= lp_{K-1}} (descending, all at most 0) are stored
 * as the top one exactly ({@code logprob_top = lp_0}, float32), the spread {@code D = lp_0 - lp_{K-1}}
 * ({@code logprob_scale}, float32), and one byte per rank,
 * {@code q_r = round(255 * sqrt((lp_0 - lp_r) / D))}; decoding is {@code lp_r = lp_0 - D * (q_r / 255)^2}.
 * The square root spends the codes where the probability mass is: rank 0 is exact, and the absolute error
 * of rank r is at most {@code sqrt(D * d_r) / 255 + D / 260100} with {@code d_r = lp_0 - lp_r} (plus
 * float32 rounding), for example 0.0124 nats for a token 1 nat below the top when D = 10. When D = 0 every
 * code is 0.
 */
public final class LogprobQuantizer {
    private LogprobQuantizer() {
    }

    /**
     * Encodes one log-probability.
     *
     * @param lp the log-probability
     * @param top the position's top log-probability {@code lp_0}
     * @param spread the position's spread D
     * @return the code in [0, 255]
     */
    public static int quantize(float lp, float top, float spread) {
        if (spread <= 0) {
            return 0;
        }
        double x = Math.sqrt(Math.max(0, (top - (double) lp) / spread));
        return (int) Math.max(0, Math.min(255, Math.round(255 * x)));
    }

    /**
     * Decodes one code.
     *
     * @param q the code, 0 to 255
     * @param top the position's top log-probability
     * @param spread the position's spread D
     * @return the log-probability
     */
    public static float dequantize(int q, float top, float spread) {
        double x = q / 255.0;
        return (float) (top - spread * x * x);
    }

    /**
     * The guaranteed bound of the absolute decoding error of one rank.
     *
     * @param lp the true log-probability
     * @param top the position's top log-probability
     * @param spread the position's spread D
     * @return {@code sqrt(D * (top - lp)) / 255 + D / 260100}, plus float32 rounding
     */
    public static double errorBound(double lp, double top, double spread) {
        return Math.sqrt(spread * Math.max(0, top - lp)) / 255 + spread / 260100 + 4 * Math.ulp((float) Math.abs(lp) + 1f);
    }
}

package io.distill4j.teacher.http;

import java.util.Arrays;

/**
 * One generated position of a sampled response: the sampled token and the teacher's top-K alternatives.
 *
 * @param id the sampled token's id in the teacher's vocabulary, or -1 when the server did not say
 * @param token the sampled token's text as the server returned it
 * @param logprob the sampled token's log-probability
 * @param topIds the top-K token ids, most probable first (-1 where the server gave no id)
 * @param topTokens the top-K token texts, same order
 * @param topLogprobs the top-K log-probabilities, non-increasing
 */
public record TokenStep(int id, String token, float logprob, int[] topIds, String[] topTokens, float[] topLogprobs) {

    /** Checks that the top-K arrays agree in length and copies them. */
    public TokenStep {
        if (topIds.length != topTokens.length || topIds.length != topLogprobs.length) {
            throw new IllegalArgumentException("top-K arrays differ in length: ids " + topIds.length + ", tokens "
                    + topTokens.length + ", logprobs " + topLogprobs.length);
        }
        topIds = topIds.clone();
        topTokens = topTokens.clone();
        topLogprobs = topLogprobs.clone();
    }

    /** @return K, the number of alternatives recorded */
    public int topK() {
        return topIds.length;
    }

    /**
     * The log of the probability mass outside the top-K (the tail bucket):
     * {@code log(1 - sum_k exp(topLogprobs[k]))}, computed in double precision. When the top-K hold all the
     * mass (up to rounding) the tail is empty and the result is {@code -Infinity}.
     *
     * @return the log tail mass, at most 0
     */
    public double tailLogMass() {
        double sum = 0;
        for (float lp : topLogprobs) {
            sum += Math.exp(lp);
        }
        return sum >= 1 ? Double.NEGATIVE_INFINITY : Math.log1p(-sum);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenStep t && id == t.id && token.equals(t.token) && Float.compare(logprob, t.logprob) == 0
                && Arrays.equals(topIds, t.topIds) && Arrays.equals(topTokens, t.topTokens)
                && Arrays.equals(topLogprobs, t.topLogprobs);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Integer.hashCode(id) + token.hashCode()) + Arrays.hashCode(topLogprobs);
    }

    @Override
    public String toString() {
        return "TokenStep[id=" + id + ", token=" + token + ", logprob=" + logprob + ", top=" + Arrays.toString(topTokens) + "]";
    }
}

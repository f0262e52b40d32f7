package io.distill4j.data;

import java.util.Objects;

/**
 * One sampled response of a language-model teacher with its per-position top-K distribution.
 *
 * <p>For a response of T tokens: {@code tokens[t]} is the sampled token at position t;
 * {@code topIds[t*K + r]} and {@code topLogprobs[t*K + r]} are the rank-r token id and its natural-log
 * probability at position t; {@code tailLogMass[t]} is {@code log(1 - sum_r exp(topLogprobs[t*K + r]))},
 * the log of the probability outside the top-K (negative infinity when none is left).
 *
 * @param tokens the sampled response, T ids
 * @param topIds T*K ids, position-major
 * @param topLogprobs T*K log-probabilities, position-major
 * @param tailLogMass T tail log-masses, or {@code null} to have the writer compute them from the top-K
 */
public record SequenceSample(int[] tokens, int[] topIds, float[] topLogprobs, float[] tailLogMass) {

    /** Checks that the arrays are present. */
    public SequenceSample {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(topIds, "topIds");
        Objects.requireNonNull(topLogprobs, "topLogprobs");
    }

    /** @return the response length T */
    public int length() {
        return tokens.length;
    }
}

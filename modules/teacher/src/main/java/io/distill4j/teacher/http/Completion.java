package io.distill4j.teacher.http;

import java.util.List;

/**
 * One sampled response of a prompt.
 *
 * @param text the generated text
 * @param steps one entry per generated token, with its top-K alternatives
 * @param finishReason why generation stopped ({@code stop}, {@code length}, ...), or empty when not given
 * @param seed the seed the request carried
 */
public record Completion(String text, List<TokenStep> steps, String finishReason, long seed) {

    /** Copies the steps. */
    public Completion {
        steps = List.copyOf(steps);
    }

    /** @return the sampled token ids, in order (-1 where the server gave none) */
    public int[] tokenIds() {
        return steps.stream().mapToInt(TokenStep::id).toArray();
    }
}

package io.distill4j.teacher.http;

import java.util.List;

/**
 * The k sampled responses of one prompt.
 *
 * @param item the prompt's index in the run's prompt list
 * @param prompt the prompt text
 * @param completions the k responses, in sample order
 */
public record PromptSamples(long item, String prompt, List<Completion> completions) {

    /** Copies the responses. */
    public PromptSamples {
        completions = List.copyOf(completions);
    }
}

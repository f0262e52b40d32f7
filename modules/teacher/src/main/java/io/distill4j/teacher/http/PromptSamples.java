package io.distill4j.teacher.http;

import java.util.List;

/**
 * The k sampled responses of one prompt.
 *
 * @param item the prompt's index in the run's prompt list
 * @param prompt the prompt text
 * @param completions the k responses, in sample order
 * @param promptIds the prompt's token ids as the server tokenizes it (special tokens added), or null when
 *     they were not asked for
 */
public record PromptSamples(long item, String prompt, List<Completion> completions, int[] promptIds) {

    /** Copies the responses and ids. */
    public PromptSamples {
        completions = List.copyOf(completions);
        promptIds = promptIds == null ? null : promptIds.clone();
    }

    /**
     * Creates the samples without prompt ids.
     *
     * @param item the prompt's index
     * @param prompt the prompt text
     * @param completions the k responses
     */
    public PromptSamples(long item, String prompt, List<Completion> completions) {
        this(item, prompt, completions, null);
    }
}

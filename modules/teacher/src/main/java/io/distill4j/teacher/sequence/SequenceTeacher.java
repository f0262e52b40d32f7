package io.distill4j.teacher.sequence;

import io.distill4j.data.SequenceItem;
import io.distill4j.teacher.SampleProgress;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A language-model teacher: k sampled responses per prompt, each with the teacher's per-position top-K
 * log-probabilities, as {@link SequenceItem}s for a sequence cache.
 */
public interface SequenceTeacher {

    /** @return responses per prompt, positive */
    int k();

    /** @return the teacher's vocabulary size V: every token id is in [0, V) */
    int vocabularySize();

    /** @return K, the alternatives recorded per position */
    int topK();

    /**
     * The teacher's provenance, recorded in the cache and compared when a cache is resumed; it identifies
     * the tokenizer, so a cache is never continued with another tokenizer's ids.
     *
     * @return JSON-serialisable settings
     */
    Map<String, Object> provenance();

    /**
     * Samples every prompt from {@code prompts[from]} on and hands each item to the sink in prompt order.
     *
     * @param prompts all prompts of the run
     * @param from the first prompt to sample (the items a resumed cache already holds)
     * @param sink receives each item (prompt token ids and k responses), in order, on the calling thread
     * @param progress told the number of prompts done after each one
     */
    void sample(List<String> prompts, long from, Consumer<SequenceItem> sink, SampleProgress progress);
}

package io.distill4j.data;

import java.util.List;

/**
 * One item of a sequence cache: the prompt and the teacher's k sampled responses.
 *
 * @param item the item index
 * @param prompt the prompt's token ids
 * @param samples the k responses, in sample order
 */
public record SequenceItem(long item, int[] prompt, List<SequenceSample> samples) {
    /** Copies the sample list. */
    public SequenceItem {
        samples = List.copyOf(samples);
    }
}

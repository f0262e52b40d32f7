package io.distill4j.trainer.lm;


import io.distill4j.models.lm.LmExample;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns rows of a sequence cache ({@link io.distill4j.data.SequenceCacheReader}: a prompt and k sampled
 * responses with per-position top-K log-probabilities) into {@link LmExample}s for {@link LmFineTuner}:
 * supervised examples (loss on the response tokens only) or token-level distillation examples carrying the
 * cached top-K distribution and tail mass of every response position. The cached (8-bit quantised)
 * top-K log-probabilities are renormalised against the stored tail, see {@link #topK(SequenceItem, int, int)}.
 */
public final class SequenceCacheExamples {
    private SequenceCacheExamples() {
    }

    /**
     * One response as a supervised example: the item's prompt and the response's tokens as the answer.
     *
     * @param item a cache row
     * @param sample the response's index, in [0, k)
     * @return the example, without teacher distributions
     * @throws IllegalArgumentException if the index is out of range or the response is empty
     */
    public static LmExample sft(SequenceItem item, int sample) {
        return sft(item.item(), sample, item.prompt(), response(item, sample));
    }

    /**
     * One response read on its own ({@link io.distill4j.data.SequenceCacheReader#read(long, int)}) as a supervised
     * example, as {@link #sft(SequenceItem, int)} makes it.
     *
     * @param item the item's index, for messages
     * @param sample the response's index, for messages
     * @param prompt the item's prompt
     * @param s the response
     * @return the example
     * @throws IllegalArgumentException if the response is empty
     */
    public static LmExample sft(long item, int sample, int[] prompt, SequenceSample s) {
        nonEmpty(item, sample, s);
        return LmExample.of(prompt, s.tokens());
    }

    /**
     * One response as a token-level distillation example: the answer is the response's tokens and, at each
     * of its positions, the teacher's cached top-K ids, log-probabilities and tail log-mass (computed as
     * log(1 - sum exp(top-K)) where the cache row has none).
     *
     * @param item a cache row
     * @param sample the response's index, in [0, k)
     * @param topK K, the cache's top-K width, positive
     * @return the example with its {@link LmExample.TopK}
     * @throws IllegalArgumentException if the index is out of range, the response is empty or its arrays do
     *     not hold K entries per position
     */
    public static LmExample topK(SequenceItem item, int sample, int topK) {
        return topK(item.item(), sample, item.prompt(), response(item, sample), topK);
    }

    /**
     * One response read on its own ({@link io.distill4j.data.SequenceCacheReader#read(long, int)}) as a token-level
     * distillation example, as {@link #topK(SequenceItem, int, int)} makes it.
     *
     * @param item the item's index, for messages
     * @param sample the response's index, for messages
     * @param prompt the item's prompt
     * @param s the response
     * @param topK K, the cache's top-K width, positive
     * @return the example with its {@link LmExample.TopK}
     * @throws IllegalArgumentException if the response is empty or its arrays do not hold K entries per position
     */
    public static LmExample topK(long item, int sample, int[] prompt, SequenceSample s, int topK) {
        nonEmpty(item, sample, s);
        int n = s.length();
        if (topK <= 0 || s.topIds().length != n * topK || s.topLogprobs().length != n * topK) {
            throw new IllegalArgumentException("item " + item + ", response " + sample + ": expected " + n + " x "
                    + topK + " top-K entries, got " + s.topIds().length + " ids and " + s.topLogprobs().length
                    + " log-probabilities");
        }
        float[] tail = s.tailLogMass();
        float[] lp = s.topLogprobs().clone();
        if (tail == null) {
            tail = new float[n];
            for (int p = 0; p < n; p++) {
                double mass = 0;
                for (int r = 0; r < topK; r++) {
                    mass += Math.exp(lp[p * topK + r]);
                }
                tail[p] = mass >= 1 ? Float.NEGATIVE_INFINITY : (float) Math.log1p(-mass);
            }
        } else {
            tail = tail.clone();
        }
        for (int p = 0; p < n; p++) {
            renormalise(lp, p * topK, topK, tail[p], item, sample);
        }
        return new LmExample(prompt, s.tokens(), new LmExample.TopK(topK, s.topIds(), lp, tail));
    }

    /**
     * Shifts one position's top-K log-probabilities by a common constant so that their mass is exactly
     * 1 - exp(tail): a cache stores the log-probabilities quantised to 8 bits
     * ({@link io.distill4j.data.LogprobQuantizer}, up to about 0.01 nats off) but the tail log-mass as float32,
     * so decoded rows can miss a total mass of 1 by more than {@link LmExample.TopK#MASS_TOLERANCE}. The shift
     * keeps the ranks and ratios the cache recorded and the tail exactly as stored.
     */
    static void renormalise(float[] lp, int from, int topK, float tail, long item, int sample) {
        double mass = 0;
        for (int r = 0; r < topK; r++) {
            mass += Math.exp(lp[from + r]);
        }
        double want = tail == Float.NEGATIVE_INFINITY ? 1 : -Math.expm1(tail);
        if (!(mass > 0) || !(want > 0)) {
            throw new IllegalArgumentException("item " + item + ", response " + sample + ": top-K mass " + mass
                    + " with tail log-mass " + tail + " cannot be renormalised");
        }
        double shift = Math.log(want / mass);
        for (int r = 0; r < topK; r++) {
            lp[from + r] = (float) Math.min(0, lp[from + r] + shift);
        }
    }

    /**
     * The first {@code count} responses of each item as supervised examples (item order, then response
     * order): the multi-response training set.
     *
     * @param items cache rows
     * @param count responses per item, in [1, k]
     * @return the examples
     */
    public static List<LmExample> sft(List<SequenceItem> items, int count) {
        List<LmExample> out = new ArrayList<>(items.size() * count);
        for (SequenceItem it : items) {
            for (int j = 0; j < count; j++) {
                out.add(sft(it, j));
            }
        }
        return out;
    }

    /**
     * The first {@code count} responses of each item as token-level distillation examples.
     *
     * @param items cache rows
     * @param count responses per item, in [1, k]
     * @param topK the cache's K
     * @return the examples
     */
    public static List<LmExample> topK(List<SequenceItem> items, int count, int topK) {
        List<LmExample> out = new ArrayList<>(items.size() * count);
        for (SequenceItem it : items) {
            for (int j = 0; j < count; j++) {
                out.add(topK(it, j, topK));
            }
        }
        return out;
    }

    private static SequenceSample response(SequenceItem item, int sample) {
        if (sample < 0 || sample >= item.samples().size()) {
            throw new IllegalArgumentException("item " + item.item() + ": response " + sample + " outside [0, "
                    + item.samples().size() + ")");
        }
        return item.samples().get(sample);
    }

    private static void nonEmpty(long item, int sample, SequenceSample s) {
        if (s.length() == 0) {
            throw new IllegalArgumentException("item " + item + ", response " + sample + " is empty");
        }
    }
}

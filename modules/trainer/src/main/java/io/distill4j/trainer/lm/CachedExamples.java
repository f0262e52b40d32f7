package io.distill4j.trainer.lm;

import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.lm.LmExample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Fine-tuning examples that stay in a sequence cache: each is a reference (item, response) with its lengths, and
 * {@link #read} decodes the examples asked for from the cache's Arrow shards ({@link SequenceCacheReader}), items
 * in ascending order so that each shard is decompressed at most once per call, and only the rows asked for. Holding a run's examples costs 20
 * bytes each, whatever the cache's size, k or top-K; the responses are made into {@link LmExample}s exactly as
 * {@link SequenceCacheExamples} makes them from an item in memory.
 *
 * <p>The lengths come from one streaming pass over the cache, {@link #index}, which also shows every item to a
 * caller that needs a statistic of the whole cache (the longest example, sentence embeddings).
 */
public final class CachedExamples {

    /** How a response becomes an example. */
    public enum Kind {
        /** {@link SequenceCacheExamples#sft(SequenceItem, int)}: the response as the answer. */
        SFT,
        /** {@link SequenceCacheExamples#topK(SequenceItem, int, int)}: with the cached top-K distributions. */
        TOP_K
    }

    /**
     * The prompt and response lengths of every item of a sequence cache, from {@link #index}.
     *
     * @param k responses per item
     * @param promptLengths per item, the prompt's tokens
     * @param answerLengths per item and response ({@code item * k + response}), the response's tokens
     */
    public record Index(int k, int[] promptLengths, int[] answerLengths) {
        /** @return the number of items */
        public int items() {
            return promptLengths.length;
        }

        /**
         * @param item an item
         * @param response a response of it, in [0, k)
         * @return the tokens of the response
         */
        public int answerLength(int item, int response) {
            return answerLengths[item * k + response];
        }

        /**
         * @param item an item
         * @return the tokens of its longest response
         */
        public int longestAnswer(int item) {
            int m = 0;
            for (int j = 0; j < k; j++) {
                m = Math.max(m, answerLength(item, j));
            }
            return m;
        }
    }

    private final TeacherCache cache;
    private final Kind kind;
    private final int topK;
    private final int[] item;
    private final int[] response;
    private final int[] promptLength;
    private final int[] length;

    private CachedExamples(TeacherCache cache, Kind kind, int[] item, int[] response, int[] promptLength, int[] length) {
        this.cache = cache;
        this.kind = kind;
        this.topK = cache.manifest().sequence().topK();
        this.item = item;
        this.response = response;
        this.promptLength = promptLength;
        this.length = length;
    }

    /**
     * Reads a sequence cache once, item by item in order (one decompressed shard in memory at a time), recording
     * the lengths of every prompt and response.
     *
     * @param cache a sequence cache
     * @param visitor shown every item in order, or null
     * @return the lengths
     * @throws BadInputException if the cache holds no items, or naming the shard and row of a fault
     */
    public static Index index(TeacherCache cache, Consumer<SequenceItem> visitor) {
        CacheManifest m = cache.manifest();
        if (m.items() == 0) {
            throw new BadInputException(cache.dir().resolve(CacheManifest.FILE_NAME) + ": field items: the cache holds no"
                    + " prompts");
        }
        if (m.items() > Integer.MAX_VALUE / m.k()) {
            throw new BadInputException(cache.dir().resolve(CacheManifest.FILE_NAME) + ": field items: " + m.items()
                    + " items of k = " + m.k() + " responses are more than one run can index (" + Integer.MAX_VALUE + ")");
        }
        int n = (int) m.items();
        int k = m.k();
        int[] prompts = new int[n];
        int[] answers = new int[n * k];
        visit(cache, 0, n, it -> {
            int q = (int) it.item();
            prompts[q] = it.prompt().length;
            for (int j = 0; j < k; j++) {
                answers[q * k + j] = it.samples().get(j).length();
            }
            if (visitor != null) {
                visitor.accept(it);
            }
        });
        return new Index(k, prompts, answers);
    }

    /**
     * Shows items of a sequence cache to a consumer in order, reading one shard at a time.
     *
     * @param cache a sequence cache
     * @param from the first item
     * @param to one past the last item
     * @param consumer told each item
     */
    public static void visit(TeacherCache cache, long from, long to, Consumer<SequenceItem> consumer) {
        try (SequenceCacheReader r = cache.sequence()) {
            for (long i = from; i < to; i++) {
                consumer.accept(r.read(i));
            }
        }
    }

    /**
     * Collects references to examples of one kind.
     *
     * @param cache the sequence cache
     * @param index its lengths
     * @param kind how responses become examples
     * @return a builder
     */
    public static Builder builder(TeacherCache cache, Index index, Kind kind) {
        return new Builder(cache, index, kind);
    }

    /**
     * The first {@code count} responses of each item in [from, to), item order then response order (as
     * {@link SequenceCacheExamples#sft(List, int)} and {@link SequenceCacheExamples#topK(List, int, int)} list them).
     *
     * @param cache the sequence cache
     * @param index its lengths
     * @param kind how responses become examples
     * @param from the first item
     * @param to one past the last item
     * @param count responses per item, in [1, k]
     * @return the examples
     */
    public static CachedExamples of(TeacherCache cache, Index index, Kind kind, int from, int to, int count) {
        Builder b = builder(cache, index, kind);
        for (int q = from; q < to; q++) {
            for (int j = 0; j < count; j++) {
                b.add(q, j);
            }
        }
        return b.build();
    }

    /** Collects example references in order. */
    public static final class Builder {
        private final TeacherCache cache;
        private final Index index;
        private final Kind kind;
        private int[] item = new int[16];
        private int[] response = new int[16];
        private int size;

        private Builder(TeacherCache cache, Index index, Kind kind) {
            this.cache = cache;
            this.index = index;
            this.kind = kind;
        }

        /**
         * Adds one response as the next example.
         *
         * @param q the item
         * @param j the response, in [0, k)
         * @return this builder
         * @throws IllegalArgumentException if the item or response is out of range, or the response is empty
         */
        public Builder add(int q, int j) {
            if (q < 0 || q >= index.items() || j < 0 || j >= index.k()) {
                throw new IllegalArgumentException("item " + q + ", response " + j + " outside " + index.items()
                        + " items of " + index.k() + " responses");
            }
            if (index.answerLength(q, j) == 0) {
                throw new IllegalArgumentException("item " + q + ", response " + j + " is empty");
            }
            if (size == item.length) {
                item = Arrays.copyOf(item, size * 2);
                response = Arrays.copyOf(response, size * 2);
            }
            item[size] = q;
            response[size] = j;
            size++;
            return this;
        }

        /** @return the examples added, in order */
        public CachedExamples build() {
            int[] it = Arrays.copyOf(item, size);
            int[] re = Arrays.copyOf(response, size);
            int[] p = new int[size];
            int[] len = new int[size];
            for (int i = 0; i < size; i++) {
                p[i] = index.promptLengths()[it[i]];
                len[i] = p[i] + index.answerLength(it[i], re[i]);
            }
            return new CachedExamples(cache, kind, it, re, p, len);
        }
    }

    /** @return the number of examples */
    public int size() {
        return item.length;
    }

    /** @return K of the cache's top-K distributions */
    public int topK() {
        return topK;
    }

    /** @return whether the examples carry the teacher's top-K distributions */
    public boolean withTeacher() {
        return kind == Kind.TOP_K;
    }

    /**
     * @param i an example
     * @return its cache item
     */
    public int item(int i) {
        return item[i];
    }

    /**
     * @param i an example
     * @return its response's index within the item
     */
    public int response(int i) {
        return response[i];
    }

    /** @return each example's prompt + answer length, in order (a copy) */
    public int[] lengths() {
        return length.clone();
    }

    /** @return each example's prompt length, in order (a copy) */
    public int[] promptLengths() {
        return promptLength.clone();
    }

    /** @return the longest prompt + answer, 0 without examples */
    public int longest() {
        return Arrays.stream(length).max().orElse(0);
    }

    /**
     * Decodes examples from the cache.
     *
     * @param indices the examples, any order, repeats allowed
     * @return the examples in the order of {@code indices}
     * @throws BadInputException naming the shard and row of a fault
     */
    public List<LmExample> read(int[] indices) {
        // read each distinct item once, in ascending order: the reader holds one decompressed shard at a time
        Integer[] byItem = new Integer[indices.length];
        for (int i = 0; i < indices.length; i++) {
            byItem[i] = i;
        }
        Arrays.sort(byItem, (a, b) -> Integer.compare(item[indices[a]], item[indices[b]]));
        LmExample[] out = new LmExample[indices.length];
        try (SequenceCacheReader r = cache.sequence()) {
            for (int pos : byItem) {
                int e = indices[pos];
                SequenceCacheReader.Response got = r.read(item[e], response[e]); // that row alone
                out[pos] = kind == Kind.SFT ? SequenceCacheExamples.sft(item[e], response[e], got.prompt(), got.sample())
                        : SequenceCacheExamples.topK(item[e], response[e], got.prompt(), got.sample(), topK);
            }
        }
        return Arrays.asList(out);
    }

    /**
     * Decodes a contiguous run of examples.
     *
     * @param from the first example
     * @param to one past the last
     * @return the examples in order
     */
    public List<LmExample> read(int from, int to) {
        int[] idx = new int[to - from];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = from + i;
        }
        return new ArrayList<>(read(idx));
    }
}

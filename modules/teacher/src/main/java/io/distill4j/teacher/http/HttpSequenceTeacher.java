package io.distill4j.teacher.http;

import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.sequence.SequenceTeacher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * An {@link HttpTeacher} as a {@link SequenceTeacher}: prompts are tokenized by the server
 * ({@code /tokenize}), responses become {@link SequenceSample}s of token ids and top-K log-probabilities.
 *
 * <p>The vocabulary size comes from the server ({@code /v1/models} {@code meta.n_vocab}, llama.cpp) or is
 * given. Every id must lie inside it and every position must carry exactly K alternatives with distinct
 * ids whose probabilities sum to at most 1; otherwise the run stops with a {@link TeacherServerException}
 * naming the item, sample and position. The
 * provenance records the server's model and a fingerprint of its tokenizer, so a cache is never resumed
 * against a server that tokenizes differently.
 */
public final class HttpSequenceTeacher implements SequenceTeacher {

    private final HttpTeacher http;
    private final int vocabularySize;
    private Map<String, Object> provenance;

    /**
     * Wraps an HTTP teacher.
     *
     * @param http the teacher; its {@code topLogprobs} is K and must be positive
     * @param vocabularySize V, or 0 to take it from the server
     * @throws TeacherServerException if V is 0 and the server does not report it
     */
    public HttpSequenceTeacher(HttpTeacher http, int vocabularySize) {
        if (http.config().topLogprobs() <= 0) {
            throw new IllegalArgumentException("a sequence cache needs top-K log-probabilities: set topLogprobs >= 1");
        }
        if (vocabularySize < 0) {
            throw new IllegalArgumentException("vocabularySize must be >= 0 (0: ask the server), got " + vocabularySize);
        }
        this.http = http;
        if (vocabularySize == 0) {
            Object v = http.serverInfo().get("vocabularySize");
            if (!(v instanceof Integer n)) {
                throw new TeacherServerException(http.config().baseUri() + "/v1/models: the server does not report its "
                        + "vocabulary size (meta.n_vocab); set it in the teacher's config (vocabularySize)", false, null);
            }
            this.vocabularySize = n;
        } else {
            Object v = http.serverInfo().get("vocabularySize");
            if (v instanceof Integer n && n != vocabularySize) {
                throw new TeacherServerException(http.config().baseUri() + "/v1/models: the server's vocabulary has " + n
                        + " tokens, the configured vocabularySize is " + vocabularySize + ": tokenizer mismatch", false, null);
            }
            this.vocabularySize = vocabularySize;
        }
    }

    @Override
    public int k() {
        return http.config().k();
    }

    @Override
    public int vocabularySize() {
        return vocabularySize;
    }

    @Override
    public int topK() {
        return http.config().topLogprobs();
    }

    @Override
    public synchronized Map<String, Object> provenance() {
        if (provenance == null) {
            Map<String, Object> p = new LinkedHashMap<>(http.provenance());
            p.put("vocabularySize", vocabularySize);
            p.put("tokenizerFingerprint", http.tokenizerFingerprint());
            provenance = p;
        }
        return provenance;
    }

    @Override
    public void sample(List<String> prompts, long from, Consumer<SequenceItem> sink, SampleProgress progress) {
        http.sample(prompts, from, true, p -> sink.accept(toItem(p)), progress);
    }

    /**
     * Converts one prompt's responses, checking ids and top-K sizes.
     *
     * @param p the responses, with prompt ids
     * @return the cache item
     */
    SequenceItem toItem(PromptSamples p) {
        HttpTeacher.requireTokenIds(p, vocabularySize);
        int[] prompt = p.promptIds();
        for (int t = 0; t < prompt.length; t++) {
            if (prompt[t] < 0 || prompt[t] >= vocabularySize) {
                throw new TeacherServerException("item " + p.item() + ": prompt token " + t + " has id " + prompt[t]
                        + ", outside the vocabulary of " + vocabularySize + ": tokenizer mismatch", false, null);
            }
        }
        int k = topK();
        List<SequenceSample> samples = new ArrayList<>();
        for (int j = 0; j < p.completions().size(); j++) {
            List<TokenStep> steps = p.completions().get(j).steps();
            int len = steps.size();
            int[] tokens = new int[len];
            int[] ids = new int[len * k];
            float[] lps = new float[len * k];
            for (int t = 0; t < len; t++) {
                TokenStep s = steps.get(t);
                if (s.topK() != k) {
                    throw new TeacherServerException("item " + p.item() + ", sample " + j + ", position " + t + ": the server "
                            + "returned " + s.topK() + " alternatives, top_logprobs=" + k + " were requested", false, null);
                }
                checkTopK(s, p.item(), j, t);
                tokens[t] = s.id();
                System.arraycopy(s.topIds(), 0, ids, t * k, k);
                System.arraycopy(s.topLogprobs(), 0, lps, t * k, k);
            }
            samples.add(new SequenceSample(tokens, ids, lps, null));
        }
        return new SequenceItem(p.item(), prompt, samples);
    }

    /**
     * Checks one position's alternatives against the cache's rules before they reach the cache writer: no
     * id twice, and top-K probabilities that sum to at most 1 (within the cache's tolerance). A server that
     * breaks them is at fault, whatever was asked; a seeded request would repeat the answer, so the error
     * is not retryable.
     */
    private static void checkTopK(TokenStep s, long item, int sample, int position) {
        double tol = CacheWriteOptions.DEFAULT.simplexTolerance();
        double mass = 0;
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int r = 0; r < s.topK(); r++) {
            if (!seen.add(s.topIds()[r])) {
                throw new TeacherServerException("item " + item + ", sample " + sample + ", position " + position
                        + ": the server listed token id " + s.topIds()[r] + " twice among its top_logprobs", false, null);
            }
            mass += Math.exp(s.topLogprobs()[r]);
        }
        if (mass > 1 + tol) {
            throw new TeacherServerException(String.format(Locale.ROOT, "item %d, sample %d, position %d: the server's "
                    + "top_logprobs sum to probability %.6g, above 1 (by more than %.3g): not log-probabilities of one "
                    + "distribution", item, sample, position, mass, tol), false, null);
        }
    }
}

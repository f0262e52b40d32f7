package io.distill4j.trainer.lm;



import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.CausalLm;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Lays fine-tuning examples out in rows of a fixed context length, with the arrays the model and the
 * losses need.
 *
 * <p>Padding mode puts one example per row; packing mode fills each row greedily, in the given order,
 * with as many whole examples as fit (an example never straddles two rows). Each example of a row gets
 * its own segment id (1, 2, ...; 0 is padding) and positions that restart at 0, so with
 * {@link CausalLm}'s segment mask a packed example is computed exactly as if it were alone. An example
 * longer than the context is cut to its first {@code context} tokens (the caller is told how many were).
 *
 * <p>Targets: the logits at position q predict the token at q + 1, so for every answer token at position
 * q + 1 of the same example, {@code targets[q]} is that token, {@code weights[q] = 1}, and in distillation
 * mode {@code topIds/topLogProbs[q]} and {@code tailLogMass[q]} hold the teacher's distribution over it.
 * Prompt tokens, padding and the last token of each example get weight 0.
 */
public final class SequencePacker {
    /** Log-probability written where no teacher distribution applies (weight 0). */
    static final float ABSENT_LOG_PROB = -80f;

    private SequencePacker() {
    }

    /**
     * One batch: B rows of length T, as plain arrays (row-major).
     *
     * @param rows B
     * @param context T
     * @param k K of the teacher distributions, or 0 without them
     * @param ids (B, T) token ids (0 at padding)
     * @param segments (B, T) segment ids, 0 at padding
     * @param positions (B, T) position ids within each example
     * @param targets (B, T) next-token targets (0 where the weight is 0)
     * @param weights (B, T) 1 where the next token is an answer token of the same example, else 0
     * @param topIds (B, T, K) teacher top-K ids, or null
     * @param topLogProbs (B, T, K) teacher top-K log-probabilities, or null
     * @param tailLogMass (B, T) log of the teacher's mass outside the top K, or null
     * @param examples number of examples laid out in the batch
     * @param truncated how many of them were cut to the context
     */
    public record Batch(int rows, int context, int k, long[] ids, long[] segments, long[] positions, long[] targets,
            float[] weights, long[] topIds, float[] topLogProbs, float[] tailLogMass, int examples, int truncated) {

        /** @return the number of answer tokens that carry loss */
        public int answerTokens() {
            int n = 0;
            for (float w : weights) {
                n += w > 0 ? 1 : 0;
            }
            return n;
        }

        /** @return the number of non-padding tokens */
        public int tokens() {
            int n = 0;
            for (long s : segments) {
                n += s != 0 ? 1 : 0;
            }
            return n;
        }

        /**
         * The model inputs: [ids, segments, positions], each (B, T) int64.
         *
         * @param manager where the arrays go (a per-step sub-manager)
         * @return the inputs of {@link CausalLm}
         */
        public NDList inputs(NDManager manager) {
            Shape s = new Shape(rows, context);
            return new NDList(manager.create(ids, s), manager.create(segments, s), manager.create(positions, s));
        }

        /**
         * The labels of {@link AnswerLoss}: [targets (B, T) int64, weights (B, T)], followed in distillation
         * mode by [topIds (B, T, K) int64, topLogProbs (B, T, K), tailLogMass (B, T)].
         *
         * @param manager where the arrays go
         * @return the labels
         */
        public NDList labels(NDManager manager) {
            Shape s = new Shape(rows, context);
            NDList l = new NDList(manager.create(targets, s), manager.create(weights, s));
            if (k > 0) {
                Shape sk = new Shape(rows, context, k);
                l.add(manager.create(topIds, sk));
                l.add(manager.create(topLogProbs, sk));
                l.add(manager.create(tailLogMass, s));
            }
            return l;
        }
    }

    /**
     * Lays out examples.
     *
     * @param examples the examples, in the order they are laid out
     * @param context T
     * @param rowsPerBatch B (the last batch may have fewer rows)
     * @param pack true to pack several examples per row, false for one per row
     * @param withTeacher true to include the teacher's top-K arrays (every example must then have them,
     *     with one K)
     * @return the batches
     * @throws IllegalArgumentException if an example lacks teacher distributions when they are asked for, or
     *     the K differ
     */
    public static List<Batch> layout(List<LmExample> examples, int context, int rowsPerBatch, boolean pack,
            boolean withTeacher) {
        if (context < 2) {
            throw new IllegalArgumentException("context must be at least 2, got " + context);
        }
        if (rowsPerBatch <= 0) {
            throw new IllegalArgumentException("rows per batch must be positive, got " + rowsPerBatch);
        }
        int k = 0;
        if (withTeacher) {
            for (int i = 0; i < examples.size(); i++) {
                LmExample.TopK t = examples.get(i).teacher();
                if (t == null) {
                    throw new IllegalArgumentException("example " + i + " has no teacher top-K distributions");
                }
                if (k != 0 && t.k() != k) {
                    throw new IllegalArgumentException("example " + i + " has K = " + t.k() + ", earlier ones " + k);
                }
                k = t.k();
            }
        }
        int[] lengths = new int[examples.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = examples.get(i).length();
        }
        List<int[]> rows = rows(lengths, context, pack);
        List<Batch> out = new ArrayList<>();
        for (int start = 0; start < rows.size(); start += rowsPerBatch) {
            out.add(batch(examples, rows.subList(start, Math.min(rows.size(), start + rowsPerBatch)), context, k));
        }
        return out;
    }

    /**
     * How {@link #layout} groups examples into rows, from their lengths alone: one example per row, or, packing,
     * greedily in the given order as many whole examples as fit (each counted at most {@code context} tokens).
     *
     * @param lengths each example's prompt + answer length, in layout order
     * @param context T
     * @param pack true to pack several examples per row
     * @return per row, the indices of its examples in order
     */
    public static List<int[]> rows(int[] lengths, int context, boolean pack) {
        List<int[]> rows = new ArrayList<>();
        int start = 0;
        int used = 0;
        for (int i = 0; i < lengths.length; i++) {
            int len = Math.min(context, lengths[i]);
            if (i > start && (!pack || used + len > context)) {
                rows.add(range(start, i));
                start = i;
                used = 0;
            }
            used += len;
        }
        if (lengths.length > start) {
            rows.add(range(start, lengths.length));
        }
        return rows;
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    /**
     * The answer tokens that carry loss in one row laid out by {@link #layout}, from the lengths of its examples
     * alone (as {@link Batch#answerTokens()} counts them once the row is built): an example that starts at offset
     * {@code at} keeps {@code len = min(T - at, length)} tokens, of which {@code len - max(1, prompt)} are targets.
     *
     * @param promptLengths the prompt length of each example of the row, in order
     * @param lengths the prompt + answer length of each, in order
     * @param context T
     * @return the row's weighted positions
     */
    public static int answerTokens(int[] promptLengths, int[] lengths, int context) {
        int at = 0;
        int n = 0;
        for (int i = 0; i < lengths.length; i++) {
            int len = Math.min(context - at, lengths[i]);
            n += Math.max(0, len - Math.max(1, promptLengths[i]));
            at += len;
        }
        return n;
    }

    /**
     * Stacks batches of the same context and K into one, rows in the given order (for example single-row
     * batches from {@code layout(examples, context, 1, pack, withTeacher)}, regrouped in a new order).
     *
     * @param parts the batches, at least one
     * @return one batch with all their rows
     * @throws IllegalArgumentException if the parts differ in context or K
     */
    public static Batch concat(List<Batch> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("nothing to concatenate");
        }
        Batch first = parts.get(0);
        if (parts.size() == 1) {
            return first;
        }
        int t = first.context();
        int k = first.k();
        int b = 0;
        int examples = 0;
        int truncated = 0;
        for (Batch p : parts) {
            if (p.context() != t || p.k() != k) {
                throw new IllegalArgumentException("batches of context " + p.context() + " and K " + p.k()
                        + " cannot join batches of context " + t + " and K " + k);
            }
            b += p.rows();
            examples += p.examples();
            truncated += p.truncated();
        }
        long[] ids = new long[b * t];
        long[] seg = new long[b * t];
        long[] pos = new long[b * t];
        long[] tgt = new long[b * t];
        float[] w = new float[b * t];
        long[] topIds = k > 0 ? new long[b * t * k] : null;
        float[] topLp = k > 0 ? new float[b * t * k] : null;
        float[] tail = k > 0 ? new float[b * t] : null;
        int at = 0;
        for (Batch p : parts) {
            int n = p.rows() * t;
            System.arraycopy(p.ids(), 0, ids, at, n);
            System.arraycopy(p.segments(), 0, seg, at, n);
            System.arraycopy(p.positions(), 0, pos, at, n);
            System.arraycopy(p.targets(), 0, tgt, at, n);
            System.arraycopy(p.weights(), 0, w, at, n);
            if (k > 0) {
                System.arraycopy(p.topIds(), 0, topIds, at * k, n * k);
                System.arraycopy(p.topLogProbs(), 0, topLp, at * k, n * k);
                System.arraycopy(p.tailLogMass(), 0, tail, at, n);
            }
            at += n;
        }
        return new Batch(b, t, k, ids, seg, pos, tgt, w, topIds, topLp, tail, examples, truncated);
    }

    private static Batch batch(List<LmExample> examples, List<int[]> rows, int t, int k) {
        int b = rows.size();
        long[] ids = new long[b * t];
        long[] seg = new long[b * t];
        long[] pos = new long[b * t];
        long[] tgt = new long[b * t];
        float[] w = new float[b * t];
        long[] topIds = k > 0 ? new long[b * t * k] : null;
        float[] topLp = k > 0 ? new float[b * t * k] : null;
        float[] tail = k > 0 ? new float[b * t] : null;
        if (k > 0) {
            Arrays.fill(topLp, ABSENT_LOG_PROB);
        }
        int count = 0;
        int truncated = 0;
        for (int r = 0; r < b; r++) {
            int at = 0;
            int segment = 0;
            for (int index : rows.get(r)) {
                LmExample ex = examples.get(index);
                int[] tokens = ex.tokens();
                int len = Math.min(t - at, tokens.length);
                if (len < tokens.length) {
                    truncated++;
                }
                segment++;
                count++;
                int p = ex.prompt().length;
                for (int i = 0; i < len; i++) {
                    int o = r * t + at + i;
                    ids[o] = tokens[i];
                    seg[o] = segment;
                    pos[o] = i;
                }
                // the logits at i predict token i + 1; answer tokens are i + 1 >= p
                for (int i = Math.max(0, p - 1); i + 1 < len; i++) {
                    int o = r * t + at + i;
                    tgt[o] = tokens[i + 1];
                    w[o] = 1f;
                    if (k > 0) {
                        LmExample.TopK tk = ex.teacher();
                        int j = i + 1 - p;
                        System.arraycopy(tk.logProbs(), j * k, topLp, o * k, k);
                        for (int c = 0; c < k; c++) {
                            topIds[o * k + c] = tk.ids()[j * k + c];
                        }
                        tail[o] = tk.tailLogMass()[j];
                    }
                }
                at += len;
            }
        }
        return new Batch(b, t, k, ids, seg, pos, tgt, w, topIds, topLp, tail, count, truncated);
    }
}

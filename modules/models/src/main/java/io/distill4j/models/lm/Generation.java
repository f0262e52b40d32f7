package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Decoding with a {@link CausalLm} and reading a model's sparse next-token distributions, for students and
 * small teachers. Decoding uses the key/value cache of {@link KvCacheDecoder} (the prompt runs once, each
 * new token costs one position per layer); {@link #sample(CausalLm, NDManager, int[], int, int, double, int,
 * Random, boolean)} can instead rerun the whole sequence per token, which is what the cache is checked
 * against.
 */
public final class Generation {
    private Generation() {
    }

    /**
     * Greedy decoding: appends the most likely token until {@code maxNew} tokens, the end id, or the
     * model's context.
     *
     * @param model the model
     * @param manager a manager for the per-step arrays (closed per step)
     * @param prompt the prompt ids
     * @param maxNew the most tokens to add
     * @param eosId the id that ends the answer (included), or -1
     * @return the new tokens
     */
    public static int[] greedy(CausalLm model, NDManager manager, int[] prompt, int maxNew, int eosId) {
        return sample(model, manager, prompt, maxNew, eosId, 0, 0, null);
    }

    /**
     * Samples a continuation at a temperature, optionally from the top k tokens only (as Hugging Face's
     * {@code generate(do_sample=True, temperature, top_k)}).
     *
     * @param model the model
     * @param manager a manager for the per-step arrays
     * @param prompt the prompt ids (at least one)
     * @param maxNew the most tokens to add
     * @param eosId the end id, or -1
     * @param temperature the softmax temperature; 0 means greedy
     * @param topK sample among the k most likely tokens only; 0 for all
     * @param random the random source (seeded by the caller), unused when greedy
     * @return the new tokens
     */
    public static int[] sample(CausalLm model, NDManager manager, int[] prompt, int maxNew, int eosId,
            double temperature, int topK, Random random) {
        return sample(model, manager, prompt, maxNew, eosId, temperature, topK, random, true);
    }

    /**
     * Samples a continuation with or without the key/value cache; both give the same tokens (the cache's
     * logits agree with a full pass to float rounding).
     *
     * @param model the model
     * @param manager a manager for the per-step arrays (and the cache, freed at the end)
     * @param prompt the prompt ids (at least one)
     * @param maxNew the most tokens to add
     * @param eosId the end id, or -1
     * @param temperature the softmax temperature; 0 means greedy
     * @param topK sample among the k most likely tokens only; 0 for all
     * @param random the random source (seeded by the caller), unused when greedy
     * @param kvCache true to decode with {@link KvCacheDecoder}, false to rerun the sequence for every token
     * @return the new tokens
     */
    public static int[] sample(CausalLm model, NDManager manager, int[] prompt, int maxNew, int eosId,
            double temperature, int topK, Random random, boolean kvCache) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt must hold at least one token");
        }
        if (temperature < 0 || Double.isNaN(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (temperature > 0 && random == null) {
            throw new IllegalArgumentException("sampling at temperature " + temperature + " needs a random source");
        }
        int limit = model.config().maxPositions();
        if (maxNew <= 0 || prompt.length >= limit) {
            return new int[0];
        }
        if (kvCache) {
            return sampleBatch(model, manager, List.of(prompt), 1, new int[] {maxNew}, eosId, temperature, topK,
                    random)[0];
        }
        List<Integer> out = new ArrayList<>();
        int[] seq = prompt.clone();
        while (out.size() < maxNew && seq.length < limit) {
            float[] z;
            try (NDManager sub = manager.newSubManager()) {
                long[][] ids = {Arrays.stream(seq).asLongStream().toArray()};
                NDArray logits = model.logits(new ParameterStore(sub, false), sub.create(ids), null, null, false);
                NDArray last = logits.get(new NDIndex("0:1, -1, :")).toType(DataType.FLOAT32, false);
                // the same distribution as the cache's: softmax(z / T) in libtorch
                z = (temperature == 0 ? last : (temperature == 1 ? last : last.div((float) temperature)).softmax(1))
                        .toFloatArray();
            }
            int next = temperature == 0 ? argMax(z, 0, z.length) : draw(z, 0, z.length, topK, random);
            out.add(next);
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = next;
            if (next == eosId) {
                break;
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Samples several continuations of one prompt at once with the key/value cache: the prompt is run once
     * and its keys and values are shared by the rows (as {@code generate(num_return_sequences = rows)}). Each
     * step draws row 0, then row 1, ... from {@code random}, so one row gives the tokens of
     * {@link #sample(CausalLm, NDManager, int[], int, int, double, int, Random)} with the same random source. A row
     * that has drawn {@code eosId} ends there (its eos included) while the others go on.
     *
     * @param model the model
     * @param manager a manager for the per-step arrays (and the cache, freed at the end)
     * @param prompt the prompt ids (at least one)
     * @param rows continuations, positive
     * @param maxNew the most tokens to add per row
     * @param eosId the end id, or -1
     * @param temperature the softmax temperature; 0 means greedy
     * @param topK sample among the k most likely tokens only; 0 for all
     * @param random the random source (seeded by the caller), unused when greedy
     * @return the new tokens of each row
     */
    public static int[][] sampleRows(CausalLm model, NDManager manager, int[] prompt, int rows, int maxNew, int eosId,
            double temperature, int topK, Random random) {
        return sampleBatch(model, manager, List.of(prompt), rows, new int[] {maxNew}, eosId, temperature, topK, random);
    }

    /**
     * Samples {@code rows} continuations of each of several prompts in one batch with the key/value cache (as
     * {@code generate} on a left-padded batch with {@code num_return_sequences = rows}): every decoder call
     * advances all rows by one token. Rows are prompt-major (the rows of prompt 0 first); each step draws the
     * unfinished rows in that order from {@code random}, so with one prompt this is
     * {@link #sampleRows}. A row ends at its own eos (included), after its prompt's {@code maxNew} tokens, or at
     * the model's context; greedy rows give the tokens of {@link #greedy} on their prompt alone.
     *
     * @param model the model
     * @param manager a manager for the per-step arrays (and the cache, freed at the end)
     * @param prompts the prompts (each at least one token), of any lengths
     * @param rows continuations per prompt, positive
     * @param maxNew the most tokens to add per row, one value per prompt
     * @param eosId the end id, or -1
     * @param temperature the softmax temperature; 0 means greedy
     * @param topK sample among the k most likely tokens only; 0 for all
     * @param random the random source (seeded by the caller), unused when greedy
     * @return the new tokens of each row, prompts.size() * rows arrays
     */
    public static int[][] sampleBatch(CausalLm model, NDManager manager, List<int[]> prompts, int rows, int[] maxNew,
            int eosId, double temperature, int topK, Random random) {
        if (rows <= 0) {
            throw new IllegalArgumentException("rows must be positive, got " + rows);
        }
        if (maxNew.length != prompts.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + maxNew.length + " maxNew values");
        }
        if (temperature < 0 || Double.isNaN(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (temperature > 0 && random == null) {
            throw new IllegalArgumentException("sampling at temperature " + temperature + " needs a random source");
        }
        int limit = model.config().maxPositions();
        // the prompts with room for a token go into the decoder; the others get empty rows
        List<int[]> active = new ArrayList<>();
        List<Integer> activeIndex = new ArrayList<>();
        List<Integer> activeLimit = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            int[] prompt = prompts.get(p);
            if (prompt.length == 0) {
                throw new IllegalArgumentException("prompt " + p + " must hold at least one token");
            }
            int room = Math.min(maxNew[p], limit - prompt.length);
            if (room > 0) {
                active.add(prompt);
                activeIndex.add(p);
                activeLimit.add(room);
            }
        }
        int[][] result = new int[prompts.size() * rows][];
        Arrays.fill(result, new int[0]);
        if (active.isEmpty()) {
            return result;
        }
        int n = active.size() * rows;
        int[][] out = new int[n][];
        int[] size = new int[n];
        int[] cap = new int[n];
        for (int r = 0; r < n; r++) {
            cap[r] = activeLimit.get(r / rows);
            out[r] = new int[cap[r]];
        }
        KvCacheDecoder decoder = new KvCacheDecoder(model);
        int v = model.config().vocabSize();
        // logits when greedy, softmax(z / T) (computed by libtorch) when sampling
        float[] scores = new float[n * v];
        boolean[] done = new boolean[n];
        try (KvCacheDecoder.State state = decoder.prefill(manager, active, rows, temperature, scores)) {
            while (true) {
                int[] next = new int[n];
                boolean all = true;
                for (int r = 0; r < n; r++) {
                    if (done[r]) {
                        next[r] = out[r][size[r] - 1]; // keeps the shapes; not recorded
                        continue;
                    }
                    next[r] = temperature == 0 ? argMax(scores, r * v, v) : draw(scores, r * v, v, topK, random);
                    out[r][size[r]++] = next[r];
                    done[r] = next[r] == eosId || size[r] >= cap[r];
                    all &= done[r];
                }
                if (all) {
                    break;
                }
                scores = decoder.step(manager, state, next, temperature);
            }
        }
        for (int r = 0; r < n; r++) {
            result[activeIndex.get(r / rows) * rows + r % rows] = Arrays.copyOf(out[r], size[r]);
        }
        return result;
    }

    private static int argMax(float[] z, int from, int v) {
        int best = 0;
        for (int i = 1; i < v; i++) {
            if (z[from + i] > z[from + best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Draws a token from the probabilities p[from .. from + v) (softmax(z / T), computed by libtorch),
     * restricted to the top k and renormalised when k &gt; 0. Without top-k the tokens are visited in id
     * order (one pass, no sort); with top-k in the order of a stable descending sort (ties by id). Either way
     * a token is drawn with its probability.
     */
    private static int draw(float[] p, int from, int v, int topK, Random random) {
        if (topK <= 0 || topK >= v) {
            double sum = 0;
            for (int i = 0; i < v; i++) {
                sum += p[from + i];
            }
            double u = random.nextDouble() * sum;
            int last = 0;
            for (int i = 0; i < v; i++) {
                float q = p[from + i];
                if (q > 0) {
                    last = i;
                    u -= q;
                    if (u <= 0) {
                        return i;
                    }
                }
            }
            return last; // rounding left u above 0: the last token with mass
        }
        int[] order = topIndices(Arrays.copyOfRange(p, from, from + v), topK);
        double sum = 0;
        for (int i = 0; i < topK; i++) {
            sum += p[from + order[i]];
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < topK; i++) {
            u -= p[from + order[i]];
            if (u <= 0) {
                return order[i];
            }
        }
        return order[topK - 1];
    }

    /**
     * The n largest entries' indices, by descending value and ascending index among equal values (the order
     * of a stable descending sort of all indices). Sorts primitive keys: the float's order-preserving int bits
     * in the high half, the complemented index in the low half.
     */
    static int[] topIndices(float[] z, int n) {
        long[] keys = new long[z.length];
        for (int i = 0; i < z.length; i++) {
            int bits = Float.floatToIntBits(z[i]); // -0 below 0 and NaN on top, as Float.compare orders them
            bits = bits < 0 ? bits ^ 0x7fffffff : bits; // negative floats: reverse, so that ints order as floats
            keys[i] = ((long) bits << 32) | (~i & 0xffffffffL);
        }
        Arrays.sort(keys);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = ~(int) keys[keys.length - 1 - i];
        }
        return out;
    }

    /**
     * Reads a model's top-K next-token distribution over each answer token of each example (teacher
     * forcing on prompt + answer), as a cache of teacher outputs stores it, and returns the examples with
     * that distribution attached.
     *
     * @param model the teacher
     * @param manager a manager for the per-example arrays
     * @param examples prompt/answer examples (their own teacher fields are replaced)
     * @param k K, at most the vocabulary size
     * @return new examples carrying the model's top-K log-probabilities and tail log-mass
     */
    public static List<LmExample> topK(CausalLm model, NDManager manager, List<LmExample> examples, int k) {
        int v = model.config().vocabSize();
        if (k <= 0 || k > v) {
            throw new IllegalArgumentException("K must be in [1, " + v + "], got " + k);
        }
        List<LmExample> out = new ArrayList<>(examples.size());
        for (LmExample ex : examples) {
            if (ex.prompt().length == 0) {
                throw new IllegalArgumentException("an example needs a prompt token before its answer");
            }
            int[] tokens = ex.tokens();
            int p = ex.prompt().length;
            int n = ex.answer().length;
            float[] logProbs;
            try (NDManager sub = manager.newSubManager()) {
                long[][] ids = {Arrays.stream(tokens).asLongStream().toArray()};
                NDArray z = model.logits(new ParameterStore(sub, false), sub.create(ids), null, null, false);
                logProbs = z.get(new NDIndex("0, {}:{}, :", p - 1, p - 1 + n)).logSoftmax(1).toFloatArray();
            }
            int[] ids = new int[n * k];
            float[] lp = new float[n * k];
            float[] tail = new float[n];
            for (int j = 0; j < n; j++) {
                final int row = j;
                Integer[] order = new Integer[v];
                for (int i = 0; i < v; i++) {
                    order[i] = i;
                }
                Arrays.sort(order, (a, b) -> Float.compare(logProbs[row * v + b], logProbs[row * v + a]));
                double rest = 0;
                for (int i = k; i < v; i++) {
                    rest += Math.exp(logProbs[row * v + order[i]]);
                }
                double mass = 0;
                for (int c = 0; c < k; c++) {
                    ids[j * k + c] = order[c];
                    lp[j * k + c] = logProbs[row * v + order[c]];
                    mass += Math.exp(lp[j * k + c]);
                }
                // the tail from the sum of the rest, not 1 - top-K, so that it keeps its precision when small
                tail[j] = k == v ? Float.NEGATIVE_INFINITY : (float) Math.log(rest);
                if (!(Math.abs(mass + rest - 1) < LmExample.TopK.MASS_TOLERANCE)) {
                    throw new IllegalStateException("the model's probabilities sum to " + (mass + rest));
                }
            }
            out.add(new LmExample(ex.prompt(), ex.answer(), new LmExample.TopK(k, ids, lp, tail)));
        }
        return out;
    }
}

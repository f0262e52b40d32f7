package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import java.util.List;
import java.util.Map;

/**
 * Incremental decoding of a {@link CausalLm} with a key/value cache: the prompt is run once (prefill) and
 * each new token costs one position per layer instead of a pass over the whole sequence.
 *
 * <p>It reads the model's weights by their Hugging Face names ({@link CausalLm#namedParameters()}) and
 * repeats the model's arithmetic: GPT-2 (learned positions, LayerNorm, fused q/k/v with biases, the
 * configured GELU) and Llama (RMSNorm, rotary embeddings with {@code rotate_half}, grouped-query attention,
 * SwiGLU). The state holds R rows: B prompts, each with k rows that share it (the k samples of a prompt: the
 * prompt's keys and values are computed once and broadcast to its rows). Prompts of different lengths are
 * left-padded to the longest: every row carries its own positions (counted from its first real token) and an
 * additive mask hides its padding columns from every real query, so a row's logits are those of its prompt
 * decoded alone, to float rounding. Its logits agree with {@link CausalLm#logits} on the same sequence
 * (checked by the tests). Used by {@link Generation} for students and by the teacher
 * module's {@code CausalLmTeacher}; inference only (no dropout, no gradients). LoRA adapters on the model
 * ({@link Lora}) are applied.
 */
public final class KvCacheDecoder {

    private final CausalLmConfig c;
    private final boolean llama;
    private final Map<String, Parameter> p;
    private final Map<String, Dense> linears;
    private final String root;
    private final float[] invFreq;

    /**
     * Creates a decoder that reads the model's current weights at every call.
     *
     * @param model the initialised model
     */
    public KvCacheDecoder(CausalLm model) {
        this.c = model.config();
        this.llama = c.family() == LmFamily.LLAMA;
        this.p = model.namedParameters();
        this.linears = model.linearModules();
        this.root = llama ? "model." : "transformer.";
        int half = c.headDim() / 2;
        invFreq = new float[half];
        for (int i = 0; i < half; i++) { // as io.distill4j.models.lm.RotaryTables (and transformers) in float32
            float exponent = (float) (2 * i) / (float) c.headDim();
            invFreq[i] = (float) (1.0 / (float) Math.pow(c.ropeTheta(), exponent));
        }
    }

    /**
     * The per-layer key and value caches of R rows, (R, kvHeads, t, headDim) each, the columns t held so far
     * and each row's left padding.
     */
    public static final class State implements AutoCloseable {
        final NDManager manager;
        final NDArray[] keys;
        final NDArray[] values;
        int length;
        /** Padding columns at the left of each row; null when no row is padded. */
        int[] pad;

        State(NDManager manager, int layers) {
            this.manager = manager;
            this.keys = new NDArray[layers];
            this.values = new NDArray[layers];
        }

        /** @return the columns held so far (longest prompt plus appended tokens) */
        public int length() {
            return length;
        }

        /**
         * The position the next appended token of a row takes: its real tokens so far.
         *
         * @param row the row
         * @return the row's length without its padding
         */
        public int rowLength(int row) {
            return pad == null ? length : length - pad[row];
        }

        /** Frees the caches. */
        @Override
        public void close() {
            manager.close();
        }
    }

    private NDArray w(String name) {
        Parameter q = p.get(name);
        if (q == null) {
            throw new IllegalStateException("the model has no parameter " + name);
        }
        return q.getArray();
    }

    private NDArray wOrNull(String name) {
        Parameter q = p.get(name);
        return q == null ? null : q.getArray();
    }

    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        Shape s = x.getShape();
        NDArray flat = x.reshape(-1, s.get(s.dimension() - 1));
        NDArray y = flat.getNDArrayInternal().linear(flat, weight, bias).head();
        return y.reshape(s.slice(0, s.dimension() - 1).add(weight.getShape().get(0)));
    }

    private NDArray dense(NDArray x, String name) {
        NDArray y = linear(x, w(name + ".weight"), wOrNull(name + ".bias"));
        Dense d = linears.get(name);
        return d == null || d.lora() == null ? y : y.add(d.lora().apply(x));
    }

    private NDArray norm(NDArray x, String name) {
        NDArray g = w(name + ".weight");
        if (!llama) {
            return x.getNDArrayInternal().layerNorm(x, new Shape(c.hiddenSize()), g, w(name + ".bias"),
                    (float) c.normEps()).head();
        }
        int last = x.getShape().dimension() - 1;
        NDArray inv = x.square().mean(new int[] {last}, true).add((float) c.normEps()).pow(-0.5);
        return x.mul(inv).mul(g);
    }

    /**
     * cos and sin of the positions, shape (1, 1, t, headDim) for one shared row of positions, (R, 1, t, headDim)
     * for one row of t positions per state row.
     */
    private NDArray[] rotary(NDManager m, int[] positions, int rows, int t) {
        int hd = c.headDim();
        int half = hd / 2;
        float[] cos = new float[rows * t * hd];
        float[] sin = new float[rows * t * hd];
        for (int q = 0; q < rows * t; q++) {
            for (int col = 0; col < hd; col++) {
                float angle = (float) positions[q] * invFreq[col % half];
                cos[q * hd + col] = (float) Math.cos(angle);
                sin[q * hd + col] = (float) Math.sin(angle);
            }
        }
        Shape s = new Shape(rows, 1, t, hd);
        return new NDArray[] {m.create(cos, s), m.create(sin, s)};
    }

    private static NDArray rotate(NDArray x, NDArray[] cs) {
        NDList halves = x.split(2, 3);
        NDArray rotated = NDArrays.concat(new NDList(halves.get(1).neg(), halves.get(0)), 3);
        return x.mul(cs[0]).add(rotated.mul(cs[1]));
    }

    private NDArray heads(NDArray a, long b, long t, int h) {
        return a.reshape(b, t, h, c.headDim()).transpose(0, 2, 1, 3);
    }

    private NDArray repeatKv(NDArray a) {
        int g = c.numHeads() / c.numKvHeads();
        if (g == 1) {
            return a;
        }
        Shape s = a.getShape();
        return a.expandDims(2).broadcast(new Shape(s.get(0), c.numKvHeads(), g, s.get(2), c.headDim()))
                .reshape(s.get(0), c.numHeads(), s.get(2), c.headDim());
    }

    /**
     * Runs the decoder layers on new positions, appending their keys and values to the state.
     *
     * @param m the manager of this call's temporaries
     * @param x embedded input (R, t, d)
     * @param state the caches (updated)
     * @param mask an additive mask broadcastable to (R, heads, t, t_total), or null for none
     * @param positions the new tokens' positions: t values shared by the rows, or R * t (row-major)
     * @return the final-norm hidden states (R, t, d)
     */
    private NDArray layers(NDManager m, NDArray x, State state, NDArray mask, int[] positions) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray[] cs = llama ? rotary(m, positions, positions.length == t ? 1 : (int) b, (int) t) : null;
        double scale = 1.0 / Math.sqrt(c.headDim());
        for (int i = 0; i < c.numLayers(); i++) {
            String lp = root + (llama ? "layers." : "h.") + i + ".";
            NDArray h = norm(x, lp + (llama ? "input_layernorm" : "ln_1"));
            NDArray q;
            NDArray k;
            NDArray v;
            if (llama) {
                q = rotate(heads(dense(h, lp + "self_attn.q_proj"), b, t, c.numHeads()), cs);
                k = rotate(heads(dense(h, lp + "self_attn.k_proj"), b, t, c.numKvHeads()), cs);
                v = heads(dense(h, lp + "self_attn.v_proj"), b, t, c.numKvHeads());
            } else {
                NDList parts = dense(h, lp + "attn.c_attn").split(3, 2);
                q = heads(parts.get(0), b, t, c.numHeads());
                k = heads(parts.get(1), b, t, c.numHeads());
                v = heads(parts.get(2), b, t, c.numHeads());
            }
            NDArray keys = state.keys[i] == null ? k : NDArrays.concat(new NDList(state.keys[i], k), 2);
            NDArray values = state.values[i] == null ? v : NDArrays.concat(new NDList(state.values[i], v), 2);
            keys.attach(state.manager);
            values.attach(state.manager);
            if (state.keys[i] != null) {
                state.keys[i].close();
                state.values[i].close();
            }
            state.keys[i] = keys;
            state.values[i] = values;
            NDArray scores = q.mul(scale).matMul(repeatKv(keys).transpose(0, 1, 3, 2));
            if (mask != null) {
                scores = scores.add(mask);
            }
            NDArray y = scores.softmax(3).matMul(repeatKv(values)).transpose(0, 2, 1, 3)
                    .reshape(b, t, (long) c.numHeads() * c.headDim());
            x = x.add(dense(y, lp + (llama ? "self_attn.o_proj" : "attn.c_proj")));
            NDArray h2 = norm(x, lp + (llama ? "post_attention_layernorm" : "ln_2"));
            NDArray mlp;
            if (llama) {
                mlp = dense(c.activation().apply(dense(h2, lp + "mlp.gate_proj")).mul(dense(h2, lp + "mlp.up_proj")),
                        lp + "mlp.down_proj");
            } else {
                mlp = dense(c.activation().apply(dense(h2, lp + "mlp.c_fc")), lp + "mlp.c_proj");
            }
            x = x.add(mlp);
        }
        state.length += (int) t;
        return norm(x, root + (llama ? "norm" : "ln_f"));
    }

    /** Token embeddings plus (GPT-2) position embeddings; positions as for {@link #layers}. */
    private NDArray embed(NDManager m, NDArray ids, int[] positions) {
        NDArray wte = w(root + (llama ? "embed_tokens.weight" : "wte.weight"));
        NDArray h = ids.getNDArrayInternal().embedding(ids, wte, SparseFormat.DENSE).head();
        if (!llama) {
            long t = ids.getShape().get(1);
            NDArray pos = positions.length == t
                    ? m.create(positions, new Shape(t)).toType(DataType.INT64, false)
                    : m.create(positions, ids.getShape()).toType(DataType.INT64, false);
            h = h.add(pos.getNDArrayInternal().embedding(pos, w(root + "wpe.weight"), SparseFormat.DENSE).head());
        }
        return h;
    }

    private static int[] range(int from, int t) {
        int[] r = new int[t];
        for (int i = 0; i < t; i++) {
            r[i] = from + i;
        }
        return r;
    }

    private NDArray head(NDArray hidden) {
        NDArray lm = wOrNull("lm_head.weight");
        return linear(hidden, lm != null ? lm : w(root + (llama ? "embed_tokens.weight" : "wte.weight")), null);
    }

    /**
     * Runs the prompt once and returns the state broadcast to {@code rows} rows.
     *
     * @param parent the manager the state's caches live under (a sub-manager is made)
     * @param prompt the prompt's ids, at least one, shorter than the context
     * @param rows R, positive
     * @param logits receives the next-token logits of the last prompt position, one row of V per state row
     * @return the state
     */
    public State prefill(NDManager parent, int[] prompt, int rows, float[][] logits) {
        return prefill(parent, List.of(prompt), rows, logits);
    }

    /**
     * Runs B prompts at once (left-padded to the longest) and returns the state of B * {@code rows} rows,
     * prompt-major: rows {@code p * rows .. p * rows + rows - 1} continue prompt p.
     *
     * @param parent the manager the state's caches live under (a sub-manager is made)
     * @param prompts the prompts' ids, each at least one and shorter than the context
     * @param rows rows per prompt, positive
     * @param logits receives the next-token logits of each prompt's last position, one row of V per state row
     *     (length at least B * rows)
     * @return the state
     * @throws IllegalArgumentException if there is no prompt, a prompt is empty or fills the context
     */
    public State prefill(NDManager parent, List<int[]> prompts, int rows, float[][] logits) {
        int v = c.vocabSize();
        float[] flat = new float[prompts.size() * rows * v];
        State state = prefill(parent, prompts, rows, 0, flat);
        for (int r = 0; r < prompts.size() * rows; r++) {
            logits[r] = java.util.Arrays.copyOfRange(flat, r * v, (r + 1) * v);
        }
        return state;
    }

    /**
     * Runs B prompts at once, as {@link #prefill(NDManager, List, int, float[][])}, and writes each row's
     * next-token logits, or with a temperature its sampling distribution softmax(z / temperature) computed by
     * libtorch, into one flat array.
     *
     * @param parent the manager the state's caches live under (a sub-manager is made)
     * @param prompts the prompts' ids, each at least one and shorter than the context
     * @param rows rows per prompt, positive
     * @param temperature 0 for logits, positive for probabilities
     * @param out receives B * rows * V values, row-major
     * @return the state
     * @throws IllegalArgumentException if there is no prompt, a prompt is empty or fills the context
     */
    public State prefill(NDManager parent, List<int[]> prompts, int rows, double temperature, float[] out) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompt to prefill");
        }
        if (rows <= 0) {
            throw new IllegalArgumentException("rows must be positive, got " + rows);
        }
        int b = prompts.size();
        int t = 0;
        for (int[] prompt : prompts) {
            if (prompt.length == 0) {
                throw new IllegalArgumentException("a prompt needs at least one token (for example the BOS id)");
            }
            if (prompt.length >= c.maxPositions()) {
                throw new IllegalArgumentException("the prompt's " + prompt.length
                        + " tokens leave no room in the model's context of " + c.maxPositions());
            }
            t = Math.max(t, prompt.length);
        }
        int[] pad = new int[b];
        boolean padded = false;
        int[] ids = new int[b * t];
        int[] positions = new int[b * t];
        for (int p = 0; p < b; p++) {
            int[] prompt = prompts.get(p);
            pad[p] = t - prompt.length;
            padded |= pad[p] > 0;
            System.arraycopy(prompt, 0, ids, p * t + pad[p], prompt.length);
            for (int j = pad[p]; j < t; j++) {
                positions[p * t + j] = j - pad[p];
            }
        }
        State state = new State(parent.newSubManager(), c.numLayers());
        try (NDManager m = parent.newSubManager()) {
            NDArray mask;
            if (!padded) {
                float[] causal = new float[t * t];
                for (int i = 0; i < t; i++) {
                    for (int j = i + 1; j < t; j++) {
                        causal[i * t + j] = Float.NEGATIVE_INFINITY;
                    }
                }
                mask = m.create(causal, new Shape(t, t));
                positions = range(0, t);
            } else {
                // causal, and no real query sees a padding column; a padding query sees itself only (a row of
                // -inf would make its softmax NaN, and NaN values would leak through the zero weights)
                float[] full = new float[b * t * t];
                for (int p = 0; p < b; p++) {
                    for (int i = 0; i < t; i++) {
                        for (int j = 0; j < t; j++) {
                            boolean hidden = j > i || (j < pad[p] && j != i);
                            full[(p * t + i) * t + j] = hidden ? Float.NEGATIVE_INFINITY : 0f;
                        }
                    }
                }
                mask = m.create(full, new Shape(b, 1, t, t));
            }
            NDArray idArray = m.create(ids, new Shape(b, t)).toType(DataType.INT64, false);
            NDArray hidden = layers(m, embed(m, idArray, positions), state, mask, positions);
            NDArray last = hidden.get(new NDIndex(":, -1:, :")).reshape(b, c.hiddenSize());
            float[] l = read(head(last), temperature);
            int v = c.vocabSize();
            for (int p = 0; p < b; p++) {
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(l, p * v, out, (p * rows + r) * v, v);
                }
            }
            for (int i = 0; i < c.numLayers(); i++) {
                state.keys[i] = broadcastRows(state, state.keys[i], rows);
                state.values[i] = broadcastRows(state, state.values[i], rows);
            }
            if (padded) {
                state.pad = new int[b * rows];
                for (int r = 0; r < state.pad.length; r++) {
                    state.pad[r] = pad[r / rows];
                }
            }
        } catch (RuntimeException e) {
            state.close();
            throw e;
        }
        return state;
    }

    /** (B, h, t, d) to (B * rows, h, t, d), each prompt's rows together. */
    private static NDArray broadcastRows(State state, NDArray a, int rows) {
        Shape s = a.getShape();
        NDArray r = a.expandDims(1).broadcast(new Shape(s.get(0), rows, s.get(1), s.get(2), s.get(3)))
                .reshape(s.get(0) * rows, s.get(1), s.get(2), s.get(3)).duplicate();
        r.attach(state.manager);
        a.close();
        return r;
    }

    /**
     * Appends one token per row and returns the next-token logits. With prompts of different lengths a row
     * whose own length has reached the context is run at the last position: its logits are then not its
     * continuation's, and callers stop reading such a row (as {@link Generation} does).
     *
     * @param parent a manager for this step's temporaries
     * @param state the caches (updated)
     * @param tokens R ids, one per row
     * @return logits, R rows of V
     * @throws IllegalStateException if every row has reached the model's context
     */
    public float[][] step(NDManager parent, State state, int[] tokens) {
        float[] l = step(parent, state, tokens, 0);
        int v = c.vocabSize();
        float[][] out = new float[tokens.length][];
        for (int r = 0; r < tokens.length; r++) {
            out[r] = java.util.Arrays.copyOfRange(l, r * v, (r + 1) * v);
        }
        return out;
    }

    /**
     * Appends one token per row, as {@link #step(NDManager, State, int[])}, and returns the next-token logits,
     * or with a temperature the sampling distributions softmax(z / temperature) computed by libtorch, in one
     * flat array (one copy from the native side, no per-row arrays).
     *
     * @param parent a manager for this step's temporaries
     * @param state the caches (updated)
     * @param tokens R ids, one per row
     * @param temperature 0 for logits, positive for probabilities
     * @return R * V values, row-major
     * @throws IllegalStateException if every row has reached the model's context
     */
    public float[] step(NDManager parent, State state, int[] tokens, double temperature) {
        int rows = tokens.length;
        int shortest = Integer.MAX_VALUE;
        for (int r = 0; r < rows; r++) {
            shortest = Math.min(shortest, state.rowLength(r));
        }
        if (shortest >= c.maxPositions()) {
            throw new IllegalStateException("the sequence reached the model's context of " + c.maxPositions());
        }
        try (NDManager m = parent.newSubManager()) {
            int[] positions;
            NDArray mask = null;
            if (state.pad == null) {
                positions = new int[] {state.length};
            } else {
                positions = new int[rows];
                int total = state.length + 1;
                float[] hide = new float[rows * total];
                for (int r = 0; r < rows; r++) {
                    positions[r] = Math.min(state.rowLength(r), c.maxPositions() - 1);
                    java.util.Arrays.fill(hide, r * total, r * total + state.pad[r], Float.NEGATIVE_INFINITY);
                }
                mask = m.create(hide, new Shape(rows, 1, 1, total));
            }
            NDArray ids = m.create(tokens, new Shape(rows, 1)).toType(DataType.INT64, false);
            NDArray hidden = layers(m, embed(m, ids, positions), state, mask, positions);
            return read(head(hidden.reshape(rows, c.hiddenSize())), temperature);
        }
    }

    /** (R, V) logits as floats, or softmax(z / temperature) when the temperature is positive. */
    private static float[] read(NDArray z, double temperature) {
        NDArray f = z.toType(DataType.FLOAT32, false);
        if (temperature > 0) {
            f = (temperature == 1 ? f : f.div((float) temperature)).softmax(1);
        }
        return f.toFloatArray();
    }

    /** @return the model's context length */
    public int maxPositions() {
        return c.maxPositions();
    }
}

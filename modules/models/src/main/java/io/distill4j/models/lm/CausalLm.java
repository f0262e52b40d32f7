package io.distill4j.models.lm;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A causal (decoder-only) language model of the GPT-2 or Llama family as a DJL block.
 *
 * <p>Inputs: {@code ids} (B, T) integer token ids; optionally {@code segments} (B, T) integer segment ids
 * (0 = padding; packed documents get 1, 2, ...; a Hugging Face {@code attention_mask} is a valid segment
 * array); optionally {@code positions} (B, T) integer position ids (default 0..T-1; packed rows restart at 0
 * in each document). Output: logits (B, T, V) in float32. Position t sees positions &lt;= t of its own
 * segment only, in training mode too.
 *
 * <ul>
 *   <li>GPT-2 (Radford et al. 2019): token + learned position embeddings, dropout, pre-LayerNorm layers
 *       with fused q/k/v attention and a GELU MLP, final LayerNorm, head tied to the token embedding
 *       unless {@code tie_word_embeddings} is false.</li>
 *   <li>Llama (Touvron et al. 2023): token embedding, pre-RMSNorm layers with rotary grouped-query attention
 *       and a SwiGLU MLP, final RMSNorm, separate head unless tied.</li>
 * </ul>
 *
 * <p>{@link #namedParameters()} names every parameter as a Hugging Face state dict does, which is what
 * {@link io.distill4j.models.lm.io.HfFolder} reads and writes. Per-pass arrays are attached to the manager
 * of {@code ids}; give each step a sub-manager.
 */
public final class CausalLm extends AbstractBlock {
    private static final byte VERSION = 1;

    private final CausalLmConfig config;
    private final Parameter tokenEmbedding;
    private final Parameter positionEmbedding;
    private final List<DecoderLayer> layers;
    private final Norm finalNorm;
    private final Parameter head;
    private final Map<String, Parameter> named;
    private final Map<String, Dense> linears;
    private final Map<Device, Map<Integer, NDArray>> causalMasks = new HashMap<>();
    private final Map<Device, Map<Integer, NDArray>> triangles = new HashMap<>();
    private final Map<Device, NDArray[]> rotary = new HashMap<>();
    private final Map<Device, Map<Integer, NDArray[]>> rotarySlices = new HashMap<>();
    private NDManager constants;

    /**
     * Creates an uninitialised model; call {@link #initialize(NDManager)} (random weights) before use, then
     * optionally load weights with {@link io.distill4j.models.lm.io.HfFolder}.
     *
     * @param config the architecture
     */
    public CausalLm(CausalLmConfig config) {
        super(VERSION);
        this.config = config;
        boolean llama = config.family() == LmFamily.LLAMA;
        double std = config.initializerRange();
        // GPT-2 scales the init of the projections into the residual stream by 1/sqrt(2 n_layer)
        double outStd = llama ? std : std / Math.sqrt(2.0 * config.numLayers());
        Map<String, Parameter> n = new LinkedHashMap<>();
        Map<String, Dense> d = new LinkedHashMap<>();
        String root = llama ? "model." : "transformer.";
        tokenEmbedding = addParameter(Parameter.builder().setName(llama ? "embed_tokens" : "wte")
                .setType(Parameter.Type.WEIGHT).optShape(new Shape(config.vocabSize(), config.hiddenSize()))
                .optInitializer(new NormalInitializer((float) std)).build());
        n.put(root + (llama ? "embed_tokens.weight" : "wte.weight"), tokenEmbedding);
        if (!llama) {
            positionEmbedding = addParameter(Parameter.builder().setName("wpe").setType(Parameter.Type.WEIGHT)
                    .optShape(new Shape(config.maxPositions(), config.hiddenSize()))
                    .optInitializer(new NormalInitializer((float) std)).build());
            n.put(root + "wpe.weight", positionEmbedding);
        } else {
            positionEmbedding = null;
        }
        DecoderLayer[] ls = new DecoderLayer[config.numLayers()];
        for (int i = 0; i < ls.length; i++) {
            ls[i] = addChildBlock((llama ? "layers." : "h.") + i, new DecoderLayer(config, llama, outStd));
            nameLayer(n, d, root + (llama ? "layers." : "h.") + i + ".", ls[i], llama);
        }
        layers = List.of(ls);
        finalNorm = addChildBlock(llama ? "norm" : "ln_f", new Norm(llama, config.hiddenSize(), config.normEps()));
        nameNorm(n, root + (llama ? "norm" : "ln_f"), finalNorm);
        if (config.tieWordEmbeddings()) {
            head = tokenEmbedding;
        } else {
            head = addParameter(Parameter.builder().setName("lm_head").setType(Parameter.Type.WEIGHT)
                    .optShape(new Shape(config.vocabSize(), config.hiddenSize()))
                    .optInitializer(new NormalInitializer((float) std)).build());
            n.put("lm_head.weight", head);
        }
        named = Collections.unmodifiableMap(n);
        linears = Collections.unmodifiableMap(d);
    }

    private static void nameLayer(Map<String, Parameter> n, Map<String, Dense> d, String p, DecoderLayer l,
            boolean llama) {
        nameNorm(n, p + (llama ? "input_layernorm" : "ln_1"), l.norm1());
        nameNorm(n, p + (llama ? "post_attention_layernorm" : "ln_2"), l.norm2());
        SelfAttention a = l.attention();
        if (llama) {
            nameDense(n, d, p + "self_attn.q_proj", a.query());
            nameDense(n, d, p + "self_attn.k_proj", a.key());
            nameDense(n, d, p + "self_attn.v_proj", a.value());
            nameDense(n, d, p + "self_attn.o_proj", a.output());
            nameDense(n, d, p + "mlp.gate_proj", l.mlp().gate());
            nameDense(n, d, p + "mlp.up_proj", l.mlp().up());
            nameDense(n, d, p + "mlp.down_proj", l.mlp().down());
        } else {
            nameDense(n, d, p + "attn.c_attn", a.fused());
            nameDense(n, d, p + "attn.c_proj", a.output());
            nameDense(n, d, p + "mlp.c_fc", l.mlp().fc());
            nameDense(n, d, p + "mlp.c_proj", l.mlp().down());
        }
    }

    private static void nameDense(Map<String, Parameter> n, Map<String, Dense> modules, String p, Dense d) {
        modules.put(p, d);
        n.put(p + ".weight", d.weight());
        if (d.bias() != null) {
            n.put(p + ".bias", d.bias());
        }
    }

    private static void nameNorm(Map<String, Parameter> n, String p, Norm norm) {
        n.put(p + ".weight", norm.gain());
        if (norm.shift() != null) {
            n.put(p + ".bias", norm.shift());
        }
    }

    /**
     * The linear maps of the decoder layers under their Hugging Face module names (e.g.
     * {@code transformer.h.0.attn.c_attn}, {@code model.layers.0.mlp.down_proj}), in a fixed order: where
     * LoRA adapters go.
     *
     * @return an unmodifiable ordered map
     */
    Map<String, Dense> linearModules() {
        return linears;
    }

    /** @return the architecture */
    public CausalLmConfig config() {
        return config;
    }

    /**
     * The parameters under their Hugging Face state-dict names (e.g. {@code transformer.h.0.attn.c_attn.weight},
     * {@code model.layers.0.self_attn.q_proj.weight}), in a fixed order. Arrays keep DJL's layout: a linear
     * weight is (out, in) even where Hugging Face's GPT-2 {@code Conv1D} stores (in, out). A tied head has no
     * entry of its own.
     *
     * @return an unmodifiable ordered map
     */
    public Map<String, Parameter> namedParameters() {
        return named;
    }

    /**
     * Initialises the weights at random (normal, standard deviation {@code initializer_range}; GPT-2's
     * residual projections scaled by 1/sqrt(2 n_layer); norms at gain 1, shift 0; biases 0). Seed with
     * {@code Engine.getInstance().setRandomSeed(seed)} first for a reproducible draw.
     *
     * @param manager the manager that will own the weights (and the model's cached masks and tables)
     */
    public void initialize(NDManager manager) {
        initialize(manager, DataType.FLOAT32, new Shape(1, config.maxPositions()));
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        constants = manager;
        Shape hidden = new Shape(1, inputShapes[0].get(inputShapes[0].dimension() - 1), config.hiddenSize());
        for (Block child : getChildren().values()) {
            child.initialize(manager, dataType, hidden);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape ids = inputShapes[0];
        return new Shape[] {new Shape(ids.get(0), ids.get(1), config.vocabSize())};
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        if (inputs.isEmpty() || inputs.size() > 3) {
            throw new IllegalArgumentException("CausalLm takes [ids] or [ids, segments] or [ids, segments, positions],"
                    + " got " + inputs.size() + " arrays");
        }
        NDArray segments = inputs.size() > 1 ? inputs.get(1) : null;
        NDArray positions = inputs.size() > 2 ? inputs.get(2) : null;
        return new NDList(logits(ps, inputs.get(0), segments, positions, training));
    }

    /**
     * Runs the model.
     *
     * @param ps the parameter store
     * @param ids (B, T) token ids, int32 or int64
     * @param segments (B, T) segment ids (0 = padding), or null for one unpadded document per row
     * @param positions (B, T) position ids, or null for 0..T-1
     * @param training whether this is a training pass (dropout)
     * @return logits (B, T, V), attached to the manager of {@code ids}
     */
    public NDArray logits(ParameterStore ps, NDArray ids, NDArray segments, NDArray positions, boolean training) {
        NDArray h = hidden(ps, ids, segments, positions, training);
        NDArray w = ps.getValue(head, h.getDevice(), training);
        return h.getNDArrayInternal().linear(h, w, null).head();
    }

    /**
     * Runs the model up to the final norm (the input of the LM head).
     *
     * @param ps the parameter store
     * @param ids (B, T) token ids
     * @param segments (B, T) segment ids, or null
     * @param positions (B, T) position ids, or null
     * @param training whether this is a training pass
     * @return (B, T, d), attached to the manager of {@code ids}
     */
    public NDArray hidden(ParameterStore ps, NDArray ids, NDArray segments, NDArray positions, boolean training) {
        Shape s = ids.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("ids must be (batch, time), got shape " + s);
        }
        int t = (int) s.get(1);
        if (t > config.maxPositions()) {
            throw new IllegalArgumentException("sequence length " + t + " exceeds the model's context "
                    + config.maxPositions());
        }
        checkSame("segments", segments, s);
        checkSame("positions", positions, s);
        if (constants == null) {
            throw new IllegalStateException("CausalLm is not initialised: call initialize(manager) first");
        }
        Device device = ids.getDevice();
        NDArray idx = asLong(ids);
        NDArray pos = positions == null ? null : asLong(positions);
        NDArray mask = segments == null ? causalMask(device, t)
                : AttentionMasks.fromSegments(segments, triangle(device, t));
        NDArray cos = null;
        NDArray sin = null;
        NDArray wte = ps.getValue(tokenEmbedding, device, training);
        NDArray h = idx.getNDArrayInternal().embedding(idx, wte, SparseFormat.DENSE).head();
        if (config.family() == LmFamily.GPT2) {
            NDArray wpe = ps.getValue(positionEmbedding, device, training);
            NDArray p = pos != null ? pos : ids.getManager().arange(0, t, 1, DataType.INT64);
            h = h.add(p.getNDArrayInternal().embedding(p, wpe, SparseFormat.DENSE).head());
            if (training && config.embdDropout() > 0) {
                h = h.getNDArrayInternal().dropout(h, (float) config.embdDropout(), true).head();
            }
        } else if (pos == null) {
            NDArray[] cs = rotarySlice(device, t);
            cos = cs[0];
            sin = cs[1];
        } else {
            NDArray[] tables = rotaryTables(device);
            cos = pos.getNDArrayInternal().embedding(pos, tables[0], SparseFormat.DENSE).head().expandDims(1);
            sin = pos.getNDArrayInternal().embedding(pos, tables[1], SparseFormat.DENSE).head().expandDims(1);
        }
        DataType compute = wte.getDataType();
        if (compute != DataType.FLOAT32) {
            // mixed precision hands the layers float16 weights: float32 constants would promote the scores
            // to float32 and the next matmul would fail (a blocked -1e30 becomes -inf, and every row keeps
            // its own position, so the softmax stays finite)
            mask = mask.toType(compute, false);
            cos = cos == null ? null : cos.toType(compute, false);
            sin = sin == null ? null : sin.toType(compute, false);
        }
        AttentionContext ctx = new AttentionContext(mask, cos, sin);
        for (DecoderLayer layer : layers) {
            h = layer.apply(ps, h, ctx, training);
        }
        return finalNorm.apply(ps, h, training);
    }

    private static void checkSame(String name, NDArray a, Shape ids) {
        if (a != null && !a.getShape().equals(ids)) {
            throw new IllegalArgumentException(name + " must have the shape of ids " + ids + ", got " + a.getShape());
        }
    }

    private static NDArray asLong(NDArray a) {
        DataType d = a.getDataType();
        if (d == DataType.INT64) {
            return a;
        }
        if (d != DataType.INT32 && d != DataType.INT8 && d != DataType.UINT8 && d != DataType.INT16) {
            throw new IllegalArgumentException("token and position ids must be integers, got " + d);
        }
        return a.toType(DataType.INT64, false);
    }

    private NDArray causalMask(Device device, int t) {
        return causalMasks.computeIfAbsent(device, k -> new HashMap<>())
                .computeIfAbsent(t, k -> AttentionMasks.causal(constants, t).toDevice(device, false));
    }

    private NDArray triangle(Device device, int t) {
        return triangles.computeIfAbsent(device, k -> new HashMap<>())
                .computeIfAbsent(t, k -> AttentionMasks.lowerTriangle(constants, t).toDevice(device, false));
    }

    private NDArray[] rotaryTables(Device device) {
        return rotary.computeIfAbsent(device, k -> {
            NDArray[] tables = RotaryTables.build(constants, config.maxPositions(), config.headDim(),
                    config.ropeTheta());
            return new NDArray[] {tables[0].toDevice(device, false), tables[1].toDevice(device, false)};
        });
    }

    private NDArray[] rotarySlice(Device device, int t) {
        return rotarySlices.computeIfAbsent(device, k -> new HashMap<>()).computeIfAbsent(t, k -> {
            NDArray[] tables = rotaryTables(device);
            NDIndex rows = new NDIndex("0:{}", t);
            Shape s = new Shape(1, 1, t, config.headDim());
            return new NDArray[] {tables[0].get(rows).reshape(s), tables[1].get(rows).reshape(s)};
        });
    }

    /** @return the number of trainable parameters (a tied head counted once) */
    public long parameterCount() {
        long total = 0;
        for (Parameter p : named.values()) {
            total += p.getShape().size();
        }
        return total;
    }

    @Override
    public String toString() {
        return "CausalLm(" + config.family().modelType() + ", layers=" + config.numLayers() + ", width="
                + config.hiddenSize() + ", heads=" + config.numHeads() + "/" + config.numKvHeads() + ", vocab="
                + config.vocabSize() + ", context=" + config.maxPositions() + ")";
    }
}

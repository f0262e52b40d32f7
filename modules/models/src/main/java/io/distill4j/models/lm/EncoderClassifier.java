package io.distill4j.models.lm;

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
import io.distill4j.data.BadInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A transformer encoder classifier over token ids (bidirectional, BERT-like but pre-LayerNorm).
 *
 * <p>Token + learned position embeddings, dropout, {@code layers} pre-LayerNorm layers with bidirectional
 * multi-head attention and a GELU MLP, a final LayerNorm, pooling over the sequence, and a linear layer to
 * class logits. Inputs: {@code ids} (B, T) and optionally {@code mask} (B, T) with 1 for tokens and 0 for
 * padding; padding is neither attended to nor pooled, so a padded sequence gets the logits of the
 * unpadded one. Output: logits (B, C). Dropout is active in training mode only (for MC dropout, run
 * forward passes with {@code training = true} outside a gradient collector). The layers are the same blocks
 * as {@link CausalLm}'s, with a non-causal mask (written for this project rather than DJL's
 * {@code TransformerEncoderBlock}, whose BatchNorm mixes positions and examples).
 */
public final class EncoderClassifier extends AbstractBlock {
    private static final byte VERSION = 1;

    /** How the sequence is summarised before the classification layer. */
    public enum Pooling {
        /** Mean over the non-padding positions. */
        MEAN,
        /** The first position (a CLS-style token the caller prepends). */
        FIRST
    }

    /**
     * The architecture.
     *
     * @param vocabSize V
     * @param hiddenSize d
     * @param numLayers encoder layers
     * @param numHeads attention heads (divides d)
     * @param intermediateSize MLP inner width
     * @param maxPositions longest sequence
     * @param numClasses C
     * @param dropout dropout on embeddings, attention probabilities, residual branches and the pooled vector
     * @param pooling mean or first
     * @param initializerRange standard deviation of the normal initialiser
     */
    public record Config(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
            int maxPositions, int numClasses, double dropout, Pooling pooling, double initializerRange) {

        /** Validates: sizes positive, heads dividing the width, dropout in [0, 1). */
        public Config {
            if (numClasses < 2) {
                throw new IllegalArgumentException("num_classes must be at least 2, got " + numClasses);
            }
            if (pooling == null) {
                throw new IllegalArgumentException("pooling must be mean or first");
            }
            if (numHeads <= 0 || hiddenSize <= 0 || hiddenSize % numHeads != 0) {
                throw new IllegalArgumentException("hidden_size (" + hiddenSize + ") must be a positive multiple of "
                        + "num_heads (" + numHeads + ")");
            }
            layerConfig(vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions, dropout,
                    initializerRange);
        }

        private static final Set<String> KEYS = Set.of("model_type", "vocab_size", "hidden_size", "num_layers",
                "num_heads", "intermediate_size", "max_positions", "num_classes", "dropout", "pooling",
                "initializer_range");

        /**
         * Reads a preset map ({@code model_type: encoder-classifier} and the keys above in snake case);
         * unknown keys are rejected.
         *
         * @param m the parsed YAML map
         * @param source the preset's name, for messages
         * @return the config
         * @throws BadInputException naming the source, key and value at fault
         */
        public static Config fromPreset(Map<String, ?> m, String source) {
            for (String k : m.keySet()) {
                if (!KEYS.contains(k)) {
                    throw new BadInputException(source + ": unknown key '" + k + "'; known keys are "
                            + new TreeSet<>(KEYS));
                }
            }
            Object type = m.get("model_type");
            if (!"encoder-classifier".equals(type)) {
                throw new BadInputException(source + ": field model_type must be encoder-classifier, got '" + type
                        + "'");
            }
            try {
                int d = integer(m, "hidden_size", source, 128);
                return new Config(integer(m, "vocab_size", source, -1), d, integer(m, "num_layers", source, 2),
                        integer(m, "num_heads", source, 4), integer(m, "intermediate_size", source, 4 * d),
                        integer(m, "max_positions", source, 128), integer(m, "num_classes", source, -1),
                        number(m, "dropout", source, 0.1),
                        pooling(m.get("pooling"), source),
                        number(m, "initializer_range", source, 0.02));
            } catch (IllegalArgumentException e) {
                throw new BadInputException(source + ": " + e.getMessage(), e);
            }
        }

        private static Pooling pooling(Object v, String source) {
            String s = v == null ? "mean" : String.valueOf(v).toLowerCase(Locale.ROOT);
            switch (s) {
                case "mean":
                    return Pooling.MEAN;
                case "first":
                    return Pooling.FIRST;
                default:
                    throw new BadInputException(source + ": field pooling must be mean or first, got '" + v + "'");
            }
        }

        private static int integer(Map<String, ?> m, String key, String source, int dflt) {
            Object v = m.get(key);
            if (v == null) {
                if (dflt < 0) {
                    throw new BadInputException(source + ": field " + key + " is missing");
                }
                return dflt;
            }
            if (v instanceof Integer || v instanceof Long) {
                return ((Number) v).intValue();
            }
            throw new BadInputException(source + ": field " + key + " must be an integer, got '" + v + "'");
        }

        private static double number(Map<String, ?> m, String key, String source, double dflt) {
            Object v = m.get(key);
            if (v == null) {
                return dflt;
            }
            if (v instanceof Number n) {
                return n.doubleValue();
            }
            throw new BadInputException(source + ": field " + key + " must be a number, got '" + v + "'");
        }
    }

    private static CausalLmConfig layerConfig(int vocab, int d, int layers, int heads, int inner, int positions,
            double dropout, double std) {
        return CausalLmConfig.builder(LmFamily.GPT2).vocabSize(vocab).hiddenSize(d).numLayers(layers)
                .numHeads(heads).intermediateSize(inner).maxPositions(positions).activation(LmActivation.GELU)
                .dropout(dropout).initializerRange(std).build();
    }

    private final Config config;
    private final CausalLmConfig layerConfig;
    private final Parameter tokenEmbedding;
    private final Parameter positionEmbedding;
    private final List<DecoderLayer> layers = new ArrayList<>();
    private final Norm finalNorm;
    private final Dense classifier;

    /**
     * Creates an uninitialised classifier; call {@link #initialize(NDManager)}.
     *
     * @param config the architecture
     */
    public EncoderClassifier(Config config) {
        super(VERSION);
        this.config = config;
        this.layerConfig = layerConfig(config.vocabSize(), config.hiddenSize(), config.numLayers(), config.numHeads(),
                config.intermediateSize(), config.maxPositions(), config.dropout(), config.initializerRange());
        float std = (float) config.initializerRange();
        tokenEmbedding = addParameter(Parameter.builder().setName("token_embedding").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(config.vocabSize(), config.hiddenSize())).optInitializer(new NormalInitializer(std))
                .build());
        positionEmbedding = addParameter(Parameter.builder().setName("position_embedding")
                .setType(Parameter.Type.WEIGHT).optShape(new Shape(config.maxPositions(), config.hiddenSize()))
                .optInitializer(new NormalInitializer(std)).build());
        double outStd = config.initializerRange() / Math.sqrt(2.0 * config.numLayers());
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(addChildBlock("layer." + i, new DecoderLayer(layerConfig, false, outStd)));
        }
        finalNorm = addChildBlock("norm", new Norm(false, config.hiddenSize(), layerConfig.normEps()));
        classifier = addChildBlock("classifier", new Dense(config.hiddenSize(), config.numClasses(), true,
                config.initializerRange()));
    }

    /** @return the architecture */
    public Config config() {
        return config;
    }

    /**
     * Initialises the weights at random (seed the engine first for a reproducible draw).
     *
     * @param manager the manager that will own the weights
     */
    public void initialize(NDManager manager) {
        initialize(manager, DataType.FLOAT32, new Shape(1, config.maxPositions()));
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape hidden = new Shape(1, config.maxPositions(), config.hiddenSize());
        for (Block child : getChildren().values()) {
            child.initialize(manager, dataType, hidden);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numClasses())};
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        if (inputs.isEmpty() || inputs.size() > 2) {
            throw new IllegalArgumentException("EncoderClassifier takes [ids] or [ids, mask], got " + inputs.size()
                    + " arrays");
        }
        return new NDList(logits(ps, inputs.get(0), inputs.size() > 1 ? inputs.get(1) : null, training));
    }

    /**
     * Classifies.
     *
     * @param ps the parameter store
     * @param ids (B, T) token ids
     * @param mask (B, T) 1 for tokens, 0 for padding, or null when nothing is padded
     * @param training whether this is a training pass (dropout)
     * @return logits (B, C), attached to the manager of {@code ids}
     */
    public NDArray logits(ParameterStore ps, NDArray ids, NDArray mask, boolean training) {
        Shape s = ids.getShape();
        if (s.dimension() != 2 || s.get(1) > config.maxPositions() || s.get(1) < 1) {
            throw new IllegalArgumentException("ids must be (batch, time) with 1 <= time <= " + config.maxPositions()
                    + ", got shape " + s);
        }
        if (mask != null && !mask.getShape().equals(s)) {
            throw new IllegalArgumentException("mask must have the shape of ids " + s + ", got " + mask.getShape());
        }
        int t = (int) s.get(1);
        NDArray idx = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
        NDArray h = idx.getNDArrayInternal()
                .embedding(idx, ps.getValue(tokenEmbedding, ids.getDevice(), training), SparseFormat.DENSE).head();
        NDArray pos = ids.getManager().arange(0, t, 1, DataType.INT64);
        h = h.add(pos.getNDArrayInternal()
                .embedding(pos, ps.getValue(positionEmbedding, ids.getDevice(), training), SparseFormat.DENSE).head());
        h = dropout(h, training);
        NDArray attnMask = mask == null ? null : AttentionMasks.fromSegments(mask, null);
        AttentionContext ctx = new AttentionContext(attnMask, null, null);
        for (DecoderLayer layer : layers) {
            h = layer.apply(ps, h, ctx, training);
        }
        h = finalNorm.apply(ps, h, training);
        NDArray pooled;
        if (config.pooling() == Pooling.FIRST) {
            pooled = h.get(new NDIndex(":, 0, :"));
        } else if (mask == null) {
            pooled = h.mean(new int[] {1});
        } else {
            NDArray m = mask.toType(DataType.FLOAT32, false).expandDims(2);
            pooled = h.mul(m).sum(new int[] {1}).div(m.sum(new int[] {1}).maximum(1f));
        }
        return classifier.apply(ps, dropout(pooled, training), training);
    }

    private NDArray dropout(NDArray x, boolean training) {
        if (!training || config.dropout() == 0) {
            return x;
        }
        return x.getNDArrayInternal().dropout(x, (float) config.dropout(), true).head();
    }
}

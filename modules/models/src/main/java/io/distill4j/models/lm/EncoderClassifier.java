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
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

        /** A preset's keys, the components' names in snake case, bound strictly by the one configuration binding. */
        @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
        record Keys(String modelType, Integer vocabSize, Integer hiddenSize, Integer numLayers, Integer numHeads,
                Integer intermediateSize, Integer maxPositions, Integer numClasses, Double dropout, Pooling pooling,
                Double initializerRange) {
        }

        /**
         * Reads a preset map ({@code model_type: encoder-classifier} and the components above in snake case:
         * {@code vocab_size} and {@code num_classes} required; {@code hidden_size} 128, {@code num_layers} 2,
         * {@code num_heads} 4, {@code intermediate_size} 4 d, {@code max_positions} 128, {@code dropout} 0.1,
         * {@code pooling} mean, {@code initializer_range} 0.02 by default); unknown keys are rejected.
         *
         * @param m the parsed YAML map
         * @param source the preset's name, for messages
         * @return the config
         * @throws BadInputException naming the source, key and value at fault
         */
        public static Config fromPreset(Map<String, ?> m, String source) {
            Keys k;
            try {
                k = ConfigReader.convert(m, Keys.class, source);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(e.getMessage(), e); // already "source: field key: what is wrong"
            }
            if (!"encoder-classifier".equals(k.modelType())) {
                throw new BadInputException(source + ": field model_type must be encoder-classifier, got '"
                        + k.modelType() + "'");
            }
            for (String required : new String[] {"vocab_size", "num_classes"}) {
                if (m.get(required) == null) {
                    throw new BadInputException(source + ": field " + required + " is missing");
                }
            }
            try {
                int d = k.hiddenSize() == null ? 128 : k.hiddenSize();
                return new Config(k.vocabSize(), d, or(k.numLayers(), 2), or(k.numHeads(), 4),
                        or(k.intermediateSize(), 4 * d), or(k.maxPositions(), 128), k.numClasses(),
                        or(k.dropout(), 0.1), or(k.pooling(), Pooling.MEAN), or(k.initializerRange(), 0.02));
            } catch (IllegalArgumentException e) {
                throw new BadInputException(source + ": " + e.getMessage(), e);
            }
        }

        private static <T> T or(T value, T dflt) {
            return value == null ? dflt : value;
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

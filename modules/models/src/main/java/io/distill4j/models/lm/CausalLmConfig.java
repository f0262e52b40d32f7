package io.distill4j.models.lm;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Require;
import io.distill4j.data.config.ConfigReader;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The architecture of a causal language model, in Hugging Face terms.
 *
 * <p>Build one with {@link #builder(LmFamily)} (validated in {@code build()}), from a Hugging Face
 * {@code config.json} map with {@link #fromHfConfig(Map, String)}, or from a distill4j preset with
 * {@link #fromPreset(Map, String)}. Presets use the Hugging Face key names of their family, so a preset is
 * a subset of a {@code config.json}; {@link #toHfConfig()} writes the full {@code config.json}.
 *
 * @param family GPT-2 or Llama
 * @param vocabSize V, rows of the token embedding and the LM head
 * @param hiddenSize d, the residual width
 * @param numLayers decoder layers
 * @param numHeads query heads
 * @param numKvHeads key/value heads (GPT-2: equal to {@code numHeads}; Llama: divides it, grouped-query attention)
 * @param headDim width of one head (GPT-2: d / heads)
 * @param intermediateSize the MLP's inner width
 * @param maxPositions the longest sequence (GPT-2: rows of the position table; Llama: rotary table length)
 * @param normEps epsilon of LayerNorm (GPT-2) or RMSNorm (Llama)
 * @param activation the MLP activation (Llama: the SwiGLU gate activation)
 * @param ropeTheta the rotary base (Llama only; ignored by GPT-2)
 * @param tieWordEmbeddings whether the LM head reuses the token embedding matrix
 * @param attentionBias whether q/k/v/o projections have biases (GPT-2: always true)
 * @param mlpBias whether the MLP projections have biases (GPT-2: always true)
 * @param embdDropout dropout after the embeddings (GPT-2 {@code embd_pdrop})
 * @param residDropout dropout on each residual branch (GPT-2 {@code resid_pdrop})
 * @param attnDropout dropout on attention probabilities
 * @param initializerRange standard deviation of the normal initialiser
 * @param bosTokenId beginning-of-sequence id, or -1 when absent
 * @param eosTokenId end-of-sequence id, or -1 when absent
 */
public record CausalLmConfig(LmFamily family, int vocabSize, int hiddenSize, int numLayers, int numHeads,
        int numKvHeads, int headDim, int intermediateSize, int maxPositions, double normEps, LmActivation activation,
        double ropeTheta, boolean tieWordEmbeddings, boolean attentionBias, boolean mlpBias, double embdDropout,
        double residDropout, double attnDropout, double initializerRange, int bosTokenId, int eosTokenId) {

    /** Validates the fields; see {@link Builder#build()}. */
    public CausalLmConfig {
        if (family == null) {
            throw new IllegalArgumentException("family must be gpt2 or llama, got null");
        }
        Require.positive("vocab_size", vocabSize);
        Require.positive("hidden_size", hiddenSize);
        Require.positive("num_hidden_layers", numLayers);
        Require.positive("num_attention_heads", numHeads);
        Require.positive("num_key_value_heads", numKvHeads);
        Require.positive("head_dim", headDim);
        Require.positive("intermediate_size", intermediateSize);
        Require.positive("max_position_embeddings", maxPositions);
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numHeads
                    + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
        }
        if (family == LmFamily.GPT2) {
            if (numKvHeads != numHeads) {
                throw new IllegalArgumentException("GPT-2 has no grouped-query attention: num_key_value_heads ("
                        + numKvHeads + ") must equal n_head (" + numHeads + ")");
            }
            if (hiddenSize % numHeads != 0 || headDim != hiddenSize / numHeads) {
                throw new IllegalArgumentException("GPT-2: n_embd (" + hiddenSize + ") must be n_head (" + numHeads
                        + ") times the head width (" + headDim + ")");
            }
            if (!attentionBias || !mlpBias) {
                throw new IllegalArgumentException("GPT-2 projections always have biases");
            }
        } else if (headDim % 2 != 0) {
            throw new IllegalArgumentException("Llama: head_dim must be even for rotary embeddings, got " + headDim);
        }
        if (!(normEps > 0) || Double.isInfinite(normEps)) {
            throw new IllegalArgumentException("norm epsilon must be positive and finite, got " + normEps);
        }
        if (activation == null) {
            throw new IllegalArgumentException("activation must be set");
        }
        if (family == LmFamily.LLAMA && !(ropeTheta > 0 && !Double.isInfinite(ropeTheta))) {
            throw new IllegalArgumentException("rope_theta must be positive and finite, got " + ropeTheta);
        }
        probability("embd_pdrop", embdDropout);
        probability("resid_pdrop", residDropout);
        probability("attn_pdrop", attnDropout);
        if (!(initializerRange > 0) || Double.isInfinite(initializerRange)) {
            throw new IllegalArgumentException("initializer_range must be positive and finite, got "
                    + initializerRange);
        }
        if (bosTokenId < -1 || bosTokenId >= vocabSize) {
            throw new IllegalArgumentException("bos_token_id must be in [0, " + vocabSize + "), got " + bosTokenId);
        }
        if (eosTokenId < -1 || eosTokenId >= vocabSize) {
            throw new IllegalArgumentException("eos_token_id must be in [0, " + vocabSize + "), got " + eosTokenId);
        }
    }

    private static void probability(String name, double v) {
        if (!(v >= 0 && v < 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1), got " + v);
        }
    }

    /** @return the number of query heads sharing one key/value head */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /**
     * Counts the trainable parameters (a tied head counted once).
     *
     * @return the parameter count
     */
    public long parameterCount() {
        long d = hiddenSize;
        long q = (long) numHeads * headDim;
        long kv = (long) numKvHeads * headDim;
        long attn = d * q + 2 * d * kv + q * d + (attentionBias ? q + 2 * kv + d : 0);
        long mlp;
        long norms;
        if (family == LmFamily.GPT2) {
            mlp = 2 * d * intermediateSize + intermediateSize + d;
            norms = 4 * d;
        } else {
            mlp = 3 * d * intermediateSize + (mlpBias ? 2L * intermediateSize + d : 0);
            norms = 2 * d;
        }
        long total = numLayers * (attn + mlp + norms) + (long) vocabSize * d;
        total += family == LmFamily.GPT2 ? (long) maxPositions * d + 2 * d : d;
        if (!tieWordEmbeddings) {
            total += (long) vocabSize * d;
        }
        return total;
    }

    /**
     * Starts a builder with the family's defaults (Hugging Face's defaults for the family, scaled down:
     * call the setters for the sizes).
     *
     * @param family the family
     * @return the builder
     */
    public static Builder builder(LmFamily family) {
        return new Builder(family);
    }

    /** @return a builder holding this config's values, to derive a variant */
    public Builder toBuilder() {
        Builder b = new Builder(family);
        b.vocabSize = vocabSize;
        b.hiddenSize = hiddenSize;
        b.numLayers = numLayers;
        b.numHeads = numHeads;
        b.numKvHeads = numKvHeads;
        b.headDim = headDim;
        b.intermediateSize = intermediateSize;
        b.maxPositions = maxPositions;
        b.normEps = normEps;
        b.activation = activation;
        b.ropeTheta = ropeTheta;
        b.tieWordEmbeddings = tieWordEmbeddings;
        b.attentionBias = attentionBias;
        b.mlpBias = mlpBias;
        b.embdDropout = embdDropout;
        b.residDropout = residDropout;
        b.attnDropout = attnDropout;
        b.initializerRange = initializerRange;
        b.bosTokenId = bosTokenId;
        b.eosTokenId = eosTokenId;
        return b;
    }

    // ---------------------------------------------------------------- Hugging Face config.json

    /**
     * GPT-2's {@code config.json} keys (transformers' {@code GPT2Config}) that distill4j reads, bound strictly by
     * the one configuration binding; the component names in snake case are the keys.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Gpt2Keys(String modelType, Integer vocabSize, Integer nPositions, Integer nCtx, Integer nEmbd,
            Integer nLayer, Integer nHead, Integer nInner, String activationFunction, Double residPdrop,
            Double embdPdrop, Double attnPdrop, Double layerNormEpsilon, Double initializerRange,
            Boolean tieWordEmbeddings, @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> bosTokenId,
            @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> eosTokenId,
            Boolean scaleAttnWeights, Boolean scaleAttnByInverseLayerIdx, Boolean reorderAndUpcastAttn,
            Boolean addCrossAttention) {
    }

    /** Llama's {@code config.json} keys (transformers' {@code LlamaConfig}) that distill4j reads. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record LlamaKeys(String modelType, Integer vocabSize, Integer hiddenSize, Integer intermediateSize,
            Integer numHiddenLayers, Integer numAttentionHeads, Integer numKeyValueHeads, Integer headDim,
            Integer maxPositionEmbeddings, Double rmsNormEps, Double ropeTheta, Map<String, Object> ropeParameters,
            Map<String, Object> ropeScaling, String hiddenAct, Boolean attentionBias, Boolean mlpBias,
            Double attentionDropout, Boolean tieWordEmbeddings, Double initializerRange,
            @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> bosTokenId,
            @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> eosTokenId,
            Integer pretrainingTp) {
    }

    private static final Set<String> GPT2_KEYS = keys(Gpt2Keys.class);
    private static final Set<String> LLAMA_KEYS = keys(LlamaKeys.class);

    private static Set<String> keys(Class<? extends Record> type) {
        PropertyNamingStrategies.NamingBase snake = (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;
        return java.util.Arrays.stream(type.getRecordComponents()).map(c -> snake.translate(c.getName()))
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /**
     * The keys a preset of a family may hold.
     *
     * @param family the family
     * @return {@code model_type} and the family's Hugging Face keys
     */
    public static Set<String> presetKeys(LmFamily family) {
        return family == LmFamily.GPT2 ? GPT2_KEYS : LLAMA_KEYS;
    }

    /**
     * Reads a Hugging Face {@code config.json} (as parsed JSON). Keys that do not change the computation
     * ({@code architectures}, {@code transformers_version}, {@code use_cache}, ...) are ignored; settings this
     * implementation does not support are rejected.
     *
     * @param json the parsed config
     * @param source the file's name, for messages
     * @return the config
     * @throws BadInputException naming the source, field and value of a missing, malformed or unsupported setting
     */
    public static CausalLmConfig fromHfConfig(Map<String, ?> json, String source) {
        return parse(json, source, false);
    }

    /**
     * Reads a distill4j preset: a map with {@code model_type} and the family's Hugging Face keys; any other
     * key is rejected (a typo must not silently fall back to a default).
     *
     * @param preset the parsed YAML map
     * @param source the preset's name, for messages
     * @return the config
     * @throws BadInputException naming the source, field and value of an unknown key or bad value
     */
    public static CausalLmConfig fromPreset(Map<String, ?> preset, String source) {
        return parse(preset, source, true);
    }

    private static CausalLmConfig parse(Map<String, ?> m, String source, boolean strict) {
        Object type = m.get("model_type");
        if (type == null) {
            throw new BadInputException(source + ": field model_type is missing");
        }
        LmFamily family;
        try {
            family = LmFamily.ofModelType(String.valueOf(type));
        } catch (IllegalArgumentException e) {
            throw new BadInputException(source + ": field model_type: " + e.getMessage(), e);
        }
        Set<String> known = presetKeys(family);
        Map<String, Object> keys = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : m.entrySet()) {
            if (known.contains(e.getKey())) {
                if (e.getValue() != null) { // config.json writes null for "not set"
                    keys.put(e.getKey(), e.getValue());
                }
            } else if (strict) {
                throw new BadInputException(source + ": unknown key '" + e.getKey() + "' for model_type "
                        + family.modelType() + "; known keys are " + new java.util.TreeSet<>(known));
            }
        }
        Builder b = builder(family);
        try {
            if (family == LmFamily.GPT2) {
                readGpt2(bind(keys, Gpt2Keys.class, source), b);
            } else {
                readLlama(bind(keys, LlamaKeys.class, source), b);
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new BadInputException(source + ": " + e.getMessage(), e);
        }
    }

    private static <T> T bind(Map<String, Object> keys, Class<T> type, String source) {
        try {
            return ConfigReader.convert(keys, type, source);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e); // already "source: field key: what is wrong"
        }
    }

    private static <T> T or(T value, T dflt) {
        return value == null ? dflt : value;
    }

    /** The first of one or several token ids ({@code eos_token_id: [2, 32000]}), -1 when absent. */
    private static int firstId(List<Integer> ids) {
        return ids == null || ids.isEmpty() ? -1 : ids.get(0);
    }

    private static void require(String key, Boolean value, boolean supported) {
        if (value != null && value != supported) {
            throw new IllegalArgumentException("field " + key + " = " + value + " is not supported (only " + supported
                    + ")");
        }
    }

    private static LmActivation activation(String key, String name) {
        try {
            return LmActivation.ofHfName(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("field " + key + ": " + e.getMessage(), e);
        }
    }

    private static void readGpt2(Gpt2Keys k, Builder b) {
        b.vocabSize(or(k.vocabSize(), 50257));
        b.maxPositions(or(k.nPositions(), 1024));
        int d = or(k.nEmbd(), 768);
        int heads = or(k.nHead(), 12);
        b.hiddenSize(d).numLayers(or(k.nLayer(), 12)).numHeads(heads).numKvHeads(heads);
        if (heads > 0 && d % heads != 0) {
            throw new IllegalArgumentException("field n_embd: " + d + " is not a multiple of n_head " + heads);
        }
        b.headDim(heads > 0 ? d / heads : 0);
        b.intermediateSize(or(k.nInner(), 4 * d));
        b.activation(activation("activation_function", or(k.activationFunction(), "gelu_new")));
        b.residDropout(or(k.residPdrop(), 0.1)).embdDropout(or(k.embdPdrop(), 0.1)).attnDropout(or(k.attnPdrop(), 0.1));
        b.normEps(or(k.layerNormEpsilon(), 1e-5));
        b.tieWordEmbeddings(or(k.tieWordEmbeddings(), true));
        require("scale_attn_weights", k.scaleAttnWeights(), true);
        require("scale_attn_by_inverse_layer_idx", k.scaleAttnByInverseLayerIdx(), false);
        require("add_cross_attention", k.addCrossAttention(), false);
        // reorder_and_upcast_attn changes numerics only: float32 throughout here
        b.initializerRange(or(k.initializerRange(), b.initializerRange));
        b.bosTokenId(firstId(k.bosTokenId())).eosTokenId(firstId(k.eosTokenId()));
    }

    private static void readLlama(LlamaKeys k, Builder b) {
        b.vocabSize(or(k.vocabSize(), 32000));
        int d = or(k.hiddenSize(), 4096);
        int heads = or(k.numAttentionHeads(), 32);
        b.hiddenSize(d).numLayers(or(k.numHiddenLayers(), 32)).numHeads(heads);
        b.numKvHeads(or(k.numKeyValueHeads(), heads));
        if (heads > 0 && k.headDim() == null && d % heads != 0) {
            throw new IllegalArgumentException("field hidden_size: " + d + " is not a multiple of num_attention_heads "
                    + heads + " and head_dim is not given");
        }
        b.headDim(or(k.headDim(), heads > 0 ? d / heads : 0));
        b.intermediateSize(or(k.intermediateSize(), 11008));
        b.maxPositions(or(k.maxPositionEmbeddings(), 2048));
        b.normEps(or(k.rmsNormEps(), 1e-6));
        b.activation(activation("hidden_act", or(k.hiddenAct(), "silu")));
        b.attentionBias(or(k.attentionBias(), false)).mlpBias(or(k.mlpBias(), false));
        b.attnDropout(or(k.attentionDropout(), 0.0)).residDropout(0).embdDropout(0);
        b.tieWordEmbeddings(or(k.tieWordEmbeddings(), false));
        double theta = or(k.ropeTheta(), 10000.0);
        if (k.ropeParameters() != null) {
            Map<String, Object> p = k.ropeParameters();
            Object ropeType = or(p.get("rope_type"), "default");
            if (!"default".equals(ropeType)) {
                throw new IllegalArgumentException("field rope_parameters.rope_type: only 'default' rotary "
                        + "embeddings are supported, got '" + ropeType + "'");
            }
            Object t = p.get("rope_theta");
            if (t != null && !(t instanceof Number)) {
                throw new IllegalArgumentException("field rope_parameters.rope_theta: expected a number, got '" + t + "'");
            }
            theta = t == null ? theta : ((Number) t).doubleValue();
        }
        if (k.ropeScaling() != null) {
            Map<String, Object> s = k.ropeScaling();
            Object type = s.containsKey("rope_type") ? s.get("rope_type") : s.get("type");
            if (!"default".equals(type)) {
                throw new IllegalArgumentException("field rope_scaling: scaled rotary embeddings are not supported, "
                        + "got " + s);
            }
        }
        b.ropeTheta(theta);
        int tp = or(k.pretrainingTp(), 1);
        if (tp < 1) {
            throw new IllegalArgumentException("field pretraining_tp must be at least 1, got " + tp);
        }
        b.initializerRange(or(k.initializerRange(), b.initializerRange));
        b.bosTokenId(firstId(k.bosTokenId())).eosTokenId(firstId(k.eosTokenId()));
    }

    /**
     * Writes the config as a Hugging Face {@code config.json} map, readable by {@code transformers}'
     * {@code AutoConfig} and by {@link #fromHfConfig(Map, String)}.
     *
     * @return an ordered map ready for JSON serialisation
     */
    public Map<String, Object> toHfConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of(family.architecture()));
        m.put("model_type", family.modelType());
        m.put("vocab_size", vocabSize);
        if (family == LmFamily.GPT2) {
            m.put("n_positions", maxPositions);
            m.put("n_embd", hiddenSize);
            m.put("n_layer", numLayers);
            m.put("n_head", numHeads);
            m.put("n_inner", intermediateSize);
            m.put("activation_function", activation.hfName());
            m.put("resid_pdrop", residDropout);
            m.put("embd_pdrop", embdDropout);
            m.put("attn_pdrop", attnDropout);
            m.put("layer_norm_epsilon", normEps);
            m.put("scale_attn_weights", true);
            m.put("scale_attn_by_inverse_layer_idx", false);
            m.put("reorder_and_upcast_attn", false);
        } else {
            m.put("hidden_size", hiddenSize);
            m.put("intermediate_size", intermediateSize);
            m.put("num_hidden_layers", numLayers);
            m.put("num_attention_heads", numHeads);
            m.put("num_key_value_heads", numKvHeads);
            m.put("head_dim", headDim);
            m.put("max_position_embeddings", maxPositions);
            m.put("rms_norm_eps", normEps);
            m.put("hidden_act", activation.hfName());
            m.put("attention_bias", attentionBias);
            m.put("mlp_bias", mlpBias);
            m.put("attention_dropout", attnDropout);
            m.put("rope_theta", ropeTheta);
            m.put("rope_parameters", Map.of("rope_type", "default", "rope_theta", ropeTheta));
        }
        m.put("initializer_range", initializerRange);
        m.put("tie_word_embeddings", tieWordEmbeddings);
        m.put("bos_token_id", bosTokenId < 0 ? null : bosTokenId);
        m.put("eos_token_id", eosTokenId < 0 ? null : eosTokenId);
        m.put("dtype", "float32");
        return m;
    }

    /** Builder with the family's defaults; {@link #build()} validates. */
    public static final class Builder {
        private final LmFamily family;
        private int vocabSize;
        private int hiddenSize;
        private int numLayers;
        private int numHeads;
        private int numKvHeads;
        private int headDim;
        private int intermediateSize;
        private int maxPositions;
        private double normEps;
        private LmActivation activation;
        private double ropeTheta = 10000.0;
        private boolean tieWordEmbeddings;
        private boolean attentionBias;
        private boolean mlpBias;
        private double embdDropout;
        private double residDropout;
        private double attnDropout;
        private double initializerRange = 0.02;
        private int bosTokenId = -1;
        private int eosTokenId = -1;

        private Builder(LmFamily family) {
            this.family = family;
            if (family == LmFamily.GPT2) {
                normEps = 1e-5;
                activation = LmActivation.GELU_TANH;
                tieWordEmbeddings = true;
                attentionBias = true;
                mlpBias = true;
                embdDropout = 0.1;
                residDropout = 0.1;
                attnDropout = 0.1;
            } else {
                normEps = 1e-6;
                activation = LmActivation.SILU;
            }
        }

        /** @param v V @return this builder */
        public Builder vocabSize(int v) {
            vocabSize = v;
            return this;
        }

        /**
         * Sets the width; head width and (GPT-2) MLP width follow unless set explicitly afterwards.
         *
         * @param v d
         * @return this builder
         */
        public Builder hiddenSize(int v) {
            hiddenSize = v;
            return this;
        }

        /** @param v decoder layers @return this builder */
        public Builder numLayers(int v) {
            numLayers = v;
            return this;
        }

        /** @param v query heads @return this builder */
        public Builder numHeads(int v) {
            numHeads = v;
            return this;
        }

        /** @param v key/value heads (0: equal to the query heads) @return this builder */
        public Builder numKvHeads(int v) {
            numKvHeads = v;
            return this;
        }

        /** @param v width of a head (0: hidden size / heads) @return this builder */
        public Builder headDim(int v) {
            headDim = v;
            return this;
        }

        /** @param v MLP inner width (0: 4 d for GPT-2) @return this builder */
        public Builder intermediateSize(int v) {
            intermediateSize = v;
            return this;
        }

        /** @param v longest sequence @return this builder */
        public Builder maxPositions(int v) {
            maxPositions = v;
            return this;
        }

        /** @param v norm epsilon @return this builder */
        public Builder normEps(double v) {
            normEps = v;
            return this;
        }

        /** @param v the MLP activation @return this builder */
        public Builder activation(LmActivation v) {
            activation = v;
            return this;
        }

        /** @param v the rotary base theta @return this builder */
        public Builder ropeTheta(double v) {
            ropeTheta = v;
            return this;
        }

        /** @param v tie the LM head to the token embedding @return this builder */
        public Builder tieWordEmbeddings(boolean v) {
            tieWordEmbeddings = v;
            return this;
        }

        /** @param v biases on q/k/v/o (Llama) @return this builder */
        public Builder attentionBias(boolean v) {
            attentionBias = v;
            return this;
        }

        /** @param v biases on the MLP (Llama) @return this builder */
        public Builder mlpBias(boolean v) {
            mlpBias = v;
            return this;
        }

        /** @param v embedding dropout @return this builder */
        public Builder embdDropout(double v) {
            embdDropout = v;
            return this;
        }

        /** @param v residual dropout @return this builder */
        public Builder residDropout(double v) {
            residDropout = v;
            return this;
        }

        /** @param v attention-probability dropout @return this builder */
        public Builder attnDropout(double v) {
            attnDropout = v;
            return this;
        }

        /**
         * Sets all three dropout rates at once.
         *
         * @param v the rate
         * @return this builder
         */
        public Builder dropout(double v) {
            embdDropout = family == LmFamily.GPT2 ? v : 0;
            residDropout = family == LmFamily.GPT2 ? v : 0;
            attnDropout = v;
            return this;
        }

        /** @param v initialiser standard deviation @return this builder */
        public Builder initializerRange(double v) {
            initializerRange = v;
            return this;
        }

        /** @param v beginning-of-sequence id or -1 @return this builder */
        public Builder bosTokenId(int v) {
            bosTokenId = v;
            return this;
        }

        /** @param v end-of-sequence id or -1 @return this builder */
        public Builder eosTokenId(int v) {
            eosTokenId = v;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @return the config
         * @throws IllegalArgumentException naming the field and value that is out of range
         */
        public CausalLmConfig build() {
            int kv = numKvHeads == 0 ? numHeads : numKvHeads;
            int hd = headDim == 0 && numHeads > 0 ? hiddenSize / numHeads : headDim;
            int inner = intermediateSize == 0 && family == LmFamily.GPT2 ? 4 * hiddenSize : intermediateSize;
            return new CausalLmConfig(family, vocabSize, hiddenSize, numLayers, numHeads, kv, hd, inner, maxPositions,
                    normEps, activation, ropeTheta, tieWordEmbeddings, attentionBias, mlpBias, embdDropout,
                    residDropout, attnDropout, initializerRange, bosTokenId, eosTokenId);
        }
    }
}

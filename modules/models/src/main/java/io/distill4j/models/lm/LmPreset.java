package io.distill4j.models.lm;

import ai.djl.nn.Block;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.models.StudentPreset;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A causal-LM student preset ({@code models/gpt2-*.yaml}, {@code models/llama-*.yaml}): {@code model_type} gpt2 or
 * llama and that family's Hugging Face {@code config.json} keys, bound strictly (an unknown key is an error at its
 * line). The keys a teacher fixes may be left out and are then taken from the teacher's cache and tokenizer:
 * {@code vocab_size} (the cache's vocabulary), the context ({@code n_positions} / {@code max_position_embeddings}:
 * the longest cached prompt plus response), {@code bos_token_id} and {@code eos_token_id} (the tokenizer's). A
 * preset that states one of them insists on it, and a teacher that does not fit is refused naming both values.
 *
 * <p>As a {@link StudentPreset}, {@code inputs} is the context and {@code outputs} the vocabulary.
 *
 * @param settings the preset's keys with {@code model_type}, in file order
 */
public record LmPreset(Map<String, Object> settings) implements StudentPreset {

    /** Validates the family and every key (with placeholders for the keys the teacher fills). */
    public LmPreset {
        settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        CausalLmConfig.fromPreset(withPlaceholders(settings), "preset");
    }

    /**
     * Reads a preset from a section of a config file, naming the line of a fault.
     *
     * @param config the file
     * @param pointer the section (with {@code model_type})
     * @return the preset
     * @throws BadInputException naming file, line, column and key
     */
    @SuppressWarnings("unchecked")
    public static LmPreset read(ConfigFile config, String pointer) {
        Map<String, Object> m = new ObjectMapper().convertValue(config.node(pointer), LinkedHashMap.class);
        LmFamily family = LmFamily.ofModelType(String.valueOf(m.get("model_type")));
        for (String key : m.keySet()) {
            if (!CausalLmConfig.presetKeys(family).contains(key)) {
                throw config.error(pointer + "/" + key, "unknown key for model_type " + family.modelType() + "; known keys"
                        + " are " + new java.util.TreeSet<>(CausalLmConfig.presetKeys(family)));
            }
        }
        try {
            CausalLmConfig.fromPreset(withPlaceholders(m), config.file().toString());
        } catch (BadInputException e) {
            String msg = e.getMessage();
            String prefix = config.file() + ": ";
            throw config.error(pointer, msg.startsWith(prefix) ? msg.substring(prefix.length()) : msg, e);
        }
        return new LmPreset(m);
    }

    /**
     * A preset of an existing architecture (a Hugging Face folder's config), every key stated.
     *
     * @param config the architecture
     * @return the preset
     */
    public static LmPreset of(CausalLmConfig config) {
        Map<String, Object> m = new LinkedHashMap<>(config.toHfConfig());
        m.remove("architectures");
        m.remove("dtype");
        m.values().removeIf(java.util.Objects::isNull);
        if (config.family() == LmFamily.GPT2) {
            m.remove("scale_attn_weights");
            m.remove("scale_attn_by_inverse_layer_idx");
        }
        return new LmPreset(m);
    }

    /** @return the settings as a plain mapping (what a model card and {@code student.yaml} show) */
    @JsonValue
    @Override
    public Map<String, Object> settings() {
        return settings;
    }

    /** @return the family */
    public LmFamily family() {
        return LmFamily.ofModelType(String.valueOf(settings.get("model_type")));
    }

    private String positionsKey() {
        return family() == LmFamily.GPT2 ? "n_positions" : "max_position_embeddings";
    }

    /** @return the stated vocabulary, or 0 when the teacher's is taken */
    public int vocabSize() {
        return intOf("vocab_size");
    }

    /** @return the stated context, or 0 when the teacher's is taken */
    public int context() {
        return intOf(positionsKey());
    }

    private int intOf(String key) {
        Object v = settings.get(key);
        return v instanceof Number n ? n.intValue() : 0;
    }

    /** @return the stated context (0: from the teacher) */
    @Override
    public int inputs() {
        return context();
    }

    /** @return the stated vocabulary (0: from the teacher) */
    @Override
    public int outputs() {
        return vocabSize();
    }

    @Override
    public String modelType() {
        return family().modelType();
    }

    /**
     * The architecture for a teacher: keys the preset leaves out are taken from it.
     *
     * @param vocab the teacher's vocabulary (the cache's V)
     * @param context the longest prompt plus response
     * @param bos the tokenizer's begin-of-sequence id, or -1
     * @param eos the tokenizer's end-of-sequence id, or -1
     * @return the architecture
     * @throws IllegalArgumentException naming the key whose stated value does not fit the teacher
     */
    public CausalLmConfig config(int vocab, int context, int bos, int eos) {
        return CausalLmConfig.fromPreset(complete(vocab, context, bos, eos).settings(), "preset");
    }

    /**
     * This preset with the teacher's values in the keys it leaves out.
     *
     * @param vocab the teacher's vocabulary
     * @param context the context
     * @param bos begin-of-sequence id, or -1
     * @param eos end-of-sequence id, or -1
     * @return the complete preset
     * @throws IllegalArgumentException naming the key whose stated value does not fit the teacher
     */
    public LmPreset complete(int vocab, int context, int bos, int eos) {
        if (vocab <= 0 || context < 2) {
            throw new IllegalArgumentException("vocabulary and context must be positive, got " + vocab + " and " + context);
        }
        Map<String, Object> m = new LinkedHashMap<>(settings);
        if (vocabSize() != 0 && vocabSize() != vocab) {
            throw new IllegalArgumentException("vocab_size " + vocabSize() + " does not match the teacher's vocabulary of "
                    + vocab + " ids (leave vocab_size out to take the teacher's)");
        }
        m.put("vocab_size", vocab);
        m.putIfAbsent(positionsKey(), context);
        fill(m, "bos_token_id", bos, vocab);
        fill(m, "eos_token_id", eos, vocab);
        return new LmPreset(m);
    }

    private static void fill(Map<String, Object> m, String key, int id, int vocab) {
        if (m.get(key) == null && id >= 0) {
            m.put(key, id);
        }
        if (m.get(key) instanceof Number n && (n.intValue() < 0 || n.intValue() >= vocab)) {
            throw new IllegalArgumentException(key + " " + n + " is outside the vocabulary of " + vocab + " ids");
        }
    }

    @Override
    public Block build(int context, int vocab) {
        return new CausalLm(config(vocab, context, -1, -1));
    }

    @Override
    public StudentPreset complete(int context, int vocab) {
        return complete(vocab, context, -1, -1);
    }

    @Override
    public String describe() {
        CausalLmConfig c = CausalLmConfig.fromPreset(withPlaceholders(settings), "preset");
        return String.format(Locale.ROOT, "%s %d layers x %d, %d heads (%d kv)%s%s", family().modelType(), c.numLayers(),
                c.hiddenSize(), c.numHeads(), c.numKvHeads(), vocabSize() > 0 ? ", vocabulary " + vocabSize() : "",
                context() > 0 ? ", context " + context() : "");
    }

    private static Map<String, Object> withPlaceholders(Map<String, Object> m) {
        Map<String, Object> p = new LinkedHashMap<>(m);
        boolean gpt2 = LmFamily.ofModelType(String.valueOf(m.get("model_type"))) == LmFamily.GPT2;
        p.putIfAbsent("vocab_size", 2);
        p.putIfAbsent(gpt2 ? "n_positions" : "max_position_embeddings", 2);
        return p;
    }
}

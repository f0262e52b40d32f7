package io.distill4j.models.lm;

import java.util.Locale;

/** The two causal language-model families a {@link CausalLm} can take. */
public enum LmFamily {
    /** GPT-2: learned absolute positions, LayerNorm with bias, GELU MLP, fused q/k/v projection with biases. */
    GPT2("gpt2", "GPT2LMHeadModel"),
    /** Llama: RMSNorm, rotary positions, SwiGLU MLP, grouped-query attention, no biases by default. */
    LLAMA("llama", "LlamaForCausalLM");

    private final String modelType;
    private final String architecture;

    LmFamily(String modelType, String architecture) {
        this.modelType = modelType;
        this.architecture = architecture;
    }

    /** @return the Hugging Face {@code model_type} of the family */
    public String modelType() {
        return modelType;
    }

    /** @return the Hugging Face class name written to {@code architectures} */
    public String architecture() {
        return architecture;
    }

    /**
     * Finds the family of a Hugging Face {@code model_type}.
     *
     * @param modelType {@code gpt2} or {@code llama} (case-insensitive)
     * @return the family
     * @throws IllegalArgumentException for any other value
     */
    public static LmFamily ofModelType(String modelType) {
        String m = modelType == null ? "" : modelType.toLowerCase(Locale.ROOT);
        for (LmFamily f : values()) {
            if (f.modelType.equals(m)) {
                return f;
            }
        }
        throw new IllegalArgumentException("model_type must be gpt2 or llama, got '" + modelType + "'");
    }
}

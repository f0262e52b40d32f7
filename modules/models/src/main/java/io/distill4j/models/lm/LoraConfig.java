package io.distill4j.models.lm;

import java.util.List;

/**
 * Settings of LoRA adapters (Hu et al. 2021) in Hugging Face peft's terms ({@code LoraConfig}).
 *
 * <p>Targets name the linear maps that get an adapter. Short names: {@code q}, {@code k}, {@code v},
 * {@code o} (the attention projections) and {@code mlp} (every MLP projection); GPT-2 projects q, k and v
 * with one fused matrix, so any of {@code q}, {@code k}, {@code v} there adapts the whole {@code c_attn}, as
 * peft does for target {@code c_attn}. {@code all-linear} adapts every linear map of the layers (the LM head
 * excluded, as in peft). Any other target is a peft module name matched as peft matches it: a module whose
 * full name equals it or ends with "." + it ({@code c_proj} matches both GPT-2 projections of that name,
 * {@code attn.c_proj} only the attention one). See {@link Lora#resolveTargets}.
 *
 * @param rank r, the adapters' inner width, positive
 * @param alpha the scale numerator: updates are multiplied by alpha / r (alpha / sqrt(r) with rsLoRA), positive
 * @param dropout dropout on the adapters' inputs in training, in [0, 1)
 * @param targets the target modules, not empty
 * @param rslora scale by alpha / sqrt(r) (rank-stabilised LoRA, Kalajdzievski 2023) instead of alpha / r
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targets, boolean rslora) {

    /**
     * Validates the settings.
     *
     * @throws IllegalArgumentException naming the setting and value at fault
     */
    public LoraConfig {
        if (rank <= 0) {
            throw new IllegalArgumentException("LoRA rank must be positive, got " + rank);
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("LoRA alpha must be positive and finite, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        }
        if (targets == null || targets.isEmpty()) {
            throw new IllegalArgumentException("LoRA needs at least one target module");
        }
        targets = List.copyOf(targets);
    }

    /**
     * The common setting: peft's defaults apart from the targets.
     *
     * @param rank r
     * @param alpha alpha
     * @param targets target modules
     * @return the config, without dropout or rsLoRA
     */
    public static LoraConfig of(int rank, double alpha, String... targets) {
        return new LoraConfig(rank, alpha, 0, List.of(targets), false);
    }

    /** @return the factor on B A x: alpha / r, or alpha / sqrt(r) with rsLoRA */
    public double scaling() {
        return rslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }
}

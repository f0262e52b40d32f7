package io.distill4j.teacher.lm;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a local language-model teacher samples, with Hugging Face {@code generate}'s semantics and order:
 * repetition penalty, then temperature, then top-k, then top-p (nucleus), then a draw.
 *
 * @param maxNewTokens the most tokens per response, positive
 * @param temperature the softmax temperature; 0 means greedy (the most probable token)
 * @param topK keep the k most probable tokens only; 0 keeps all
 * @param topP keep the smallest set of most probable tokens whose mass reaches p, in (0, 1]
 * @param repetitionPenalty CTRL's penalty (Keskar et al. 2019) for tokens already in the prompt or
 *     response: a positive logit is divided by it, a negative one multiplied; 1 for none
 * @param topLogprobs K, the alternatives recorded per position (from the model's unmodified distribution)
 * @param eosId the id that ends a response (kept as its last token), or -1 for none
 */
public record SamplingConfig(int maxNewTokens, double temperature, int topK, double topP, double repetitionPenalty,
        int topLogprobs, int eosId) {

    /** Validates every field. */
    public SamplingConfig {
        if (maxNewTokens <= 0) {
            throw new IllegalArgumentException("maxNewTokens must be positive, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 for all), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be positive and finite, got " + repetitionPenalty);
        }
        if (topLogprobs <= 0) {
            throw new IllegalArgumentException("topLogprobs must be positive, got " + topLogprobs);
        }
    }

    /** @return the settings, for a cache's provenance */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("maxNewTokens", maxNewTokens);
        m.put("temperature", temperature);
        m.put("topK", topK);
        m.put("topP", topP);
        m.put("repetitionPenalty", repetitionPenalty);
        m.put("topLogprobs", topLogprobs);
        m.put("eosId", eosId);
        return m;
    }
}

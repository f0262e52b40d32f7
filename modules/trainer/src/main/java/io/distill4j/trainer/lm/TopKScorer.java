package io.distill4j.trainer.lm;

import java.util.List;

/**
 * A teacher that scores given continuations with its top-K log-probabilities per position, as a server does
 * (vLLM's {@code prompt_logprobs}, llama.cpp's {@code n_probs}): the on-policy teacher when there is no local
 * {@link io.distill4j.models.lm.CausalLm} to take full logits from. {@link OnPolicyBatches} then computes the
 * generalised JSD over K + 1 buckets: the teacher's top K ids and the tail holding the rest of the mass.
 */
public interface TopKScorer {

    /**
     * One scored position: the teacher's distribution of the token that follows.
     *
     * @param ids the top-K token ids, distinct, most probable first
     * @param logprobs their log-probabilities
     * @param tailLogMass the log of the mass outside them ({@code -Infinity} when they hold all of it)
     */
    record Position(int[] ids, float[] logprobs, double tailLogMass) {
    }

    /** @return K, the alternatives every position holds */
    int topK();

    /**
     * Scores continuations.
     *
     * @param prompts the prompts' token ids
     * @param continuations the continuations' token ids, one per prompt
     * @return per row, one position per continuation token t: the teacher's distribution of token t given the
     *     prompt and the tokens before t
     */
    List<Position[]> score(List<int[]> prompts, List<int[]> continuations);
}

package io.distill4j.trainer.lm;

import io.distill4j.data.config.ConfigReader;

/**
 * What a causal-LM student learns from its teacher's sequence cache, beyond the {@link io.distill4j.trainer.TrainingSpec}
 * every student shares (epochs, {@code batchSize} = rows per micro-batch, learning rate, schedule and warm-up,
 * weight decay, clipping, accumulation, checkpoints, early stopping, progress). Bound strictly from the {@code lm:}
 * section of a train config:
 *
 * <pre>
 * lm:
 *   mode: token-kd        # sft-one, sft-all, sft-mean, sft-inverse-variance, token-kd
 *   alpha: 0.5            # token-kd: weight of the top-K KL; 1 - alpha goes to the answer cross-entropy
 *   context: 0            # row length T; 0: the longest cached prompt + response (at most the student's)
 *   packing: true         # pack several examples per row
 *   heldOut: 0.1          # share of the cache's prompts held out to score the students (NLL, perplexity)
 *   # on-policy only (generalised KD, TRL's GKDTrainer; the sample job's teacher must be a local lm teacher):
 *   lmbda: 0.5            # share of batches on which the student generates its own continuations
 *   beta: 0.5             # generalised JSD: 0 forward KL(teacher || student), 1 reverse KL
 *   continuations: 1      # student continuations per prompt on on-policy batches (k)
 *   varianceEps: 0        # k &gt;= 2: weight prompts by 1 / (variance of their k divergences + eps); 0 off
 *   maxNewTokens: 0       # tokens a continuation may take; 0: the teacher's longest cached response
 *   temperature: 0.9      # the student's sampling temperature
 * </pre>
 *
 * @param mode what the student learns from
 * @param alpha the KD weight of {@link Mode#TOKEN_KD}, in [0, 1] (ignored by the SFT modes)
 * @param context the row length, 0 for the data's longest example
 * @param packing whether several examples share a row
 * @param heldOut the share of prompts held out for evaluation, in [0, 1)
 * @param lmbda {@link Mode#ON_POLICY}: probability that a batch is on-policy, in [0, 1]
 * @param beta {@link Mode#ON_POLICY}: the generalised JSD's weight, in [0, 1]
 * @param continuations {@link Mode#ON_POLICY}: student continuations per prompt, positive
 * @param varianceEps {@link Mode#ON_POLICY}: eps of the inverse-variance weights over the continuations, 0 for none
 * @param maxNewTokens {@link Mode#ON_POLICY}: the most tokens per continuation, 0 for the longest cached response
 * @param temperature {@link Mode#ON_POLICY}: the student's sampling temperature, positive
 */
public record LmOptions(Mode mode, Double alpha, Integer context, Boolean packing, Double heldOut, Double lmbda,
        Double beta, Integer continuations, Double varianceEps, Integer maxNewTokens, Double temperature) {

    /** The modes, after Cui &amp; Pei (arXiv 2601.18909, LLM setting) and token-level KD. */
    public enum Mode {
        /** Cross-entropy on one teacher response per prompt (the student's first draw). */
        SFT_ONE,
        /** Cross-entropy on every teacher response of the student's draws. */
        SFT_ALL,
        /** Cross-entropy on the response nearest (cosine) the mean sentence embedding of the student's draws. */
        SFT_MEAN,
        /**
         * Cross-entropy on the response nearest mu_VA = a_T mu_T + a_S mu_S, the inverse-variance fusion of the
         * teacher's mean embedding with that of k answers of the untrained student.
         */
        SFT_INVERSE_VARIANCE,
        /**
         * Sparse top-K KL to the teacher's cached distributions with the tail bucket, on every response of the
         * student's draws, mixed with the answer cross-entropy by 1 - alpha.
         */
        TOKEN_KD,
        /**
         * Generalised KD ({@link OnPolicyDistiller}): on a share lmbda of the batches the student samples its own
         * continuations and the local teacher scores them, otherwise it learns on the teacher's cached responses;
         * the loss is the generalised JSD with beta over the response positions.
         */
        ON_POLICY;

        /** @return the spelling in configuration files */
        @Override
        public String toString() {
            return ConfigReader.enumName(this);
        }

        /** @return whether the mode picks one response per prompt by sentence embeddings */
        public boolean selects() {
            return this == SFT_MEAN || this == SFT_INVERSE_VARIANCE;
        }
    }

    /**
     * Fills defaults (sft-all, alpha 1, context from the data, packing, 10% held out; on-policy: TRL's lmbda 0.5,
     * beta 0.5 and temperature 0.9, one continuation, no weighting) and validates.
     */
    public LmOptions {
        mode = mode == null ? Mode.SFT_ALL : mode;
        alpha = alpha == null ? 1.0 : alpha;
        context = context == null ? 0 : context;
        packing = packing == null ? Boolean.TRUE : packing;
        heldOut = heldOut == null ? 0.1 : heldOut;
        if (mode != Mode.ON_POLICY) {
            for (Object[] f : new Object[][] {{"lmbda", lmbda}, {"beta", beta}, {"continuations", continuations},
                    {"varianceEps", varianceEps}, {"maxNewTokens", maxNewTokens}, {"temperature", temperature}}) {
                if (f[1] != null) {
                    throw new IllegalArgumentException(f[0] + " applies to mode on-policy only; mode is " + mode);
                }
            }
        }
        lmbda = lmbda == null ? 0.5 : lmbda;
        beta = beta == null ? 0.5 : beta;
        continuations = continuations == null ? 1 : continuations;
        varianceEps = varianceEps == null ? 0.0 : varianceEps;
        maxNewTokens = maxNewTokens == null ? 0 : maxNewTokens;
        temperature = temperature == null ? 0.9 : temperature;
        if (!(lmbda >= 0 && lmbda <= 1)) {
            throw new IllegalArgumentException("lmbda must be in [0, 1], got " + lmbda);
        }
        if (!(beta >= 0 && beta <= 1)) {
            throw new IllegalArgumentException("beta must be in [0, 1], got " + beta);
        }
        if (continuations <= 0) {
            throw new IllegalArgumentException("continuations must be positive, got " + continuations);
        }
        if (!(varianceEps >= 0) || Double.isInfinite(varianceEps)) {
            throw new IllegalArgumentException("varianceEps must be >= 0 and finite, got " + varianceEps);
        }
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("maxNewTokens must be >= 0 (0: the longest cached response), got "
                    + maxNewTokens);
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be positive and finite, got " + temperature);
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        }
        if (mode != Mode.TOKEN_KD && alpha != 1.0) {
            throw new IllegalArgumentException("alpha mixes the top-K KL with cross-entropy in mode token-kd only; mode is "
                    + mode);
        }
        if (context != 0 && context < 2) {
            throw new IllegalArgumentException("context must be at least 2 (or 0: from the data), got " + context);
        }
        if (!(heldOut >= 0 && heldOut < 1)) {
            throw new IllegalArgumentException("heldOut must be in [0, 1), got " + heldOut);
        }
    }

    /** @return the defaults */
    public static LmOptions defaults() {
        return new LmOptions(null, null, null, null, null, null, null, null, null, null, null);
    }

    /**
     * The defaults with a mode.
     *
     * @param mode the mode
     * @return the options
     */
    public static LmOptions of(Mode mode) {
        return new LmOptions(mode, null, null, null, null, null, null, null, null, null, null);
    }

    /**
     * The options of a run on examples already chosen ({@link LmFineTuner}): a mode, its alpha, the row length and
     * packing; the rest at their defaults.
     *
     * @param mode the mode
     * @param alpha the top-K KL weight of {@link Mode#TOKEN_KD}, or null for the default (1)
     * @param context the row length, 0 for the data's longest example
     * @param packing whether several examples share a row
     * @return the options
     */
    public static LmOptions of(Mode mode, Double alpha, int context, boolean packing) {
        return new LmOptions(mode, alpha, context, packing, null, null, null, null, null, null, null);
    }

    /**
     * The on-policy settings of {@link OnPolicyDistiller} for one student.
     *
     * @param maxNew the most new tokens when {@link #maxNewTokens()} is 0 (the longest cached response)
     * @param eosId the end id that stops generation, or -1
     * @param seed the student's seed
     * @return the settings (top-k sampling off)
     */
    public OnPolicyDistiller.Settings onPolicySettings(int maxNew, int eosId, long seed) {
        return new OnPolicyDistiller.Settings(lmbda, beta, maxNewTokens > 0 ? maxNewTokens : Math.max(1, maxNew),
                temperature, 0, continuations, varianceEps, eosId, seed);
    }

    /**
     * The row length of a run: {@code context} when it is set, else the longest example (prompt + response, at
     * least 2) cut to the model's positions.
     *
     * @param longest the longest example's tokens
     * @param maxPositions the model's context
     * @return the row length
     */
    public int rowLength(int longest, int maxPositions) {
        return context > 0 ? context : Math.min(Math.max(longest, 2), maxPositions);
    }

    /** @return the weight {@link AnswerLoss} gives the top-K KL: alpha in token-kd, 0 in the SFT modes */
    public double lossAlpha() {
        return mode == Mode.TOKEN_KD ? alpha : 0;
    }
}

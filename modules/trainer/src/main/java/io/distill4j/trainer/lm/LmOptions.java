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
 * </pre>
 *
 * @param mode what the student learns from
 * @param alpha the KD weight of {@link Mode#TOKEN_KD}, in [0, 1] (ignored by the SFT modes)
 * @param context the row length, 0 for the data's longest example
 * @param packing whether several examples share a row
 * @param heldOut the share of prompts held out for evaluation, in [0, 1)
 */
public record LmOptions(Mode mode, Double alpha, Integer context, Boolean packing, Double heldOut) {

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
        TOKEN_KD;

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

    /** Fills defaults (sft-all, alpha 1, context from the data, packing, 10% held out) and validates. */
    public LmOptions {
        mode = mode == null ? Mode.SFT_ALL : mode;
        alpha = alpha == null ? 1.0 : alpha;
        context = context == null ? 0 : context;
        packing = packing == null ? Boolean.TRUE : packing;
        heldOut = heldOut == null ? 0.1 : heldOut;
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
        return new LmOptions(null, null, null, null, null);
    }

    /**
     * The defaults with a mode.
     *
     * @param mode the mode
     * @return the options
     */
    public static LmOptions of(Mode mode) {
        return new LmOptions(mode, null, null, null, null);
    }

    /** @return the weight {@link AnswerLoss} gives the top-K KL: alpha in token-kd, 0 in the SFT modes */
    public double lossAlpha() {
        return mode == Mode.TOKEN_KD ? alpha : 0;
    }
}

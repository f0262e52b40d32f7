package io.distill4j.models.lm;

import java.util.Arrays;

/**
 * One fine-tuning example: a prompt and a teacher's (cached) response to it, as token ids, with the
 * teacher's top-K next-token log-probabilities at each response position when it is used for token-level
 * distillation.
 *
 * <p>The loss is taken on the response ("answer") tokens only. To teach the student to stop, end the
 * answer with the end-of-sequence id.
 *
 * @param prompt prompt token ids (may be empty only if the answer's first token needs no prediction)
 * @param answer answer token ids, at least one
 * @param teacher the teacher's top-K distribution over each answer token, or null for supervised
 *     fine-tuning only
 */
public record LmExample(int[] prompt, int[] answer, TopK teacher) {

    /** Validates: ids non-negative, at least one answer token, teacher rows matching the answer. */
    public LmExample {
        if (prompt == null || answer == null) {
            throw new IllegalArgumentException("prompt and answer must not be null");
        }
        if (answer.length == 0) {
            throw new IllegalArgumentException("answer must hold at least one token");
        }
        for (int id : prompt) {
            if (id < 0) {
                throw new IllegalArgumentException("prompt holds a negative token id " + id);
            }
        }
        for (int id : answer) {
            if (id < 0) {
                throw new IllegalArgumentException("answer holds a negative token id " + id);
            }
        }
        if (teacher != null && teacher.positions() != answer.length) {
            throw new IllegalArgumentException("teacher top-K has " + teacher.positions() + " positions but the answer"
                    + " has " + answer.length + " tokens");
        }
        prompt = prompt.clone();
        answer = answer.clone();
    }

    /**
     * An example without teacher distributions (supervised fine-tuning on the cached response).
     *
     * @param prompt prompt ids
     * @param answer answer ids
     * @return the example
     */
    public static LmExample of(int[] prompt, int[] answer) {
        return new LmExample(prompt, answer, null);
    }

    /** @return prompt length plus answer length */
    public int length() {
        return prompt.length + answer.length;
    }

    /** @return prompt then answer, one array */
    public int[] tokens() {
        int[] all = Arrays.copyOf(prompt, length());
        System.arraycopy(answer, 0, all, prompt.length, answer.length);
        return all;
    }

    /**
     * The teacher's sparse next-token distributions over an answer: for answer token j, the K most likely
     * ids with their log-probabilities (natural log) and the log of the probability mass outside them (the
     * tail bucket; negative infinity when the K ids hold all the mass).
     *
     * @param k K
     * @param ids (positions x K) ids, row-major
     * @param logProbs (positions x K) log-probabilities, row-major
     * @param tailLogMass (positions) log of the remaining mass
     */
    public record TopK(int k, int[] ids, float[] logProbs, float[] tailLogMass) {

        /** Tolerance on |sum of top-K probabilities + tail - 1|. */
        public static final double MASS_TOLERANCE = 1e-3;

        /**
         * Validates: shapes agree, log-probabilities are not NaN and at most 0, and each position's top-K
         * probabilities plus its tail sum to 1 within {@link #MASS_TOLERANCE}.
         */
        public TopK {
            if (k <= 0) {
                throw new IllegalArgumentException("K must be positive, got " + k);
            }
            if (ids == null || logProbs == null || tailLogMass == null) {
                throw new IllegalArgumentException("ids, logProbs and tailLogMass must not be null");
            }
            int n = tailLogMass.length;
            if (ids.length != n * k || logProbs.length != n * k) {
                throw new IllegalArgumentException("expected " + n + " x " + k + " ids and log-probabilities, got "
                        + ids.length + " and " + logProbs.length);
            }
            for (int p = 0; p < n; p++) {
                double mass = Math.exp(tailLogMass[p]);
                if (Float.isNaN(tailLogMass[p]) || tailLogMass[p] > 1e-6) {
                    throw new IllegalArgumentException("position " + p + ": tail log-mass must be <= 0, got "
                            + tailLogMass[p]);
                }
                for (int j = 0; j < k; j++) {
                    float lp = logProbs[p * k + j];
                    if (Float.isNaN(lp) || lp > 1e-6) {
                        throw new IllegalArgumentException("position " + p + ", rank " + j
                                + ": log-probability must be <= 0, got " + lp);
                    }
                    if (ids[p * k + j] < 0) {
                        throw new IllegalArgumentException("position " + p + ", rank " + j + ": negative id "
                                + ids[p * k + j]);
                    }
                    mass += Math.exp(lp);
                }
                if (Math.abs(mass - 1) > MASS_TOLERANCE) {
                    throw new IllegalArgumentException("position " + p + ": top-K probabilities plus tail sum to "
                            + String.format(java.util.Locale.ROOT, "%.6f", mass) + ", not 1");
                }
            }
            ids = ids.clone();
            logProbs = logProbs.clone();
            tailLogMass = tailLogMass.clone();
        }

        /** @return the number of answer positions */
        public int positions() {
            return tailLogMass.length;
        }
    }
}

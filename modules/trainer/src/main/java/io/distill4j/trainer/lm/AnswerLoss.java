package io.distill4j.trainer.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.loss.Loss;
import io.distill4j.loss.Scalars;

/**
 * The fine-tuning loss of a causal-LM student on answer tokens only: next-token cross-entropy against the
 * cached response, token-level distillation against the teacher's cached top-K log-probabilities, or a mix.
 *
 * <p>With student log-probabilities log q = log_softmax(z) at each position, answer-token weights w (1 on
 * answer targets, 0 on prompt, padding and row ends), target tokens y and, for distillation, the teacher's
 * top-K ids c_1..c_K with log-probabilities log p_k and tail log-mass log p_tail:
 * <pre>
 *   CE  = sum_t w_t * ( -log q_t[y_t] ) / sum_t w_t
 *   KL  = sum_t w_t * [ sum_k p_k (log p_k - log q_t[c_k]) + p_tail (log p_tail - log q_tail) ] / sum_t w_t,
 *         q_tail = max(1 - sum_k q_t[c_k], 1e-6)
 *   L   = alpha * KL + (1 - alpha) * CE
 * </pre>
 * CE is supervised fine-tuning on teacher responses (sequence-level KD, Kim &amp; Rush 2016); KL is the
 * forward KL(p_T || q_S) of token-level KD (Hinton, Vinyals &amp; Dean 2015, temperature 1) restricted to the
 * teacher's top K plus one bucket for the remaining mass, so that the teacher distribution stays a proper
 * distribution over K + 1 outcomes (the "tail bucket" of TRL's and DistillKit's sparse-logit distillation).
 * Log-probabilities below -80 (including -inf for an empty tail) are read as -80, so absent entries give
 * 0 * finite = 0 instead of 0 * -inf = NaN. If no position carries weight the loss is 0.
 *
 * <p>Labels: [targets (B, T) int64, weights (B, T)] and, when alpha &gt; 0, also [topIds (B, T, K) int64,
 * topLogProbs (B, T, K), tailLogMass (B, T)], as {@link SequencePacker.Batch#labels} builds them;
 * optionally followed by one more array, a positive scalar N that replaces the denominator sum_t w_t
 * (with gradient accumulation over G micro-batches holding N_g answer tokens in all, N = N_g / G makes the
 * accumulated update the token mean over the whole group, as one batch of all G would give).
 * Predictions: [logits (B, T, V)].
 */
public final class AnswerLoss extends Loss {
    private static final float FLOOR = SequencePacker.ABSENT_LOG_PROB;
    private static final float TAIL_EPS = 1e-6f;

    private final double alpha;

    /**
     * Creates the loss.
     *
     * @param alpha weight of the distillation term in [0, 1]: 0 = supervised fine-tuning only
     */
    public AnswerLoss(double alpha) {
        super(alpha == 0 ? "answer-ce" : "answer-topk-kd");
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        }
        this.alpha = alpha;
    }

    /** @return the weight of the distillation term */
    public double alpha() {
        return alpha;
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray z = predictions.head();
        if (z.getShape().dimension() != 3) {
            throw new IllegalArgumentException("predictions must be logits (B, T, V), got shape " + z.getShape());
        }
        int expected = alpha > 0 ? 5 : labels.size() >= 5 ? 5 : 2;
        if (labels.size() != expected && labels.size() != expected + 1) {
            throw new IllegalArgumentException("labels must be [targets, weights" + (alpha > 0
                    ? ", topIds, topLogProbs, tailLogMass" : "") + "] and optionally a normaliser, got "
                    + labels.size() + " arrays");
        }
        NDArray targets = labels.get(0);
        NDArray w = labels.get(1).toType(DataType.FLOAT32, false);
        if (!targets.getShape().equals(z.getShape().slice(0, 2)) || !w.getShape().equals(targets.getShape())) {
            throw new IllegalArgumentException("targets " + targets.getShape() + " and weights " + w.getShape()
                    + " must be (B, T) of logits " + z.getShape());
        }
        NDArray logQ = z.logSoftmax(2);
        NDArray total;
        if (labels.size() == expected + 1) {
            total = labels.get(expected).toType(DataType.FLOAT32, false);
            if (total.getShape().size() != 1) {
                throw new IllegalArgumentException("the normaliser label must be a scalar, got shape "
                        + total.getShape());
            }
            total = total.reshape(new ai.djl.ndarray.types.Shape());
        } else {
            total = w.sum().maximum(1f);
        }
        NDArray perToken = null;
        if (alpha < 1) {
            NDArray nll = logQ.gather(targets.toType(DataType.INT64, false).expandDims(2), 2).squeeze(2).neg();
            perToken = Scalars.mul(nll, 1 - alpha);
        }
        if (alpha > 0) {
            NDArray topIds = labels.get(2).toType(DataType.INT64, false);
            NDArray logP = labels.get(3).maximum(FLOOR);
            NDArray logPTail = labels.get(4).maximum(FLOOR);
            NDArray logQk = logQ.gather(topIds, 2);
            NDArray qTail = Scalars.maximum(logQk.exp().sum(new int[] {2}).neg().add(1f), TAIL_EPS);
            NDArray kl = logP.exp().mul(logP.sub(logQk)).sum(new int[] {2})
                    .add(logPTail.exp().mul(logPTail.sub(qTail.log())));
            perToken = perToken == null ? Scalars.mul(kl, alpha) : perToken.add(Scalars.mul(kl, alpha));
        }
        return perToken.mul(w).sum().div(total);
    }
}

package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * Reverse KL divergence from the student to the teacher.
 *
 * <p>Formula: l_i = KL(q_i || p_T,i) = sum_c q_ic (log q_ic - log p_T,ic), q = softmax(z / T); L is the
 * mean over unpadded items. Reverse KL is mode-seeking: the student concentrates on the teacher's main
 * modes (Gu et al. 2024, "MiniLLM: Knowledge Distillation of Large Language Models"; "reverse KL" in
 * Agarwal et al. 2024, GKD). It is {@link GeneralizedJsdLoss} at beta = 1. Where a teacher given as
 * probabilities or log-probabilities gives a class probability 0 (or below 1e-30), its log-probability is
 * floored at {@link #LOG_FLOOR}, so the penalty for student mass there is large but finite; a teacher given
 * as logits is not floored, and the loss equals {@code F.kl_div(log p_T, log q, log_target = True)} (see
 * {@link DenseDivergenceLoss}).
 *
 * <p>Labels, predictions, teacher forms and temperature: see {@link DenseDivergenceLoss}. Registry name
 * {@code reverse-kl}.
 */
public final class ReverseKlLoss extends DenseDivergenceLoss {

    /** Creates KL(softmax(z) || p_T) with the teacher given as probabilities. */
    public ReverseKlLoss() {
        this(TeacherForm.PROBABILITIES, 1.0);
    }

    /**
     * Creates the loss.
     *
     * @param teacherForm how the teacher distribution is given
     * @param temperature T, positive: divides the student logits (and teacher logits)
     */
    public ReverseKlLoss(TeacherForm teacherForm, double temperature) {
        super("reverse-kl", teacherForm, temperature);
    }

    @Override
    NDArray divergence(Teacher teacher, NDArray logQ) {
        return reverse(teacher.logP(), logQ);
    }

    static NDArray reverse(NDArray logPT, NDArray logQ) {
        return logQ.exp().mul(logQ.sub(logPT)).sum(new int[] {-1});
    }
}

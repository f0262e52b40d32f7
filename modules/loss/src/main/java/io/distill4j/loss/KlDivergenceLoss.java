package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * Forward KL divergence from the teacher to the student, the standard distillation divergence.
 *
 * <p>Formula: l_i = KL(p_T,i || q_i) = sum_c p_T,ic (log p_T,ic - log q_ic), q = softmax(z / T); L is the
 * mean over unpadded items. Forward KL is mean-seeking: the student spreads mass over every class the
 * teacher supports (Hinton, Vinyals &amp; Dean 2015; "forward KL" in Agarwal et al. 2024, GKD, and
 * Gu et al. 2024, MiniLLM). It is {@link GeneralizedJsdLoss} at beta = 0.
 *
 * <p>Labels, predictions, teacher forms and temperature: see {@link DenseDivergenceLoss}. Registry name
 * {@code kl}.
 */
public final class KlDivergenceLoss extends DenseDivergenceLoss {

    /** Creates KL(p_T || softmax(z)) with the teacher given as probabilities. */
    public KlDivergenceLoss() {
        this(TeacherForm.PROBABILITIES, 1.0);
    }

    /**
     * Creates the loss.
     *
     * @param teacherForm how the teacher distribution is given
     * @param temperature T, positive: divides the student logits (and teacher logits)
     */
    public KlDivergenceLoss(TeacherForm teacherForm, double temperature) {
        super("kl", teacherForm, temperature);
    }

    @Override
    NDArray divergence(NDArray pT, NDArray logPT, NDArray logQ) {
        return forward(pT, logPT, logQ);
    }

    static NDArray forward(NDArray pT, NDArray logPT, NDArray logQ) {
        return pT.mul(logPT.sub(logQ)).sum(new int[] {-1});
    }
}

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
    NDArray divergence(Teacher teacher, NDArray logQ) {
        return forward(teacher, logQ);
    }

    /** KL(p_T || q) = sum p_T log p_T - sum p_T log q: the first sum is the teacher's alone (no gradient). */
    static NDArray forward(Teacher teacher, NDArray logQ) {
        return teacher.negEntropy().sub(teacher.p().mul(logQ).sum(new int[] {-1}));
    }
}

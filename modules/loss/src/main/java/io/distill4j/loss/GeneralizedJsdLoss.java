package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * The generalised Jensen-Shannon divergence of Agarwal et al. 2024 ("On-Policy Distillation of Language
 * Models: Learning from Self-Generated Mistakes", GKD), in the convention of TRL's
 * {@code generalized_jsd_loss}.
 *
 * <p>Formula, with P = p_T the teacher, Q = q = softmax(z / T) the student and beta in [0, 1]:
 * <pre>
 *   M            = beta * P + (1 - beta) * Q
 *   JSD_beta     = beta * KL(P || M) + (1 - beta) * KL(Q || M)          for 0 &lt; beta &lt; 1
 *   JSD_0        = KL(P || Q)   (forward KL)
 *   JSD_1        = KL(Q || P)   (reverse KL)
 * </pre>
 * L is the mean over unpadded items. Convention: the weight beta sits on the <em>teacher</em> in both the
 * mixture and the sum, exactly as TRL codes it, so beta = 0 is forward KL and beta = 1 reverse KL.
 *
 * <p>Note that the interior formula itself tends to 0 at both ends (JSD_beta ~ beta * KL(P || Q) as
 * beta -&gt; 0 and ~ (1 - beta) * KL(Q || P) as beta -&gt; 1); TRL, and this class by default, special-case
 * the end points. With {@code normalise = true} the interior value is divided by beta * (1 - beta), which
 * makes the family continuous in beta with exactly those end points (JSD_beta / (beta (1 - beta)) -&gt;
 * KL(P || Q) as beta -&gt; 0 and -&gt; KL(Q || P) as beta -&gt; 1).
 *
 * <p>Agreement with TRL: with the teacher given as {@link TeacherForm#LOGITS logits}, the value and gradient
 * equal TRL's {@code generalized_jsd_loss} at every beta (L is TRL's "batchmean" of its (B, T, V) logits: the
 * sum over positions divided by B * T, or by the number of unmasked labels), also where the teacher's
 * log-probabilities lie far below ln 1e-30, since a logits-form teacher is not floored. A teacher given as
 * probabilities or log-probabilities is floored at {@link #LOG_FLOOR} (it may hold exact zeros), which changes
 * beta = 1 (reverse KL) wherever the student puts mass on classes the teacher gives less than 1e-30. For
 * 0 &lt; beta &lt; 1, M is formed in probability space and its log floored at {@link #LOG_FLOOR}, where TRL takes
 * a log-space logsumexp; the two differ only in classes with M &lt; 1e-30, by terms of order M |ln M|.
 * Labels, predictions, teacher forms and temperature: see {@link DenseDivergenceLoss}. Registry name
 * {@code jsd}.
 */
public final class GeneralizedJsdLoss extends DenseDivergenceLoss {
    private final double beta;
    private final boolean normalise;

    /**
     * Creates the TRL-convention loss with the teacher given as probabilities.
     *
     * @param beta the teacher weight, in [0, 1]
     */
    public GeneralizedJsdLoss(double beta) {
        this(beta, TeacherForm.PROBABILITIES, 1.0, false);
    }

    /**
     * Creates the loss.
     *
     * @param beta the teacher weight, in [0, 1]
     * @param teacherForm how the teacher distribution is given
     * @param temperature T, positive: divides the student logits (and teacher logits)
     * @param normalise divide the interior value by beta * (1 - beta) (continuous in beta)
     */
    public GeneralizedJsdLoss(double beta, TeacherForm teacherForm, double temperature, boolean normalise) {
        super("jsd", teacherForm, temperature);
        ArgumentChecks.unitInterval("beta", beta);
        this.beta = beta;
        this.normalise = normalise;
    }

    @Override
    NDArray divergence(Teacher teacher, NDArray logQ) {
        if (beta == 0) {
            return KlDivergenceLoss.forward(teacher, logQ);
        }
        if (beta == 1) {
            return ReverseKlLoss.reverse(teacher.logP(), logQ);
        }
        NDArray pT = teacher.p();
        NDArray logPT = teacher.logP();
        NDArray q = logQ.exp();
        NDArray logM = Scalars.maximum(pT.mul(beta).add(Scalars.mul(q, 1 - beta)), 1e-30).log();
        NDArray klP = pT.mul(logPT.sub(logM)).sum(new int[] {-1});
        NDArray klQ = q.mul(logQ.sub(logM)).sum(new int[] {-1});
        NDArray jsd = Scalars.mul(klP, beta).add(Scalars.mul(klQ, 1 - beta));
        return normalise ? Scalars.div(jsd, beta * (1 - beta)) : jsd;
    }

    /** @return beta, the teacher weight */
    public double beta() {
        return beta;
    }

    /** @return whether the interior value is divided by beta * (1 - beta) */
    public boolean normalise() {
        return normalise;
    }
}

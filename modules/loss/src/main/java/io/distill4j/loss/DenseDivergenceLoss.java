package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Objects;

/**
 * Common part of the divergences between a dense teacher distribution and the student's softmax:
 * label layout, teacher forms, temperature and padding.
 *
 * <p>Labels: {@code [teacher, mask?]}: the teacher distribution with shape item + (C), in the
 * {@link TeacherForm} given at construction, and an optional padding mask with the item shape (B) or
 * (B, T). Predictions: the student logits, shape item + (C). The student distribution is
 * q = softmax(z / T); a teacher given as logits is softened by the same T, a teacher given as
 * (log-)probabilities is taken as it is. No T^2 factor is applied (use {@link HintonKdLoss} for that).
 *
 * <p>The log-probability floor: a teacher given as {@link TeacherForm#PROBABILITIES probabilities} or
 * {@link TeacherForm#LOG_PROBABILITIES log-probabilities} may hold exact zeros (log p = -infinity), so its
 * log-probabilities are floored at {@link #LOG_FLOOR} = ln 1e-30 (which also lifts any non-zero probability
 * below 1e-30 to 1e-30); a loss that reads log p_T (reverse KL, JSD) then stays finite. A teacher given as
 * {@link TeacherForm#LOGITS logits} is not floored: its log-softmax is finite by construction, and taking it as
 * it is makes the losses equal PyTorch's {@code F.kl_div} on log-softmaxes and TRL's
 * {@code generalized_jsd_loss} however far below ln 1e-30 its log-probabilities lie.
 */
public abstract class DenseDivergenceLoss extends DistillationLoss {
    private final TeacherForm teacherForm;
    private final double temperature;

    DenseDivergenceLoss(String name, TeacherForm teacherForm, double temperature) {
        super(name);
        this.teacherForm = Objects.requireNonNull(teacherForm, "teacherForm");
        ArgumentChecks.positive("temperature", temperature);
        this.temperature = temperature;
    }

    /**
     * The per-item divergence from the teacher's and student's distributions (all item + (C)).
     *
     * @param teacher the teacher distribution, its probabilities and log-probabilities made on demand
     * @param logQ student log-probabilities (carry the gradient)
     * @return the per-item divergence, item shape
     */
    abstract NDArray divergence(Teacher teacher, NDArray logQ);

    /**
     * The teacher distribution in the form it was given; probabilities, floored log-probabilities and the
     * negative entropy are derived only when asked for, so that a loss makes no full-size temporary it does
     * not need.
     */
    static final class Teacher {
        private final NDArray given;
        private final TeacherForm form;
        private final double temperature;
        private NDArray p;
        private NDArray logP;

        Teacher(NDArray given, TeacherForm form, double temperature) {
            this.given = given;
            this.form = form;
            this.temperature = temperature;
        }

        /** @return the probabilities p_T */
        NDArray p() {
            if (p == null) {
                p = form == TeacherForm.PROBABILITIES ? given : logP().exp();
            }
            return p;
        }

        /**
         * @return log p_T: floored at {@link DistillationLoss#LOG_FLOOR} for the probability and log-probability
         *     forms, the exact log-softmax for the logits form
         */
        NDArray logP() {
            if (logP == null) {
                switch (form) {
                    case PROBABILITIES:
                        logP = given.maximum(1e-30).log();
                        break;
                    case LOG_PROBABILITIES:
                        logP = given.maximum(LOG_FLOOR);
                        break;
                    default:
                        logP = (temperature == 1 ? given : given.div(temperature)).logSoftmax(-1);
                }
            }
            return logP;
        }

        /** @return sum_c p_T log p_T per item (0 log 0 = 0) */
        NDArray negEntropy() {
            NDArray terms = form == TeacherForm.PROBABILITIES ? given.xlogy(given) : p().mul(logP());
            return terms.sum(new int[] {-1});
        }
    }

    @Override
    public final NDArray itemLosses(NDList labels, NDList predictions) {
        String me = getName();
        ArgumentChecks.labelCount(me, labels, 1, "[teacher " + teacherForm.yamlName() + ", mask?]");
        ArgumentChecks.predictionCount(me, predictions);
        NDArray z = predictions.head();
        ArgumentChecks.minRank("predictions", z, 2);
        NDArray teacher = labels.head();
        ArgumentChecks.sameShape("teacher " + teacherForm.yamlName(), teacher, "predictions", z);
        Shape item = itemShape(predictions);
        NDArray mask = maskAt(me, labels, 1, item, z);
        if (mask != null) {
            teacher = keepWhere(mask, teacher, teacherForm == TeacherForm.LOG_PROBABILITIES ? LOG_FLOOR : 0);
        }
        if (isValidate()) {
            validateTeacher(me, teacher, teacherForm, mask);
        }
        NDArray logQ = (temperature == 1 ? z : Scalars.div(z, temperature)).logSoftmax(-1);
        NDArray l = divergence(new Teacher(teacher, teacherForm, temperature), logQ);
        return mask == null ? l : l.mul(mask);
    }

    @Override
    public final NDArray itemMask(NDList labels, NDList predictions) {
        return maskAt(getName(), labels, 1, itemShape(predictions), predictions.head());
    }

    /** @return the form the teacher distribution comes in */
    public TeacherForm teacherForm() {
        return teacherForm;
    }

    /** @return the temperature T */
    public double temperature() {
        return temperature;
    }

    /** The teacher distribution in this loss's {@link TeacherForm}. */
    @Override
    public List<Label> labels() {
        return List.of(switch (teacherForm) {
            case PROBABILITIES -> Label.TARGET_PROBABILITIES;
            case LOG_PROBABILITIES -> Label.TARGET_LOG_PROBABILITIES;
            case LOGITS -> Label.TARGET_LOGITS;
        });
    }
}

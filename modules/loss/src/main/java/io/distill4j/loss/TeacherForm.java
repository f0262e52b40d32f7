package io.distill4j.loss;

import java.util.Locale;

/**
 * How a dense teacher distribution travels in the labels of {@link KlDivergenceLoss}, {@link ReverseKlLoss}
 * and {@link GeneralizedJsdLoss}.
 */
public enum TeacherForm {
    /** Probabilities, each row on the simplex (the output of a target builder); YAML {@code probabilities}. */
    PROBABILITIES,
    /** Log-probabilities (a cached log-softmax); YAML {@code log-probabilities}. */
    LOG_PROBABILITIES,
    /** Raw logits, softened by the loss's temperature like the student's; YAML {@code logits}. */
    LOGITS;


    /** @return the YAML spelling */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}

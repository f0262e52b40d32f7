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

    /**
     * Parses the YAML spelling.
     *
     * @param s {@code probabilities}, {@code log-probabilities} or {@code logits}
     * @return the form
     */
    public static TeacherForm parse(String s) {
        for (TeacherForm f : values()) {
            if (f.yamlName().equals(s)) {
                return f;
            }
        }
        throw new IllegalArgumentException("teacher form must be one of probabilities, log-probabilities, logits; got '"
                + s + "'");
    }

    /** @return the YAML spelling */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}

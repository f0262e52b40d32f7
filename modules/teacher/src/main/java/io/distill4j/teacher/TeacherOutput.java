package io.distill4j.teacher;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a teacher's samples hold, and how a model's raw outputs become them.
 *
 * <ul>
 *   <li>{@link #probabilities(float)}: {@code softmax(z / T)} over the last axis (classification);</li>
 *   <li>{@link #logits()}: the raw logits z (classification);</li>
 *   <li>{@link #values()}: the raw outputs (regression).</li>
 * </ul>
 *
 * @param signal the cache signal: {@code probabilities}, {@code logits} or {@code values}
 * @param temperature the softmax temperature T (1 for logits and values)
 */
public record TeacherOutput(String signal, float temperature) {

    /** Validates the signal and temperature. */
    public TeacherOutput {
        if (!signal.equals("probabilities") && !signal.equals("logits") && !signal.equals("values")) {
            throw new IllegalArgumentException("signal must be probabilities, logits or values, got " + signal);
        }
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be positive and finite, got " + temperature);
        }
        if (!signal.equals("probabilities") && temperature != 1f) {
            throw new IllegalArgumentException("temperature applies to probabilities only; " + signal
                    + " needs temperature 1, got " + temperature);
        }
    }

    /**
     * Class probabilities {@code softmax(z / T)}.
     *
     * @param temperature T, positive
     * @return the output
     */
    public static TeacherOutput probabilities(float temperature) {
        return new TeacherOutput("probabilities", temperature);
    }

    /** @return raw classification logits */
    public static TeacherOutput logits() {
        return new TeacherOutput("logits", 1f);
    }

    /** @return raw regression outputs */
    public static TeacherOutput values() {
        return new TeacherOutput("values", 1f);
    }

    /** @return {@code regression} for values, else {@code classification} */
    public String task() {
        return signal.equals("values") ? "regression" : "classification";
    }

    /**
     * Maps raw outputs to samples.
     *
     * @param raw the model's outputs, classes or outputs on the last axis
     * @return probabilities, logits or values, same shape
     */
    public NDArray apply(NDArray raw) {
        if (!signal.equals("probabilities")) {
            return raw;
        }
        int axis = raw.getShape().dimension() - 1;
        return temperature == 1f ? raw.softmax(axis) : raw.div(temperature).softmax(axis);
    }

    /** @return the signal and temperature, for a teacher's provenance */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("signal", signal);
        m.put("temperature", temperature);
        return m;
    }
}

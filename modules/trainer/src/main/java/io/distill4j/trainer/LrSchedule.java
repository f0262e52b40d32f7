package io.distill4j.trainer;

import java.util.Locale;

/**
 * A learning-rate schedule with linear warm-up, following Hugging Face transformers'
 * {@code get_constant_schedule_with_warmup}, {@code get_linear_schedule_with_warmup} and
 * {@code get_cosine_schedule_with_warmup} (one half cosine cycle).
 *
 * <p>With base rate r, W warm-up steps and T total steps, the rate of optimiser update number t (t counts
 * the updates already done, so the first update has t = 0) is r * f(t), where f(t) = t / W for t &lt; W and
 * otherwise
 * <ul>
 *   <li>constant: f(t) = 1;</li>
 *   <li>linear: f(t) = max(0, (T - t) / max(1, T - W));</li>
 *   <li>cosine: f(t) = (1 + cos(pi * p)) / 2 with p = min(1, (t - W) / max(1, T - W)).</li>
 * </ul>
 * Past T both decaying schedules stay at 0 (Hugging Face's cosine would rise again).
 *
 * @param kind the shape after warm-up
 * @param baseRate the peak rate r, positive and finite
 * @param warmupSteps W, non-negative
 * @param totalSteps T, at least W (ignored by {@link Kind#CONSTANT})
 */
public record LrSchedule(Kind kind, double baseRate, long warmupSteps, long totalSteps) {

    /** The shape of the schedule after warm-up. */
    public enum Kind {
        /** The base rate after warm-up. */
        CONSTANT,
        /** Linear decay from the base rate to 0 at the last step. */
        LINEAR,
        /** Half a cosine cycle from the base rate to 0 at the last step. */
        COSINE;

        /**
         * Parses a kind case-insensitively.
         *
         * @param name {@code constant}, {@code linear} or {@code cosine}
         * @return the kind
         * @throws IllegalArgumentException naming the value if it is none of them
         */
        public static Kind parse(String name) {
            for (Kind k : values()) {
                if (k.name().equalsIgnoreCase(name)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown schedule '" + name + "' (known: constant, linear, cosine)");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Validates every field. */
    public LrSchedule {
        java.util.Objects.requireNonNull(kind, "kind");
        if (!(baseRate > 0) || Double.isInfinite(baseRate)) {
            throw new IllegalArgumentException("learning rate must be positive and finite, got " + baseRate);
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmupSteps must be non-negative, got " + warmupSteps);
        }
        if (kind != Kind.CONSTANT && totalSteps < warmupSteps) {
            throw new IllegalArgumentException("totalSteps (" + totalSteps + ") must be at least warmupSteps ("
                    + warmupSteps + ") for a " + kind + " schedule");
        }
    }

    /**
     * The rate of one optimiser update.
     *
     * @param t the number of updates already done, from 0
     * @return the learning rate
     */
    public double rate(long t) {
        if (t < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + t);
        }
        if (t < warmupSteps) {
            return baseRate * t / (double) warmupSteps;
        }
        double span = Math.max(1, totalSteps - warmupSteps);
        switch (kind) {
            case LINEAR:
                return baseRate * Math.max(0, (totalSteps - t) / span);
            case COSINE:
                return baseRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, (t - warmupSteps) / span)));
            default:
                return baseRate;
        }
    }
}

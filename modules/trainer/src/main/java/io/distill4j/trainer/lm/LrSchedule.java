package io.distill4j.trainer.lm;

import ai.djl.training.tracker.Tracker;

/**
 * A learning-rate schedule with linear warm-up.
 *
 * <p>For step s (0-based) of S steps with W warm-up steps and peak rate r:
 * <pre>
 *   s &lt; W:        lr = r * (s + 1) / W
 *   otherwise, with progress u = (s - W) / max(1, S - W):
 *     constant:  lr = r
 *     linear:    lr = r * (1 - u)
 *     cosine:    lr = r * 0.5 * (1 + cos(pi * u))
 * </pre>
 * as {@code transformers}' {@code get_linear_schedule_with_warmup} and
 * {@code get_cosine_schedule_with_warmup} (except that warm-up starts at r/W rather than 0, so no step is
 * wasted).
 *
 * @param kind constant, linear or cosine decay after warm-up
 * @param peak r, the rate at the end of warm-up
 * @param warmupSteps W
 * @param totalSteps S
 */
public record LrSchedule(Kind kind, double peak, int warmupSteps, int totalSteps) {

    /** The decay after warm-up. */
    public enum Kind {
        /** No decay. */
        CONSTANT,
        /** Linear decay to 0 at the last step. */
        LINEAR,
        /** Half-cosine decay to 0 at the last step. */
        COSINE
    }

    /** Validates: kind set, peak positive and finite, 0 &lt;= W &lt;= S, S &gt; 0. */
    public LrSchedule {
        if (kind == null) {
            throw new IllegalArgumentException("schedule kind must be constant, linear or cosine");
        }
        if (!(peak > 0) || Double.isInfinite(peak)) {
            throw new IllegalArgumentException("learning rate must be positive and finite, got " + peak);
        }
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("total steps must be positive, got " + totalSteps);
        }
        if (warmupSteps < 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("warm-up steps must be in [0, " + totalSteps + "], got " + warmupSteps);
        }
    }

    /**
     * The rate at a step.
     *
     * @param step 0-based step
     * @return the learning rate
     */
    public double at(int step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        double u = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
        switch (kind) {
            case LINEAR:
                return peak * (1 - u);
            case COSINE:
                return peak * 0.5 * (1 + Math.cos(Math.PI * u));
            default:
                return peak;
        }
    }

    /**
     * The schedule as a DJL tracker: DJL's optimisers count updates per parameter from 1, so update t gets
     * {@code at(t - 1)}.
     *
     * @return the tracker
     */
    public Tracker tracker() {
        return t -> (float) at(t - 1);
    }
}

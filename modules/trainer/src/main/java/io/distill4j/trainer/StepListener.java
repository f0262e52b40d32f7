package io.distill4j.trainer;

/** Told after each optimiser step; used for progress bars and logging. */
@FunctionalInterface
public interface StepListener {

    /** A listener that ignores every step. */
    StepListener NONE = (epoch, step, items, loss) -> { };

    /**
     * Called after a step.
     *
     * @param epoch the epoch, from 0
     * @param step the global step, from 1
     * @param items the items in this step's batch
     * @param loss the step's loss value
     */
    void onStep(int epoch, long step, int items, double loss);
}

package io.distill4j.trainer;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Told what a {@link TrainingEngine#fit} run does, in the manner of DJL's {@code TrainingListener}: the engine
 * keeps the optimisation step, and everything around it (validation, early stopping, checkpoints, logging, the
 * progress bar, run tracking) is a listener. Every method does nothing by default; implement those you need.
 *
 * <p>Order of the events of one run: {@link #onFitBegin} once, after the resume and the first-batch check;
 * then for each optimiser update {@link #onStep} to every listener, and, when that update is validated or
 * checkpointed, {@link #onValidation} and {@link #onCheckpoint} to every listener; finally {@link #onFitEnd}
 * once, in reverse order (so that early stopping restores the best parameters before the trackers write the
 * end of the run), also when the run fails. The engine's own listeners come in this order: logging, progress,
 * tracking, then the caller's listeners, then validation, early stopping and checkpoints, so a caller's
 * {@link FitContext#requestStop} in {@code onStep} is seen by the checkpoint of the same update.
 *
 * <p>A listener may read the model and the run's position through the {@link FitContext}, and stop the run
 * with {@link FitContext#requestStop}. It must not change the parameters, the optimiser or the engine's random
 * seed, or a resumed run would no longer take exactly the steps of an uninterrupted one. Listeners are called
 * on the training thread, one at a time; an exception from one ends the run and reaches the caller.
 *
 * <pre>{@code
 * FitListener stopAtLoss = new FitListener() {
 *     public void onStep(FitContext fit, StepMetrics step) {
 *         if (step.loss() < 0.05) {
 *             fit.requestStop("loss " + step.loss() + " < 0.05");
 *         }
 *     }
 * };
 * FitResult r = TrainingEngine.fit(model, source, loss, spec, validator, stopAtLoss,
 *         FitListener.onSteps(s -> System.out.println(s.step() + " " + s.loss())));
 * }</pre>
 */
public interface FitListener {

    /**
     * Called once before the first update of this call (after a resume, {@link FitContext#step()} is the
     * update the checkpoint had reached).
     *
     * @param fit the run
     */
    default void onFitBegin(FitContext fit) {
    }

    /**
     * Called after every optimiser update.
     *
     * @param fit the run
     * @param step what the update did
     */
    default void onStep(FitContext fit, StepMetrics step) {
    }

    /**
     * Called after every validation.
     *
     * @param fit the run
     * @param validation the value and the early-stopping bookkeeping
     */
    default void onValidation(FitContext fit, Validation validation) {
    }

    /**
     * Called after a checkpoint was written.
     *
     * @param fit the run
     * @param checkpoint the checkpoint folder
     */
    default void onCheckpoint(FitContext fit, Path checkpoint) {
    }

    /**
     * Called once when the run ends, after its last update, or when it fails (then files should be closed,
     * and nothing that assumes a finished run should be done).
     *
     * @param fit the run
     * @param failure the exception that ends the run, or null when it completed (or was stopped)
     */
    default void onFitEnd(FitContext fit, Throwable failure) {
    }

    /**
     * Whether this listener reads {@link StepMetrics#gradNorm()}: the engine then measures the global gradient
     * norm at every update (it does anyway when it clips gradients or trains in fp16).
     *
     * @return false by default
     */
    default boolean wantsGradNorm() {
        return false;
    }

    /**
     * A listener told only of updates, for a lambda.
     *
     * @param action called with every update's metrics
     * @return the listener
     */
    static FitListener onSteps(Consumer<StepMetrics> action) {
        Objects.requireNonNull(action, "action");
        return new FitListener() {
            @Override
            public void onStep(FitContext fit, StepMetrics step) {
                action.accept(step);
            }
        };
    }
}

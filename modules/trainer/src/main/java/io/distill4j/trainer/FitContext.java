package io.distill4j.trainer;

import ai.djl.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A {@link TrainingEngine#fit} run as its {@link FitListener}s see it: the model, the settings, where the run
 * stands and what its validations gave; {@link #requestStop} ends it after the current update.
 *
 * <p>Not thread-safe: read it on the training thread, inside a listener's methods.
 */
public final class FitContext {

    private final Model model;
    private final TrainingSpec spec;
    private final TrainingSession session;
    private final String unit;
    private final int batchesPerEpoch;
    private final long totalSteps;

    // Where the run stands; the engine advances it, a resume restores it.
    long step;
    int epoch;
    int batch;
    long skipped;
    double lastLoss = Double.NaN;
    private long startStep;
    private long items;
    private long startNanos;

    // Validations and the early-stopping bookkeeping; the checkpoint saves them.
    private final List<Double> validations = new ArrayList<>();
    int validationCount;
    double best = Double.NaN;
    long bestStep = -1;
    int withoutImprovement;
    byte[] bestParameters;
    boolean restoredBest;

    private StepMetrics current;
    private Path lastCheckpoint;
    private String stopReason;
    private List<FitListener> listeners = List.of();

    FitContext(Model model, TrainingSpec spec, TrainingSession session, BatchSource source, long totalSteps) {
        this.model = model;
        this.spec = spec;
        this.session = session;
        this.unit = Objects.requireNonNull(source.unit(), "unit");
        this.batchesPerEpoch = source.batchesPerEpoch();
        this.totalSteps = totalSteps;
    }

    /** @return the model being trained */
    public Model model() {
        return model;
    }

    /** @return the run's settings */
    public TrainingSpec spec() {
        return spec;
    }

    /** @return the run's optimiser updates in all */
    public long totalSteps() {
        return totalSteps;
    }

    /** @return updates done when this call began (the checkpoint's update after a resume, else 0) */
    public long startStep() {
        return startStep;
    }

    /** @return updates done so far */
    public long step() {
        return step;
    }

    /** @return the epoch of the next micro-batch, from 0 (completed epochs) */
    public int epoch() {
        return epoch;
    }

    /** @return micro-batches per epoch of the batch source */
    public int batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /** @return what a micro-batch's size counts ({@link BatchSource#unit()}), such as "items" or "tokens" */
    public String unit() {
        return unit;
    }

    /** @return items (or tokens) trained on in this call */
    public long items() {
        return items;
    }

    /** @return seconds since this call's first update began */
    public double elapsedSeconds() {
        return startNanos == 0 ? 0 : (System.nanoTime() - startNanos) / 1e9;
    }

    /** @return items (or tokens) per second over this call */
    public double itemsPerSecond() {
        double s = elapsedSeconds();
        return s > 0 ? items / s : 0;
    }

    /** @return the mean micro-batch loss of the last update, NaN before the first */
    public double lastLoss() {
        return lastLoss;
    }

    /** @return this call's validation values, in order */
    public List<Double> validations() {
        return Collections.unmodifiableList(validations);
    }

    /** @return the best validation value (with early stopping), NaN otherwise */
    public double bestValidation() {
        return best;
    }

    /** @return the update of the best validation (with early stopping), -1 otherwise */
    public long bestValidationStep() {
        return bestStep;
    }

    /** @return the last checkpoint written by this call, or null */
    public Path lastCheckpoint() {
        return lastCheckpoint;
    }

    /**
     * Ends the run after the current update: the remaining listeners still see it, a checkpoint is written if
     * checkpoints are on, and {@link FitResult#stoppedEarly()} is true. The first reason given is kept.
     *
     * @param reason why, for the log and the trackers
     */
    public void requestStop(String reason) {
        if (stopReason == null) {
            stopReason = Objects.requireNonNull(reason, "reason");
        }
    }

    /** @return whether a listener asked the run to stop */
    public boolean stopRequested() {
        return stopReason != null;
    }

    /** @return why the run was asked to stop, or null */
    public String stopReason() {
        return stopReason;
    }

    TrainingSession session() {
        return session;
    }

    /** Starts the clock and tells every listener that the run begins; on a failure, ends those already told. */
    void begin(List<FitListener> all) {
        listeners = List.copyOf(all);
        startStep = step;
        startNanos = System.nanoTime();
        for (int i = 0; i < listeners.size(); i++) {
            try {
                listeners.get(i).onFitBegin(this);
            } catch (RuntimeException | Error e) {
                endListeners(listeners.subList(0, i), e);
                throw e;
            }
        }
    }

    /** Records an update and tells every listener. */
    void stepped(StepMetrics m) {
        current = m;
        items += m.items();
        for (FitListener l : listeners) {
            l.onStep(this, m);
        }
    }

    /**
     * Records a validation of the current update, applies the early-stopping rule's bookkeeping (not its
     * decision: see {@link EarlyStopper}) and tells every listener.
     */
    void validated(String metric, double value) {
        EarlyStopping rule = spec.earlyStopping();
        validations.add(value);
        validationCount++;
        boolean improved = false;
        if (rule != null) {
            improved = rule.improves(value, best);
            if (improved) {
                best = value;
                bestStep = step;
                withoutImprovement = 0;
            } else {
                withoutImprovement++;
            }
        }
        Validation v = new Validation(step, current == null ? epoch : current.epoch(), metric, value,
                rule == null ? Double.NaN : best, rule == null ? -1 : bestStep, improved,
                rule == null ? 0 : withoutImprovement, rule == null ? 0 : rule.patience());
        for (FitListener l : listeners) {
            l.onValidation(this, v);
        }
    }

    /** Records a checkpoint and tells every listener. */
    void checkpointed(Path checkpoint) {
        lastCheckpoint = checkpoint;
        for (FitListener l : listeners) {
            l.onCheckpoint(this, checkpoint);
        }
    }

    /**
     * Tells every listener, last first, that the run ended.
     *
     * @param failure what ended it, or null
     * @throws RuntimeException the first exception of a listener when the run itself did not fail (later ones
     *     are suppressed into it; with a failure, they are suppressed into the failure)
     */
    void end(Throwable failure) {
        endListeners(listeners, failure);
    }

    private void endListeners(List<FitListener> ls, Throwable failure) {
        RuntimeException first = null;
        for (int i = ls.size() - 1; i >= 0; i--) {
            try {
                ls.get(i).onFitEnd(this, failure);
            } catch (RuntimeException e) {
                if (failure != null) {
                    failure.addSuppressed(e);
                } else if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    FitResult result() {
        return new FitResult(step, epoch, lastLoss, skipped, validations, best, bestStep, stopRequested(), restoredBest,
                lastCheckpoint, itemsPerSecond());
    }
}

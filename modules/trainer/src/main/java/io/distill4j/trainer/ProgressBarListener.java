package io.distill4j.trainer;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * The progress display of a run ({@link ConsoleProgress}): updates done of the run's total, the latest loss
 * and validation, items (or tokens) per second, elapsed time and ETA; a bar on a terminal, a plain line every
 * interval otherwise. The engine adds one when {@link TrainingSpec#progressBar()} is set (the default); pass
 * one of your own (another mode or interval) only with {@code optProgressBar(false)}, or two are drawn.
 */
public final class ProgressBarListener implements FitListener {

    private static final long MESSAGE_NANOS = 200_000_000L;

    private final ConsoleProgress.Mode mode;
    private final Duration lineInterval;
    private ConsoleProgress progress;
    private String validation = "";
    private long messageAt;

    /**
     * A display that picks a bar on a terminal and plain lines elsewhere.
     *
     * @param lineInterval the time between plain lines when standard error is not a terminal
     */
    public ProgressBarListener(Duration lineInterval) {
        this(ConsoleProgress.Mode.AUTO, lineInterval);
    }

    /**
     * A display in a given mode.
     *
     * @param mode bar, lines, nothing, or auto
     * @param lineInterval the time between plain lines
     */
    public ProgressBarListener(ConsoleProgress.Mode mode, Duration lineInterval) {
        this.mode = Objects.requireNonNull(mode, "mode");
        this.lineInterval = Objects.requireNonNull(lineInterval, "lineInterval");
    }

    @Override
    public void onFitBegin(FitContext fit) {
        progress = ConsoleProgress.builder().setTask(fit.model().getName()).setTotal(fit.totalSteps())
                .optStartFrom(fit.step()).optUnit("updates").optShowRate(false).optMode(mode)
                .optLineInterval(lineInterval).build();
    }

    @Override
    public void onStep(FitContext fit, StepMetrics step) {
        progress.stepTo(step.step());
        long now = System.nanoTime();
        if (now - messageAt >= MESSAGE_NANOS || step.step() >= step.totalSteps()) {
            messageAt = now;
            progress.setMessage(message(fit, step.loss()));
        }
    }

    @Override
    public void onValidation(FitContext fit, Validation v) {
        validation = String.format(Locale.ROOT, ", %s %.4g", v.metric(), v.value());
        progress.setMessage(message(fit, fit.lastLoss()));
    }

    @Override
    public void onFitEnd(FitContext fit, Throwable failure) {
        if (progress != null) {
            progress.setMessage(message(fit, fit.lastLoss()) + (fit.stopRequested() ? ", stopped" : ""));
            progress.close();
            progress = null;
        }
    }

    private String message(FitContext fit, double loss) {
        return String.format(Locale.ROOT, "loss %.4g%s, %s %s/s", loss, validation,
                ConsoleProgress.formatRate(fit.itemsPerSecond()), fit.unit());
    }
}

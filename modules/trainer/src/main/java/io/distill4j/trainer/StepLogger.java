package io.distill4j.trainer;

import java.nio.file.Path;
import java.util.Locale;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Log4j2 lines of a run (logger {@code io.distill4j.trainer.TrainingEngine}): an update line every
 * {@link TrainingSpec#logEvery()} updates and at each epoch end (at DEBUG when {@code logEvery} is 0), every
 * validation, early stop, checkpoint, skipped fp16 update and the restore of the best parameters.
 *
 * <p>While a progress bar is drawn on the terminal, a line written under it would be overwritten by its next
 * redraw: the update, validation, early-stop and checkpoint lines then go to DEBUG (the bar shows loss,
 * validation and rate), and one INFO line after the bar closes says how the run ended.
 */
final class StepLogger implements FitListener {

    private static final Logger LOG = LogManager.getLogger(TrainingEngine.class);

    private final long every;
    private final boolean barShown;
    private final Level info;

    /**
     * @param every updates between update lines, 0 for epoch ends only
     * @param barShown whether a progress bar is drawn on the terminal
     */
    StepLogger(long every, boolean barShown) {
        this.every = every;
        this.barShown = barShown;
        this.info = barShown ? Level.DEBUG : Level.INFO;
    }

    @Override
    public void onStep(FitContext fit, StepMetrics m) {
        String name = fit.model().getName();
        if (m.skipped()) {
            LOG.warn("{}: fp16 gradients overflowed at update {}; skipped, loss scale now {}", name, m.step(),
                    m.lossScale());
        }
        boolean periodic = every > 0 && m.step() % every == 0;
        if (periodic || m.epochEnd()) {
            Level level = periodic || every > 0 ? info : Level.DEBUG;
            if (LOG.isEnabled(level)) {
                double norm = m.gradNorm();
                LOG.log(level, String.format(Locale.ROOT, "%s: update %d/%d epoch %d loss %.5f lr %.3g%s %.0f %s/s",
                        name, m.step(), m.totalSteps(), m.epoch(), m.loss(), m.learningRate(),
                        Double.isNaN(norm) ? "" : String.format(Locale.ROOT, " grad-norm %.4g", norm),
                        fit.itemsPerSecond(), fit.unit()));
            }
        }
    }

    @Override
    public void onValidation(FitContext fit, Validation v) {
        String name = fit.model().getName();
        if (v.patience() == 0) {
            LOG.log(info, String.format(Locale.ROOT, "%s: validation %s %.5f at update %d", name, v.metric(),
                    v.value(), v.step()));
            return;
        }
        LOG.log(info, String.format(Locale.ROOT, "%s: validation %s %.5f at update %d (best %.5f at %d, %d/%d"
                + " without improvement)", name, v.metric(), v.value(), v.step(), v.best(), v.bestStep(),
                v.withoutImprovement(), v.patience()));
        if (v.withoutImprovement() >= v.patience()) {
            LOG.log(info, "{}: early stop at update {}", name, v.step());
        }
    }

    @Override
    public void onCheckpoint(FitContext fit, Path checkpoint) {
        LOG.log(info, "{}: checkpoint {}", fit.model().getName(), checkpoint);
    }

    @Override
    public void onFitEnd(FitContext fit, Throwable failure) {
        if (failure != null) {
            return;
        }
        String name = fit.model().getName();
        if (!barShown) {
            if (fit.restoredBest) {
                LOG.info("{}: restored the parameters of update {} (validation {})", name, fit.bestValidationStep(),
                        fit.bestValidation());
            }
            return;
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s: %d/%d updates, last loss %.5f", name,
                fit.step(), fit.totalSteps(), fit.lastLoss()));
        if (fit.stopRequested()) {
            sb.append(", stopped (").append(fit.stopReason()).append(')');
        }
        if (fit.restoredBest) {
            sb.append(String.format(Locale.ROOT, ", restored the parameters of update %d (validation %.5f)",
                    fit.bestValidationStep(), fit.bestValidation()));
        }
        if (fit.lastCheckpoint() != null) {
            sb.append(", checkpoint ").append(fit.lastCheckpoint());
        }
        LOG.log(every > 0 ? Level.INFO : Level.DEBUG, sb.toString());
    }
}

package io.distill4j.trainer;

import java.nio.file.Path;
import java.util.Locale;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Log4j2 lines of a run (logger {@code io.distill4j.trainer.TrainingEngine}): an update line every
 * {@link TrainingSpec#logEvery()} updates and at each epoch end (at DEBUG when {@code logEvery} is 0, or while
 * a progress bar on the terminal shows the same), every validation, checkpoint and skipped fp16 update.
 */
final class StepLogger implements FitListener {

    private static final Logger LOG = LogManager.getLogger(TrainingEngine.class);

    private final long every;
    private final boolean barShown;

    /**
     * @param every updates between update lines, 0 for epoch ends only
     * @param barShown whether a progress bar on the terminal shows loss and rate (update lines go to DEBUG, so
     *     that they do not break the bar)
     */
    StepLogger(long every, boolean barShown) {
        this.every = every;
        this.barShown = barShown;
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
            Level level = (periodic || every > 0) && !barShown ? Level.INFO : Level.DEBUG;
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
            LOG.info(String.format(Locale.ROOT, "%s: validation %s %.5f at update %d", name, v.metric(), v.value(),
                    v.step()));
        } else {
            LOG.info(String.format(Locale.ROOT, "%s: validation %s %.5f at update %d (best %.5f at %d, %d/%d without"
                    + " improvement)", name, v.metric(), v.value(), v.step(), v.best(), v.bestStep(),
                    v.withoutImprovement(), v.patience()));
        }
    }

    @Override
    public void onCheckpoint(FitContext fit, Path checkpoint) {
        LOG.info("{}: checkpoint {}", fit.model().getName(), checkpoint);
    }
}

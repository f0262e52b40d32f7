package io.distill4j.trainer;

import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A console progress bar over optimiser updates, showing the loss and the items per second (or another
 * unit, such as the tokens of a language model's batches).
 */
public final class ProgressBarListener implements StepListener, AutoCloseable {

    private final ProgressBar bar;
    private final long start = System.nanoTime();
    private final String unit;
    private long items;

    /**
     * Opens the bar.
     *
     * @param task the task name shown on the left
     * @param total the updates of the whole run
     * @param done the updates already done (when resuming)
     */
    public ProgressBarListener(String task, long total, long done) {
        this(task, total, done, "items");
    }

    /**
     * Opens the bar with a named unit of throughput.
     *
     * @param task the task name shown on the left
     * @param total the updates of the whole run
     * @param done the updates already done (when resuming)
     * @param unit what a step's {@code items} count, shown as "&lt;unit&gt;/s" (for example "tokens")
     */
    public ProgressBarListener(String task, long total, long done, String unit) {
        this.unit = java.util.Objects.requireNonNull(unit, "unit");
        this.bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(500).continuousUpdate().startsFrom(done, java.time.Duration.ZERO).build();
    }

    @Override
    public void onStep(int epoch, long step, int n, double loss) {
        items += n;
        double seconds = (System.nanoTime() - start) / 1e9;
        bar.stepTo(step);
        bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f %.0f %s/s", loss, seconds > 0 ? items / seconds : 0, unit));
    }

    /** Closes the bar. */
    @Override
    public void close() {
        bar.close();
    }
}

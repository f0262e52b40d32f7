package io.distill4j.trainer;

import java.io.Console;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DefaultProgressBarRenderer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarRenderer;
import me.tongfei.progressbar.ProgressBarStyle;
import me.tongfei.progressbar.ProgressState;

/**
 * The progress display of every long job (training, sampling a teacher, the demo): a count with its unit, the
 * rate, the elapsed time, the ETA and a message such as the latest loss, drawn by me.tongfei:progressbar.
 *
 * <p>On a terminal it is a bar redrawn in place (progressbar's console consumer; several bars at once stack,
 * one line each). When standard error is not a terminal (a file, a pipe, CI) it writes one plain line every
 * {@link Builder#optLineInterval line interval} instead of carriage returns, and a last line at the end if it
 * wrote any (jobs shorter than the interval stay silent). Rates are printed in full ({@code 0.800 items/s},
 * {@code 12.3 items/s}, {@code 1234 items/s}), never clipped like progressbar's own {@code "#.0"} format.
 *
 * <pre>{@code
 * try (ConsoleProgress p = ConsoleProgress.builder().setTask("sample").setTotal(total).optUnit("items")
 *         .optStartFrom(done).build()) {
 *     for (...) {
 *         p.stepTo(doneNow);
 *     }
 * }
 * }</pre>
 *
 * <p>Thread-safe: the display is redrawn on progressbar's own daemon thread.
 */
public final class ConsoleProgress implements AutoCloseable {

    /** Where and how progress is shown. */
    public enum Mode {
        /** {@link #BAR} when standard error is a terminal, {@link #LINES} otherwise. */
        AUTO,
        /** A bar redrawn in place. */
        BAR,
        /** A plain line every interval. */
        LINES,
        /** Nothing. */
        OFF
    }

    /** The line interval when none is set. */
    public static final Duration DEFAULT_LINE_INTERVAL = Duration.ofSeconds(30);

    private static volatile Boolean terminal;

    private final Mode mode;
    private final ProgressBar bar;

    private ConsoleProgress(Builder b) {
        this.mode = b.mode == Mode.AUTO ? (stderrIsTerminal() ? Mode.BAR : Mode.LINES) : b.mode;
        if (mode == Mode.OFF) {
            this.bar = null;
            return;
        }
        ProgressBarBuilder pb = new ProgressBarBuilder().setTaskName(b.task).setInitialMax(b.total)
                .startsFrom(b.startFrom, Duration.ZERO).continuousUpdate();
        if (mode == Mode.BAR) {
            pb.setUpdateIntervalMillis(500).setRenderer(new BarRenderer(b.unit, b.showRate));
            if (b.out != null) {
                pb.setConsumer(new ConsoleProgressBarConsumer(b.out, 120));
            }
        } else {
            Lines lines = new Lines(b.unit, b.showRate, b.lineInterval, b.out == null ? System.err : b.out);
            pb.setUpdateIntervalMillis((int) Math.min(Integer.MAX_VALUE, b.lineInterval.toMillis()))
                    .setRenderer(lines).setConsumer(lines);
        }
        this.bar = pb.build();
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the mode in use: {@link Mode#AUTO} resolved to a bar or lines */
    public Mode mode() {
        return mode;
    }

    /**
     * Sets the count done.
     *
     * @param done units done in all (from the start, including {@link Builder#optStartFrom})
     */
    public void stepTo(long done) {
        if (bar != null) {
            bar.stepTo(done);
        }
    }

    /**
     * Adds to the count done.
     *
     * @param n units just done
     */
    public void stepBy(long n) {
        if (bar != null) {
            bar.stepBy(n);
        }
    }

    /**
     * Sets the message shown after the counts, such as {@code "loss 0.4321"}.
     *
     * @param message the message, or "" for none
     */
    public void setMessage(String message) {
        if (bar != null) {
            bar.setExtraMessage(message == null ? "" : message);
        }
    }

    /** Draws the last state and ends the display (a terminal bar stays on its line). */
    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }

    /**
     * Whether standard error is an interactive terminal: a console is attached (and, on JDK 22 and later,
     * {@code Console.isTerminal()}), {@code TERM} is not {@code dumb}, and, where {@code /proc} tells, file
     * descriptor 2 is a terminal device. Checked once per JVM.
     *
     * @return true on a terminal
     */
    public static boolean stderrIsTerminal() {
        Boolean t = terminal;
        if (t == null) {
            t = detectTerminal();
            terminal = t;
        }
        return t;
    }

    private static boolean detectTerminal() {
        Console console = System.console();
        if (console == null || "dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        try {
            if (!(Boolean) Console.class.getMethod("isTerminal").invoke(console)) {
                return false;
            }
        } catch (ReflectiveOperationException e) {
            // JDK before 22: a console means standard input and output are terminals
        }
        Path fd2 = Path.of("/proc/self/fd/2");
        if (Files.isSymbolicLink(fd2)) {
            try {
                String target = Files.readSymbolicLink(fd2).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
            } catch (IOException | SecurityException e) {
                return true;
            }
        }
        return true;
    }

    /**
     * Formats a rate with three significant figures and no exponent: 0.00123, 0.800, 12.3, 1234.
     *
     * @param perSecond the rate
     * @return the text
     */
    public static String formatRate(double perSecond) {
        if (!Double.isFinite(perSecond)) {
            return "?";
        }
        double a = Math.abs(perSecond);
        if (a >= 100 || a == 0) {
            return String.format(Locale.ROOT, "%.0f", perSecond);
        }
        int decimals = 2 - (int) Math.floor(Math.log10(a));
        return String.format(Locale.ROOT, "%." + decimals + "f", perSecond);
    }

    /**
     * Formats a duration as H:MM:SS.
     *
     * @param d the duration
     * @return the text
     */
    static String formatDuration(Duration d) {
        long s = Math.max(0, d.getSeconds());
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60);
    }

    /** Units per second since the display started (after {@code startFrom}), NaN before any progress. */
    private static double rate(ProgressState p) {
        double seconds = p.getElapsedAfterStart().toNanos() / 1e9;
        long done = p.getCurrent() - p.getStart();
        return seconds > 0 && done > 0 ? done / seconds : Double.NaN;
    }

    /** The linear ETA from the progress since the display started. */
    private static Optional<Duration> eta(ProgressState p) {
        long done = p.getCurrent() - p.getStart();
        if (p.getMax() <= 0 || p.isIndefinite() || done <= 0) {
            return Optional.empty();
        }
        double perUnit = p.getElapsedAfterStart().toNanos() / (double) done;
        return Optional.of(Duration.ofNanos((long) (perUnit * Math.max(0, p.getMax() - p.getCurrent()))));
    }

    private static String rateText(ProgressState p, String unit) {
        double r = rate(p);
        return (Double.isNaN(r) ? "?" : formatRate(r)) + " " + unit + "/s";
    }

    /** progressbar's bar with the project's rate and ETA. */
    private static final class BarRenderer extends DefaultProgressBarRenderer {
        private final String unit;

        BarRenderer(String unit, boolean showRate) {
            super(ProgressBarStyle.ASCII, " " + unit, 1, showRate, null, ChronoUnit.SECONDS, true, ConsoleProgress::eta);
            this.unit = unit;
        }

        @Override
        protected String speed(ProgressState progress) {
            return rateText(progress, unit) + (progress.getExtraMessage().isEmpty() ? "" : ", ");
        }
    }

    /** Renders and prints the plain lines: nothing in the first half interval, and a last line only after others. */
    private static final class Lines implements ProgressBarRenderer, ProgressBarConsumer {
        private final String unit;
        private final boolean showRate;
        private final long quietNanos;
        private final PrintStream out;
        private String last = "";
        private boolean printed;
        private boolean finished;

        Lines(String unit, boolean showRate, Duration interval, PrintStream out) {
            this.unit = unit;
            this.showRate = showRate;
            this.quietNanos = interval.toNanos() / 2;
            this.out = out;
        }

        @Override
        public synchronized String render(ProgressState p, int maxLength) {
            boolean alive = p.isAlive();
            if (finished || (alive ? p.getElapsedAfterStart().toNanos() < quietNanos : !printed)) {
                return "";
            }
            finished = !alive;
            StringBuilder sb = new StringBuilder(p.getTaskName()).append(": ");
            if (p.getMax() > 0) {
                sb.append((int) Math.floor(100.0 * p.getCurrent() / p.getMax())).append("% ");
            }
            sb.append(p.getCurrent()).append('/').append(p.getMax() > 0 ? Long.toString(p.getMax()) : "?")
                    .append(' ').append(unit);
            if (showRate) {
                sb.append(", ").append(rateText(p, unit));
            }
            sb.append(", ").append(formatDuration(p.getTotalElapsed())).append(" elapsed");
            if (alive) {
                sb.append(", ETA ").append(eta(p).map(ConsoleProgress::formatDuration).orElse("?"));
            } else {
                sb.append(p.getMax() > 0 && p.getCurrent() >= p.getMax() ? ", done" : ", ended");
            }
            if (!p.getExtraMessage().isEmpty()) {
                sb.append(", ").append(p.getExtraMessage());
            }
            return sb.toString();
        }

        @Override
        public int getMaxRenderedLength() {
            return Integer.MAX_VALUE;
        }

        @Override
        public synchronized void accept(String line) {
            if (line.isEmpty() || line.equals(last)) {
                return;
            }
            out.println(line);
            out.flush();
            last = line;
            printed = true;
        }

        @Override
        public void clear() {
        }

        @Override
        public void close() {
            out.flush();
        }
    }

    /** Builder of a {@link ConsoleProgress}: task and total are required. */
    public static final class Builder {
        private String task;
        private long total = -1;
        private String unit = "items";
        private long startFrom;
        private boolean showRate = true;
        private Mode mode = Mode.AUTO;
        private Duration lineInterval = DEFAULT_LINE_INTERVAL;
        private PrintStream out;

        private Builder() {
        }

        /**
         * Sets the job's name, shown first.
         *
         * @param name the name, such as "sample" or a model's name
         * @return this builder
         */
        public Builder setTask(String name) {
            this.task = name;
            return this;
        }

        /**
         * Sets the count at which the job is done.
         *
         * @param units the total, non-negative
         * @return this builder
         */
        public Builder setTotal(long units) {
            this.total = units;
            return this;
        }

        /**
         * Names what is counted.
         *
         * @param name such as "items", "tokens" or "updates"
         * @return this builder
         */
        public Builder optUnit(String name) {
            this.unit = name;
            return this;
        }

        /**
         * Starts the count where an earlier, resumed run stopped; rate and ETA count from here.
         *
         * @param done units already done, non-negative
         * @return this builder
         */
        public Builder optStartFrom(long done) {
            this.startFrom = done;
            return this;
        }

        /**
         * Shows or hides the rate of the counted unit (hide it when the message carries a better one, as
         * training shows items/s while it counts updates).
         *
         * @param show whether to show "N unit/s"
         * @return this builder
         */
        public Builder optShowRate(boolean show) {
            this.showRate = show;
            return this;
        }

        /**
         * Chooses bar, lines or nothing.
         *
         * @param m the mode; {@link Mode#AUTO} by default
         * @return this builder
         */
        public Builder optMode(Mode m) {
            this.mode = m;
            return this;
        }

        /**
         * Sets the time between plain lines when standard error is not a terminal.
         *
         * @param interval positive; {@link #DEFAULT_LINE_INTERVAL} by default
         * @return this builder
         */
        public Builder optLineInterval(Duration interval) {
            this.lineInterval = interval;
            return this;
        }

        /**
         * Writes to this stream instead of standard error (for tests and embedding; the bar then redraws with
         * carriage returns at 120 columns).
         *
         * @param stream the stream
         * @return this builder
         */
        public Builder optOutput(PrintStream stream) {
            this.out = stream;
            return this;
        }

        /**
         * Validates the settings and starts the display.
         *
         * @return the display; close it when the job ends
         * @throws IllegalArgumentException naming the first invalid setting
         */
        public ConsoleProgress build() {
            if (task == null || task.isBlank()) {
                throw new IllegalArgumentException("a progress display needs a task name");
            }
            if (total < 0) {
                throw new IllegalArgumentException("progress total must be set and non-negative, got " + total);
            }
            if (startFrom < 0) {
                throw new IllegalArgumentException("progress start must be non-negative, got " + startFrom);
            }
            if (unit == null || unit.isBlank()) {
                throw new IllegalArgumentException("a progress unit must be named");
            }
            Objects.requireNonNull(mode, "mode");
            if (lineInterval == null || lineInterval.isNegative() || lineInterval.isZero()) {
                throw new IllegalArgumentException("progress line interval must be positive, got " + lineInterval);
            }
            return new ConsoleProgress(this);
        }
    }
}

package io.distill4j.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Streams a run's metrics as JSON Lines into {@code dir/}{@value #FILE}, one object per line, each written
 * whole with one write and flushed to the operating system, so that {@code tail -f}, pandas
 * ({@code pd.read_json(path, lines=True)}) or a dashboard can read it while the model trains. Every line has
 * {@code "event"}, {@code "step"} (updates done) and {@code "time"} (seconds since the Unix epoch):
 * <ul>
 *   <li>{@code begin}: {@code model}, {@code seed}, {@code device}, {@code total_steps}, {@code unit};</li>
 *   <li>{@code step}: {@code epoch}, {@code loss}, {@code learning_rate}, {@code grad_norm} (when measured and
 *       finite), {@code <unit>} and {@code <unit>_per_second} (items or tokens of this update), {@code seconds}
 *       (of this update), {@code skipped} and {@code loss_scale} (fp16);</li>
 *   <li>{@code validation}: {@code epoch}, {@code metric}, {@code value}, and with early stopping {@code best},
 *       {@code best_step};</li>
 *   <li>{@code checkpoint}: {@code path};</li>
 *   <li>{@code end}: {@code status} ({@code completed}, {@code stopped} with {@code reason}, or {@code failed}
 *       with {@code error}), {@code epochs}, {@code <unit>_per_second} over the call, {@code restored_best}.</li>
 * </ul>
 * A folder that cannot be made or written is a {@link io.distill4j.data.BadInputException} before the first update; a write that
 * fails later (a full disk) an {@link UncheckedIOException} naming the file. A fresh run replaces the file. A run resumed from update S keeps the lines of steps up to S (an interrupted
 * run may have written later ones, which the resumed run writes again) and appends.
 */
public final class JsonlTracker implements FitListener {

    /** The file name. */
    public static final String FILE = "metrics.jsonl";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WHAT = "the tracked metrics";

    private final Path dir;
    private final long every;
    private TrackingFile out;

    /**
     * A tracker writing into a folder.
     *
     * @param dir the folder (made if missing)
     * @param every write an update every this many updates (and at epoch ends and the last update)
     */
    public JsonlTracker(Path dir, long every) {
        this.dir = java.util.Objects.requireNonNull(dir, "dir");
        this.every = Tracking.checkEvery(every);
    }

    /** @return the metrics file */
    public Path file() {
        return dir.resolve(FILE);
    }

    @Override
    public boolean wantsGradNorm() {
        return true;
    }

    @Override
    public void onFitBegin(FitContext fit) {
        Path file = file();
        boolean resume = fit.startStep() > 0 && Files.isRegularFile(file);
        try {
            Files.createDirectories(dir);
            if (resume) {
                keepUpTo(file, fit.startStep());
            }
        } catch (IOException e) {
            throw TrackingFile.cannotOpen(file, WHAT, e);
        }
        out = resume ? TrackingFile.open(file, WHAT, StandardOpenOption.WRITE, StandardOpenOption.APPEND)
                : TrackingFile.open(file, WHAT, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING);
        Map<String, Object> m = line("begin", fit.step());
        m.put("model", fit.model().getName());
        m.put("seed", fit.spec().seed());
        m.put("device", fit.spec().device().toString());
        m.put("total_steps", fit.totalSteps());
        m.put("unit", fit.unit());
        write(m);
    }

    @Override
    public void onStep(FitContext fit, StepMetrics s) {
        if (!Tracking.due(s, every)) {
            return;
        }
        Map<String, Object> m = line("step", s.step());
        m.put("epoch", s.epoch());
        put(m, "loss", s.loss());
        put(m, "learning_rate", s.learningRate());
        put(m, "grad_norm", s.gradNorm());
        m.put(fit.unit(), s.items());
        put(m, fit.unit() + "_per_second", s.itemsPerSecond());
        put(m, "seconds", s.seconds());
        if (fit.spec().precision() == Precision.FP16) {
            m.put("skipped", s.skipped());
            put(m, "loss_scale", s.lossScale());
        }
        write(m);
    }

    @Override
    public void onValidation(FitContext fit, Validation v) {
        Map<String, Object> m = line("validation", v.step());
        m.put("epoch", v.epoch());
        m.put("metric", v.metric());
        put(m, "value", v.value());
        if (v.patience() > 0) {
            put(m, "best", v.best());
            m.put("best_step", v.bestStep());
        }
        write(m);
    }

    @Override
    public void onCheckpoint(FitContext fit, Path checkpoint) {
        Map<String, Object> m = line("checkpoint", fit.step());
        m.put("path", checkpoint.toString());
        write(m);
    }

    @Override
    public void onFitEnd(FitContext fit, Throwable failure) {
        if (out == null) {
            return;
        }
        try {
            Map<String, Object> m = line("end", fit.step());
            if (failure != null) {
                m.put("status", "failed");
                m.put("error", String.valueOf(failure.getMessage()));
            } else if (fit.stopRequested()) {
                m.put("status", "stopped");
                m.put("reason", fit.stopReason());
            } else {
                m.put("status", "completed");
            }
            m.put("epochs", fit.epoch());
            put(m, fit.unit() + "_per_second", fit.itemsPerSecond());
            m.put("restored_best", fit.restoredBest);
            write(m);
        } finally {
            TrackingFile f = out;
            out = null;
            f.close();
        }
    }

    private static Map<String, Object> line(String event, long step) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", event);
        m.put("step", step);
        m.put("time", BigDecimal.valueOf(System.currentTimeMillis(), 3));
        return m;
    }

    /** Puts a number unless it is NaN or infinite, which JSON cannot hold. */
    private static void put(Map<String, Object> m, String key, double value) {
        if (Double.isFinite(value)) {
            m.put(key, value);
        }
    }

    private void write(Map<String, Object> m) {
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(m);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise " + m, e);
        }
        byte[] line = java.util.Arrays.copyOf(json, json.length + 1);
        line[json.length] = '\n';
        out.write(line);
    }

    /** Rewrites the file atomically with its complete lines whose step is at most {@code step}. */
    private static void keepUpTo(Path file, long step) throws IOException {
        String[] lines = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\n");
        StringBuilder kept = new StringBuilder();
        for (String line : lines) {
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                continue; // the half-written last line of a killed run
            }
            if (n != null && n.path("step").canConvertToLong() && n.path("step").asLong() <= step) {
                kept.append(line).append('\n');
            }
        }
        AtomicFiles.write(file, kept.toString().getBytes(StandardCharsets.UTF_8));
    }
}

package io.distill4j.trainer;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Run tracking of a {@link TrainingSpec}: per-update metrics written while the model trains, into
 * {@code dir/<model name>/} (so that the students of a multi-student run, named per seed, are separate runs in
 * TensorBoard): {@value JsonlTracker#FILE} ({@link JsonlTracker}) and TensorBoard event files
 * ({@link TensorBoardTracker}). Start TensorBoard with {@code tensorboard --logdir DIR}.
 *
 * @param dir the tracking folder
 * @param every write an update's metrics every this many updates (and at each epoch end and the last update);
 *     validations and checkpoints are always written
 * @param formats the files to write, at least one
 */
public record Tracking(Path dir, long every, Set<Format> formats) {

    /** A tracking file format. */
    public enum Format {
        /** One JSON object per line, {@value JsonlTracker#FILE}. */
        JSONL,
        /** TensorBoard event files ({@code events.out.tfevents.*}). */
        TENSORBOARD
    }

    /** Validates and copies the fields. */
    public Tracking {
        Objects.requireNonNull(dir, "tracking dir");
        checkEvery(every);
        if (formats == null || formats.isEmpty()) {
            throw new IllegalArgumentException("tracking needs at least one format of " + EnumSet.allOf(Format.class));
        }
        formats = Set.copyOf(formats);
    }

    /**
     * Tracking as a configuration file gives it: {@code tracking: {dir: runs/tb, every: 10, formats: [jsonl]}}.
     *
     * @param dir the tracking folder (required)
     * @param every updates between tracked updates (default 1)
     * @param formats the files to write (default both)
     * @return the settings
     */
    @com.fasterxml.jackson.annotation.JsonCreator
    public static Tracking fromConfig(@com.fasterxml.jackson.annotation.JsonProperty("dir") Path dir,
            @com.fasterxml.jackson.annotation.JsonProperty("every") Long every,
            @com.fasterxml.jackson.annotation.JsonProperty("formats") Set<Format> formats) {
        if (dir == null) {
            throw new IllegalArgumentException("tracking needs a dir");
        }
        return new Tracking(dir, every == null ? 1 : every, formats == null ? EnumSet.allOf(Format.class) : formats);
    }

    /**
     * JSONL and TensorBoard files of every update.
     *
     * @param dir the tracking folder
     * @return the settings
     */
    public static Tracking of(Path dir) {
        return new Tracking(dir, 1, EnumSet.allOf(Format.class));
    }

    /**
     * Checks a tracking interval.
     *
     * @param every updates between tracked updates
     * @return {@code every}
     * @throws IllegalArgumentException if it is not positive
     */
    static long checkEvery(long every) {
        if (every <= 0) {
            throw new IllegalArgumentException("tracking interval must be positive, got " + every);
        }
        return every;
    }

    /**
     * Whether an update is tracked: every {@code every} updates, at epoch ends and at the last update.
     *
     * @param s the update
     * @param every the interval
     * @return true to write it
     */
    static boolean due(StepMetrics s, long every) {
        return s.step() % every == 0 || s.epochEnd() || s.step() >= s.totalSteps();
    }

    /**
     * The folder of one model's files.
     *
     * @param modelName the model's name
     * @return {@code dir/<name>}, with characters other than letters, digits, '.', '_' and '-' made '_'
     */
    public Path runDir(String modelName) {
        String safe = modelName == null || modelName.isBlank() ? "model" : modelName.replaceAll("[^A-Za-z0-9._-]", "_");
        return dir.resolve(safe.equals(".") || safe.equals("..") ? "model" : safe);
    }
}

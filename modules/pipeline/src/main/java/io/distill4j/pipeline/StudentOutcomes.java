package io.distill4j.pipeline;

import ai.djl.Device;
import ai.djl.Model;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Errors;
import io.distill4j.trainer.FitResult;
import io.distill4j.trainer.MultiStudentRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The students of a {@link Distillation} kept in its run folder, so that they can be trained apart (one task per seed)
 * and merged by {@link MultiStudentRun#run} as one run merges them: student {@code s} is {@code students/seed-s/}
 * ({@link SavedStudent}: its preset, parameters and metrics; a language model's Hugging Face folder) plus
 * {@code outcome.json}, written last and atomically,
 * which marks it finished: its training summary, metrics, test predictions and the run's settings. Read back, the
 * parameters come from the saved student and the numbers from the JSON, both exactly as they were (float32 parameters
 * in DJL's format, doubles in their shortest round-trip form), so the merged aggregates and inter-student variances
 * equal those of one run.
 */
public final class StudentOutcomes implements MultiStudentRun.StudentStore {

    /** The file that marks a stored student finished. */
    public static final String FILE = "outcome.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path runDir;
    private final Map<String, Object> settings;
    private final Folder folder;

    /**
     * What a run's saved student folder holds, for reading its parameters back.
     */
    public interface Folder {
        /**
         * @return the file a saved student holds (written before {@code outcome.json}, checked when storing)
         */
        String savedFile();

        /**
         * Reads a saved student's parameters back, flattened exactly as {@link MultiStudentRun#flatParameters} takes
         * them from the trained model.
         *
         * @param studentDir the student's folder
         * @return the parameters, or null when the run computes no parameter variance
         */
        float[] parameters(Path studentDir);
    }

    /** A tabular student ({@link SavedStudent}: {@code parameters.params} in DJL's format). */
    public static final Folder TABULAR = new Folder() {
        @Override
        public String savedFile() {
            return SavedStudent.PARAMETERS;
        }

        @Override
        public float[] parameters(Path studentDir) {
            try (Model model = SavedStudent.load(studentDir, Device.cpu())) {
                return MultiStudentRun.flatParameters(model);
            }
        }
    };

    /**
     * A store of tabular students in a run folder.
     *
     * @param runDir the run folder
     * @param settings the run's settings ({@code results.json}'s {@code settings}): a stored student of other
     *     settings is refused, not merged
     */
    public StudentOutcomes(Path runDir, Map<String, Object> settings) {
        this(runDir, settings, TABULAR);
    }

    /**
     * A store in a run folder whose students are saved as {@code folder} says.
     *
     * @param runDir the run folder
     * @param settings the run's settings: a stored student of other settings is refused, not merged
     * @param folder what a saved student holds
     */
    public StudentOutcomes(Path runDir, Map<String, Object> settings, Folder folder) {
        this.runDir = Objects.requireNonNull(runDir, "runDir");
        this.settings = normalised(settings);
        this.folder = Objects.requireNonNull(folder, "folder");
    }

    /**
     * The file that marks the student of a seed finished.
     *
     * @param runDir the run folder
     * @param seed the seed
     * @return {@code runDir/students/seed-<seed>/outcome.json}
     */
    public static Path file(Path runDir, long seed) {
        return runDir.resolve("students").resolve("seed-" + seed).resolve(FILE);
    }

    @Override
    public boolean has(long seed) {
        return Files.isRegularFile(file(runDir, seed));
    }

    @Override
    public MultiStudentRun.StudentOutcome load(long seed) {
        Path f = file(runDir, seed);
        Map<String, Object> m;
        try {
            m = JSON.readValue(f.toFile(), new TypeReference<Map<String, Object>>() { });
        } catch (IOException e) {
            throw new BadInputException(f + ": cannot read a stored student: " + Errors.reason(e), e);
        }
        if (!Objects.equals(normalised(castMap(m.get("settings"))), settings)) {
            throw new BadInputException(f + ": field settings: this student was trained with other settings than this"
                    + " run's (use a new run folder)");
        }
        FitResult training = JSON.convertValue(m.get("training"), FitResult.class);
        Map<String, Double> metrics = JSON.convertValue(m.get("metrics"), new TypeReference<LinkedHashMap<String, Double>>() { });
        double[][] predictions = m.get("predictions") == null ? null
                : JSON.convertValue(m.get("predictions"), double[][].class);
        float[] parameters = folder.parameters(f.getParent());
        return new MultiStudentRun.StudentOutcome(new MultiStudentRun.StudentResult(seed, training, metrics),
                predictions, parameters);
    }

    @Override
    public void save(MultiStudentRun.StudentOutcome outcome) {
        long seed = outcome.result().seed();
        Path f = file(runDir, seed);
        if (!Files.isRegularFile(f.resolveSibling(folder.savedFile()))) {
            throw new IllegalStateException(f.getParent() + ": the student was not saved before its outcome");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seed", seed);
        m.put("training", outcome.result().training());
        m.put("metrics", outcome.result().metrics());
        m.put("predictions", outcome.predictions());
        m.put("settings", settings);
        try {
            AtomicFiles.write(f, JSON.writeValueAsBytes(m));
        } catch (IOException e) {
            throw new UncheckedIOException(f + ": cannot store the student: " + Errors.reason(e), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Object o) {
        return o instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    /** A JSON round trip, so that numbers and paths compare alike whichever way the map was made. */
    private static Map<String, Object> normalised(Map<String, Object> map) {
        try {
            return JSON.readValue(JSON.writeValueAsBytes(map), new TypeReference<Map<String, Object>>() { });
        } catch (IOException e) {
            throw new IllegalArgumentException("settings are not JSON-serialisable: " + e.getMessage(), e);
        }
    }
}

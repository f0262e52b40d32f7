package io.distill4j.spark;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.StudentOutcomes;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Runs a grid of distillation runs (targets x losses x seeds x settings, whatever the cells say) as Spark tasks
 * into {@code <out>/<cell name>/}: one task per (cell, seed) trains that student ({@link Distillation#fitStudents},
 * after one task per cell has filled or checked its teacher cache), then one task per cell merges its students in
 * seed order with the merge of {@link Distillation#fit} ({@code MultiStudentRun.run} reading them back), so each
 * cell's students, metrics, model card, aggregates and inter-student variances equal the sequential run's; this holds
 * for tabular and language-model cells alike, LoRA students included. A cell whose students cannot be trained apart (a
 * stacked run, one that does not save students: {@link Distillation#separableSeeds}) is one task calling
 * {@link Distillation#fit}.
 *
 * <p>DJL allows one training per JVM at a time ({@code GradientCollector} and {@code Engine.setRandomSeed} are
 * JVM-global): cells in one executor JVM take turns behind a JVM-wide lock. Give training executors one task slot
 * ({@code spark.task.cpus} equal to {@code spark.executor.cores}) so that no slot waits on the lock.
 *
 * <p>A cell whose folder holds {@code results.json} (written atomically at the end of {@code fit}) is finished:
 * a rerun after an interruption reads it back instead of training again; a student with its
 * {@code students/seed-N/outcome.json} ({@link StudentOutcomes}) is finished too and not trained again. Inside an
 * unfinished student, {@code Distillation.Builder#resume} with checkpoints resumes it.
 *
 * <p>Cells that share a teacher cache ({@code cacheDir}) must find it complete (e.g. filled by
 * {@link SparkSampling} first): two executors must never fill one cache at the same time.
 */
public final class SparkGrid {

    private static final Logger LOG = LogManager.getLogger(SparkGrid.class);
    private static final ReentrantLock TRAINING = new ReentrantLock();
    private static final ObjectMapper JSON = new ObjectMapper();

    private SparkGrid() {
    }

    /**
     * Builds the run of one cell on an executor. Implementations are serialised to the executors: keep their
     * fields small (names, numbers, paths on shared storage) and build data and models in {@link #build}.
     *
     * @param <C> the cell type
     */
    public interface Recipe<C extends Serializable> extends Serializable {
        /**
         * The cell's folder name under the grid's output folder: unique, of letters, digits, '.', '_' and '-'.
         *
         * @param cell the cell
         * @return the name
         */
        String name(C cell);

        /**
         * Builds the cell's run (called on the executor that trains it).
         *
         * @param cell the cell
         * @return the run
         */
        Distillation build(C cell);

        /**
         * The seeds whose students are trained as tasks of their own (called on the driver); empty for a cell trained
         * in one task.
         *
         * @param cell the cell
         * @return by default {@link Distillation#separableSeeds} of the cell's run
         */
        default List<Long> seeds(C cell) {
            return build(cell).separableSeeds();
        }
    }

    /** One student of one cell: a task. */
    record StudentTask(int cell, long seed) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * One finished cell.
     *
     * @param name the cell's name
     * @param runDir its run folder
     * @param reused whether an earlier run had finished it (read back, not trained)
     * @param resultsJson the content of its {@code results.json}
     */
    public record CellResult(String name, String runDir, boolean reused, String resultsJson) implements Serializable {
        private static final long serialVersionUID = 1L;

        /**
         * @return {@code results.json} parsed: {@code students} (seed, updates, metrics), {@code aggregates},
         *     {@code interStudentVariance}, {@code settings}, {@code provenance}
         */
        public Map<String, Object> results() {
            try {
                return JSON.readValue(resultsJson, new TypeReference<Map<String, Object>>() { });
            } catch (IOException e) {
                throw new UncheckedIOException(runDir + ": malformed results.json", e);
            }
        }
    }

    /**
     * Runs every cell, one Spark task each, skipping cells an earlier run finished.
     *
     * @param sc the Spark context
     * @param outDir the grid's folder (on storage every executor reaches); cell {@code c} runs in
     *     {@code outDir/name(c)}
     * @param cells the cells, in the order of the results
     * @param recipe builds each cell's run
     * @param <C> the cell type
     * @return one result per cell, in cell order
     * @throws BadInputException for duplicate or unusable cell names, before any task runs
     */
    public static <C extends Serializable> List<CellResult> run(JavaSparkContext sc, Path outDir, List<C> cells,
            Recipe<C> recipe) {
        if (cells.isEmpty()) {
            throw new BadInputException(outDir + ": the grid has no cells");
        }
        Set<String> names = new HashSet<>();
        for (C c : cells) {
            String n = recipe.name(c);
            if (n == null || !n.matches("[A-Za-z0-9._-]+") || n.equals(".") || n.equals("..")) {
                throw new BadInputException(outDir + ": cell " + c + ": name '" + n + "' is not a folder name of letters,"
                        + " digits, '.', '_' and '-'");
            }
            if (!names.add(n)) {
                throw new BadInputException(outDir + ": two cells are named '" + n + "'");
            }
        }
        org.apache.spark.SparkConf conf = sc.getConf();
        if (!sc.isLocal() && conf.contains("spark.executor.cores")
                && conf.getInt("spark.task.cpus", 1) < conf.getInt("spark.executor.cores", 1)) {
            LOG.warn("spark.task.cpus {} is below spark.executor.cores {}: an executor runs several cells at once, but"
                    + " DJL trains one at a time per JVM, so they wait on each other; set spark.task.cpus to {}",
                    conf.getInt("spark.task.cpus", 1), conf.get("spark.executor.cores"), conf.get("spark.executor.cores"));
        }
        String out = outDir.toAbsolutePath().normalize().toString();
        // the students of unfinished cells that are not stored yet, one task each; before them, one task per such
        // cell prepares it (fills or checks its teacher cache), so that a cell's tasks never fill one cache at once
        List<C> prepare = new ArrayList<>();
        List<StudentTask> students = new ArrayList<>();
        for (int i = 0; i < cells.size(); i++) {
            C c = cells.get(i);
            Path dir = Path.of(out).resolve(recipe.name(c));
            if (Files.isRegularFile(dir.resolve("results.json"))) {
                continue;
            }
            int before = students.size();
            for (long seed : recipe.seeds(c)) {
                if (!Files.isRegularFile(StudentOutcomes.file(dir, seed))) {
                    students.add(new StudentTask(i, seed));
                }
            }
            if (students.size() > before) {
                prepare.add(c);
            }
        }
        List<CellResult> results;
        try {
            if (!students.isEmpty()) {
                LOG.info("{}: {} students of {} cells to train as tasks", outDir, students.size(), prepare.size());
                sc.parallelize(prepare, prepare.size()).foreach(c -> trainStudents(out, c, recipe, List.of()));
                List<C> all = List.copyOf(cells);
                sc.parallelize(students, students.size())
                        .foreach(t -> trainStudents(out, all.get(t.cell()), recipe, List.of(t.seed())));
            }
            results = sc.parallelize(new ArrayList<>(cells), cells.size()).map(c -> runCell(out, c, recipe)).collect();
        } catch (Exception e) { // a failed job is a SparkException, thrown undeclared (not a RuntimeException)
            String bad = SparkFaults.badInput(e);
            if (bad != null) {
                throw new BadInputException(bad, e);
            }
            throw e;
        }
        return List.copyOf(results);
    }

    /**
     * Trains some students of a cell into its folder (what each student task does; none: prepares the cell, filling or
     * checking its teacher cache), skipping students stored earlier.
     */
    static <C extends Serializable> void trainStudents(String outDir, C cell, Recipe<C> recipe, List<Long> seeds) {
        Path dir = Path.of(outDir).resolve(recipe.name(cell));
        TRAINING.lock();
        try {
            recipe.build(cell).fitStudents(dir, seeds);
        } finally {
            TRAINING.unlock();
        }
    }

    /**
     * Runs one cell here (what each task does), or reads it back when an earlier run finished it.
     *
     * @param outDir the grid's folder
     * @param cell the cell
     * @param recipe builds its run
     * @param <C> the cell type
     * @return its result
     * @throws IOException if its results cannot be read
     */
    public static <C extends Serializable> CellResult runCell(String outDir, C cell, Recipe<C> recipe)
            throws IOException {
        String name = recipe.name(cell);
        Path dir = Path.of(outDir).resolve(name);
        Path results = dir.resolve("results.json");
        if (Files.isRegularFile(results)) {
            LOG.info("{}: finished by an earlier run; not trained again", dir);
            return new CellResult(name, dir.toString(), true, Files.readString(results));
        }
        TRAINING.lock();
        try {
            Distillation run = recipe.build(cell);
            if (run.separableSeeds().isEmpty()) {
                run.fit(dir);
            } else {
                run.fitStudents(dir, run.seeds());   // reads the students back, trains any missing, merges
            }
        } finally {
            TRAINING.unlock();
        }
        return new CellResult(name, dir.toString(), false, Files.readString(results));
    }
}

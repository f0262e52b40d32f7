package io.distill4j.spark;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.pipeline.Distillation;
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
 * Runs a grid of distillation runs (targets x losses x seeds x settings, whatever the cells say) as Spark tasks:
 * one task per cell, each calling {@link Distillation#fit} on an executor into {@code <out>/<cell name>/}, exactly
 * what a sequential loop over the cells does, so each cell's students, metrics, model card and aggregates equal
 * the sequential run's.
 *
 * <p>DJL allows one training per JVM at a time ({@code GradientCollector} and {@code Engine.setRandomSeed} are
 * JVM-global): cells in one executor JVM take turns behind a JVM-wide lock. Give training executors one task slot
 * ({@code spark.task.cpus} equal to {@code spark.executor.cores}) so that no slot waits on the lock.
 *
 * <p>A cell whose folder holds {@code results.json} (written atomically at the end of {@code fit}) is finished:
 * a rerun after an interruption reads it back instead of training again. Inside an unfinished cell,
 * {@code Distillation.Builder#resume} with checkpoints resumes each student.
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
        List<CellResult> results;
        try {
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
            recipe.build(cell).fit(dir);
        } finally {
            TRAINING.unlock();
        }
        return new CellResult(name, dir.toString(), false, Files.readString(results));
    }
}

package io.distill4j.pipeline;

import io.distill4j.data.BadInputException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Another place to run {@code distill4j sample} jobs and {@code distill4j train} grids than this JVM (a Spark cluster,
 * ...), found with {@link ServiceLoader} when its jar is on the class path, so that the pipeline and the CLI do not
 * depend on it: an entry point asked for {@code --engine X} calls {@link #find}{@code (X).sample(...)} or
 * {@code .train(...)}; without {@code --engine} (or with {@code --engine local}) it runs {@link SampleJob#run} and
 * {@link Distillation#fit} here, as before.
 */
public interface SampleEngine {

    /**
     * Whether this engine runs jobs on the place named.
     *
     * @param engine what the user named, e.g. {@code local[4]} or {@code spark://host:7077}
     * @return whether this engine takes it
     */
    boolean accepts(String engine);

    /**
     * Runs a job there, writing the cache {@link SampleJob#run} would write.
     *
     * @param engine what the user named (accepted by {@link #accepts})
     * @param jobFile the job's YAML file
     * @param device where the teacher runs ({@code cpu}, {@code gpu(i)})
     * @param log told one line per stage
     * @return what was done
     * @throws BadInputException for bad input, before expensive work where it can be seen then
     */
    SampleJob.Result sample(String engine, Path jobFile, String device, Consumer<String> log);

    /**
     * One run of a grid: a folder name and how to build its {@link Distillation} where it runs (an engine serialises
     * the cell to its workers, so keep its fields small: names, numbers, paths on shared storage).
     */
    interface GridCell extends Serializable {
        /** @return the cell's folder under the grid's folder: letters, digits, '.', '_' and '-' */
        String name();

        /** @return the cell's run, built where it is trained */
        Distillation build();
    }

    /**
     * One finished cell of a grid.
     *
     * @param name the cell's name
     * @param runDir its run folder ({@code results.json}, {@code results.md}, model card, students)
     * @param reused whether an earlier run had finished it (read back, not trained again)
     */
    record TrainedCell(String name, Path runDir, boolean reused) {
    }

    /**
     * Runs a grid there: first fills the caches of the sample jobs the cells learn from (as {@link #sample} does;
     * an engine that does not distribute a kind of job fills its cache in this JVM), then runs each cell's {@link Distillation#fit} into {@code outDir/name}, skipping cells whose folder
     * holds {@code results.json}. Each cell's folder equals what {@code fit} writes here.
     *
     * @param engine what the user named (accepted by {@link #accepts})
     * @param sampleJobs the sample jobs whose caches the cells read (filled before any cell trains)
     * @param outDir the grid's folder
     * @param cells the cells, in the order of the results
     * @param log told one line per stage
     * @return one result per cell, in cell order
     * @throws BadInputException for bad input, or when this engine runs no grids
     */
    default List<TrainedCell> train(String engine, List<Path> sampleJobs, Path outDir, List<? extends GridCell> cells,
            Consumer<String> log) {
        throw new BadInputException("option --engine: '" + engine + "' runs sample jobs, not train grids");
    }

    /**
     * The engine on the class path that takes a name.
     *
     * @param engine what the user named
     * @return the first engine that accepts it
     * @throws BadInputException naming the value when no engine on the class path takes it
     */
    static SampleEngine find(String engine) {
        try {
            for (SampleEngine e : ServiceLoader.load(SampleEngine.class)) {
                if (e.accepts(engine)) {
                    return e;
                }
            }
        } catch (java.util.ServiceConfigurationError | LinkageError e) {
            throw new BadInputException("option --engine " + engine + ": the engine on the class path cannot load ("
                    + e.getMessage() + "): it needs Spark 4 (Scala 2.13) beside distill4j-spark_2.13; ./distill4j adds"
                    + " both", e);
        }
        throw new BadInputException("option --engine: no engine on the class path runs '" + engine + "': Spark masters"
                + " (local[N], spark://host:port, yarn, k8s://...) need modules/spark and Spark 4's jars, which"
                + " ./distill4j adds for --engine (it builds them with 'mvn -pl modules/spark -am package'); else put"
                + " distill4j-spark_2.13 and Spark 4 on the class path");
    }
}

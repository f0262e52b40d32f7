package io.distill4j.spark;

import io.distill4j.data.BadInputException;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.EngineException;
import io.distill4j.pipeline.SampleEngine;
import io.distill4j.pipeline.SampleJob;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The Spark {@link SampleEngine}, registered for {@link java.util.ServiceLoader}: takes {@code local}, {@code local[N]},
 * {@code local[N,F]}, {@code spark://host:port}, {@code yarn} and {@code k8s://...}, starts a context for the command
 * ({@link SparkEngine}; executors of a cluster get this JVM's class path, see {@link #conf}), runs
 * {@link SparkSampling#sample} or a grid ({@link SparkGrid}) and stops the context.
 *
 * <p>Faults come back as one line: a bad master, an unreachable one, a Spark of another major version, a class path
 * without Spark or with mixed library versions, and bad input found by a task (a cache folder an executor cannot
 * reach, ...) are {@link BadInputException}s; a Spark job that fails for good otherwise (tasks failing on every
 * attempt, the context shut down) is an {@link EngineException}.
 */
public final class SparkSampleEngine implements SampleEngine {

    /** Creates the engine (for {@link java.util.ServiceLoader}). */
    public SparkSampleEngine() {
    }

    @Override
    public boolean accepts(String engine) {
        String e = engine == null ? "" : engine.trim();
        return e.equals("local") || e.startsWith("local[") || e.startsWith("spark://") || e.equals("yarn")
                || e.startsWith("k8s://");
    }

    @Override
    public SampleJob.Result sample(String engine, Path jobFile, String device, Consumer<String> log) {
        return onSpark(engine, "distill4j sample " + jobFile, log, sc -> SparkSampling.sample(sc, jobFile,
                new SparkSampling.Options(device, true, List.of()), log).result());
    }

    @Override
    public List<TrainedCell> train(String engine, List<Path> sampleJobs, Path outDir, List<? extends GridCell> cells,
            Consumer<String> log) {
        return onSpark(engine, "distill4j train " + outDir, log, sc -> {
            for (Path job : sampleJobs) {
                // every kind of sample job (tabular, http, lm) fills its cache as tasks, before any cell reads it
                SparkSampling.sample(sc, job, SparkSampling.Options.defaults(), log);
            }
            List<TrainedCell> out = new ArrayList<>();
            for (SparkGrid.CellResult c : SparkGrid.run(sc, outDir, new ArrayList<GridCell>(cells), new Cells())) {
                out.add(new TrainedCell(c.name(), Path.of(c.runDir()), c.reused()));
            }
            return out;
        });
    }

    /** Grid cells that build themselves. */
    private static final class Cells implements SparkGrid.Recipe<GridCell> {
        private static final long serialVersionUID = 1L;

        @Override
        public String name(GridCell cell) {
            return cell.name();
        }

        @Override
        public Distillation build(GridCell cell) {
            return cell.build();
        }
    }

    /**
     * The context's configuration for a command of this JVM: {@link SparkEngine#conf}, and, on a cluster, this JVM's
     * class path as the executors' extra class path (unless {@code spark.executor.extraClassPath} is set), so that a
     * worker on this machine or on one that mounts the same installation at the same path runs distill4j's classes.
     *
     * @param engine the master
     * @param appName the application name
     * @return the configuration
     */
    static SparkConf conf(String engine, String appName) {
        SparkEngine.checkMaster(engine, "--engine");
        SparkConf conf = SparkEngine.conf(engine, appName);
        if (!engine.trim().startsWith("local")) {
            conf.setIfMissing("spark.executor.extraClassPath", System.getProperty("java.class.path"));
        }
        return conf;
    }

    private static <T> T onSpark(String engine, String appName, Consumer<String> log,
            Function<JavaSparkContext, T> body) {
        JavaSparkContext sc;
        long start = System.nanoTime();
        try {
            sc = SparkEngine.start(conf(engine, appName));
            log.accept(String.format(java.util.Locale.ROOT, "Spark %s context on %s started in %.1f s",
                    sc.version(), sc.master(), (System.nanoTime() - start) / 1e9));
        } catch (LinkageError e) {
            throw new BadInputException("option --engine " + engine + ": Spark 4 (Scala 2.13) cannot start on this class"
                    + " path (" + SparkFaults.rootLine(e) + "): run ./distill4j, which adds Spark's jars, or put"
                    + " Spark 4's jars on the class path", e);
        }
        try {
            return body.apply(sc);
        } catch (BadInputException | EngineException e) {
            throw e;
        } catch (Exception e) {
            // a failed job is a SparkException, which Scala throws undeclared (it is not a RuntimeException)
            String bad = SparkFaults.badInput(e);
            if (bad != null) {
                throw new BadInputException(bad, e);
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new EngineException("the Spark job on " + engine + " failed: " + SparkFaults.oneLine(e), e);
        } catch (LinkageError e) {
            // e.g. Spark's jackson-module-scala refusing another jackson-databind at the first RDD operation
            throw new BadInputException("option --engine " + engine + ": Spark cannot run on this class path (mixed"
                    + " library versions): " + SparkFaults.rootLine(e), e);
        } finally {
            sc.stop();
        }
    }
}

package io.distill4j.spark;

import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.pipeline.RunInfo;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The command-line entry of the Spark engine, for {@code spark-submit} or a plain {@code java} launch:
 *
 * <pre>
 * sample [--master URL] [--device cpu|gpu(i)] [--no-fsync] job.yaml
 * </pre>
 *
 * <p>samples a {@code distill4j sample} job's teacher on the cluster into the job's cache ({@link SparkSampling}).
 * Without {@code --master} the master comes from {@code spark-submit} ({@code spark.master}), else
 * {@code local[*]}. A finished run is recorded in the cache's {@code runs.jsonl} as {@code distill4j sample} records
 * it ({@link SampleJob#recordRun}). Exit codes: 0 done, 2 bad input (one line naming what is wrong), 3 a cluster
 * fault or a teacher server that failed for good.
 */
public final class SparkMain {

    private SparkMain() {
    }

    /**
     * Runs the command and exits with its code.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the command.
     *
     * @param args the arguments
     * @param out told what was done
     * @param err told what went wrong, one line
     * @return the exit code
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        String usage = "usage: sample [--master URL] [--device cpu|gpu(i)] [--no-fsync] job.yaml";
        if (args.length == 0 || !args[0].equals("sample")) {
            err.println(usage);
            return 2;
        }
        String master = null;
        String device = "cpu";
        boolean fsync = true;
        List<String> files = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if ((a.equals("--master") || a.equals("--device")) && i + 1 >= args.length) {
                err.println("option " + a + ": needs a value; " + usage);
                return 2;
            }
            switch (a) {
                case "--master" -> master = args[++i];
                case "--device" -> device = args[++i];
                case "--no-fsync" -> fsync = false;
                default -> {
                    if (a.startsWith("--")) {
                        err.println("unknown option " + a + "; " + usage);
                        return 2;
                    }
                    files.add(a);
                }
            }
        }
        if (files.size() != 1) {
            err.println("expected one job file, got " + files.size() + "; " + usage);
            return 2;
        }
        JavaSparkContext sc = null;
        try {
            String m = master != null ? master : new SparkConf().get("spark.master", "local[*]");
            SparkConf conf = SparkEngine.conf(m, "distill4j sample " + files.get(0));   // checks the master first
            Path job = Path.of(files.get(0));
            SampleSpec spec = SampleSpec.load(job);
            RunInfo.recordCommandLine("distill4j-spark", args);
            RunInfo info = RunInfo.start(RunInfo.commandLine() + (master == null ? " (master " + m + ")" : ""),
                    SparkSampling.parseDevice(job, device));
            sc = SparkEngine.start(conf);
            SparkSampling.Outcome o = SparkSampling.sample(sc, job,
                    new SparkSampling.Options(device, fsync, List.of()), out::println);
            // the cache's history, as `distill4j sample` records it
            SampleJob.recordRun(o.result(), info.finish(), ConfigFile.load(job).asMap(), spec.seed());
            out.println(String.format(Locale.ROOT, "%s: %d items, k=%d, %d shards (%d sampled now, %d adopted);"
                    + " %.1f items/s", o.result().cache(), o.result().items(), o.result().k(), o.shards(), o.scheduled(),
                    o.adopted(), o.result().itemsPerSecond()));
            return 0;
        } catch (BadInputException e) {
            err.println(e.getMessage());
            return 2;
        } catch (Exception e) { // a failed job is a SparkException, thrown undeclared (not a RuntimeException)
            String bad = SparkFaults.badInput(e);
            if (bad != null) {
                err.println(bad);
                return 2;
            }
            err.println("Spark job failed: " + SparkFaults.oneLine(e));
            return 3;
        } catch (LinkageError e) {
            // e.g. Spark's jackson-module-scala refusing another jackson-databind at the first RDD operation
            err.println("Spark cannot run on this class path (mixed library versions): " + SparkFaults.rootLine(e));
            return 2;
        } finally {
            if (sc != null) {
                sc.stop();
            }
        }
    }
}

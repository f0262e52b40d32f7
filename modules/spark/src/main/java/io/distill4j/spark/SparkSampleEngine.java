package io.distill4j.spark;

import io.distill4j.pipeline.SampleEngine;
import io.distill4j.pipeline.SampleJob;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The Spark {@link SampleEngine}, registered for {@link java.util.ServiceLoader}: takes {@code local}, {@code local[N]},
 * {@code local[N,F]}, {@code spark://host:port}, {@code yarn} and {@code k8s://...}, starts a context for the job
 * ({@link SparkEngine}) and stops it after {@link SparkSampling#sample}.
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
        try (JavaSparkContext sc = SparkEngine.start(engine, "distill4j sample " + jobFile)) {
            try {
                return SparkSampling.sample(sc, jobFile, new SparkSampling.Options(device, true, List.of()), log).result();
            } catch (RuntimeException e) {
                String bad = SparkFaults.badInput(e);
                if (bad != null && !(e instanceof io.distill4j.data.BadInputException)) {
                    throw new io.distill4j.data.BadInputException(bad, e);
                }
                throw e;
            }
        }
    }
}

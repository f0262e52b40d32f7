package io.distill4j.pipeline;

import io.distill4j.data.BadInputException;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Another place to run a {@code distill4j sample} job than this JVM (a Spark cluster, ...), found with
 * {@link ServiceLoader} when its jar is on the class path, so that the pipeline and the CLI do not depend on it: an
 * entry point asked for {@code --engine X} calls {@link #find}{@code (X).sample(...)}; without {@code --engine} it
 * runs {@link SampleJob#run} as before.
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
     * The engine on the class path that takes a name.
     *
     * @param engine what the user named
     * @return the first engine that accepts it
     * @throws BadInputException naming the value when no engine on the class path takes it
     */
    static SampleEngine find(String engine) {
        for (SampleEngine e : ServiceLoader.load(SampleEngine.class)) {
            if (e.accepts(engine)) {
                return e;
            }
        }
        throw new BadInputException("option --engine: no engine on the class path runs '" + engine + "' (local[N] and"
                + " spark://host:port need the distill4j-spark_2.13 jar and Spark 4 on the class path)");
    }
}

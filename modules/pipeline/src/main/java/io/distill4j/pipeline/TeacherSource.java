package io.distill4j.pipeline;

import ai.djl.Device;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Where a run's teacher samples come from: a teacher trained and sampled for the run, a {@code distill4j sample}
 * job, or a cache made earlier. {@link Teachers} makes them; user code may implement its own.
 */
public interface TeacherSource {

    /**
     * The signal the cache holds for these data.
     *
     * @param train the training rows
     * @return {@code probabilities}, {@code logits} or {@code values}
     */
    String signal(TabularData train);

    /**
     * The draws per row a student distils when the run does not say ({@link Teachers} recipes: their
     * {@code samples(k)}); for a fixed cache, its k.
     *
     * @return k, positive
     */
    int samplesPerStudent();

    /**
     * The draws per row this source holds whatever the run asks, or 0 if it samples as many as asked.
     *
     * @return the fixed k of an existing cache or sample job, else 0
     */
    default int fixedSamples() {
        return 0;
    }

    /**
     * Makes, resumes or checks the cache: {@code samples} draws for every training row, in row order.
     *
     * @param data the run's data (the teacher is trained on its training part)
     * @param samples draws per row
     * @param cacheDir where the cache goes (ignored by sources that name their own)
     * @param device where the teacher runs
     * @param log told one line per stage
     * @return the complete cache
     */
    TeacherCache fill(TabularData.Split data, int samples, Path cacheDir, Device device, Consumer<String> log);

    /** @return a one-line description for logs and model cards */
    String describe();
}

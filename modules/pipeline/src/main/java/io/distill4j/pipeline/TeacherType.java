package io.distill4j.pipeline;

import ai.djl.Device;
import io.distill4j.data.TabularData;
import io.distill4j.teacher.Teacher;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * A tabular teacher that user code adds by name, so that a {@code distill4j sample} job (and through it a
 * {@code distill4j train} job) can say {@code teacher: {type: my-teacher, ...}}. Register it with
 * {@link Teachers#register}; the job's {@code teacher:} section, less {@code type}, is bound strictly to
 * {@link #settings()} (a record: its components are the keys, relative paths are taken from the job file's folder).
 *
 * <pre>{@code
 * record NoisyRule(double noise) { }
 * Teachers.register("noisy-rule", new TeacherType<NoisyRule>() {
 *     public Class<NoisyRule> settings() { return NoisyRule.class; }
 *     public Teacher create(NoisyRule s, Context c) { return new MyTeacher(s.noise(), c.k(), c.seed(), ...); }
 * });
 * }</pre>
 *
 * @param <S> the settings record
 */
public interface TeacherType<S> {

    /** @return the record the job's {@code teacher:} section (without {@code type}) is bound to */
    Class<S> settings();

    /**
     * Builds the teacher for a job. A teacher that holds resources may implement {@link AutoCloseable}: it is
     * closed when the cache is filled.
     *
     * @param settings the bound settings
     * @param context the job's data, k, seed and device
     * @return a teacher whose {@link Teacher#k()} is {@code context.k()} and whose width fits the data
     */
    Teacher create(S settings, Context context);

    /**
     * The signal the teacher's cache holds, known before it is built (so that a run can refuse a loss that does not
     * fit it before any work).
     *
     * @param settings the bound settings
     * @param classification whether the data are a classification
     * @return {@code probabilities} (the default for classification), {@code logits} or {@code values}
     */
    default String signal(S settings, boolean classification) {
        return classification ? "probabilities" : "values";
    }

    /**
     * What a teacher is built from.
     *
     * @param train the training rows (fit the teacher to them if it learns)
     * @param k samples per input the cache must hold
     * @param seed the job's sampling seed
     * @param device where the teacher should run
     * @param dir a folder beside the cache the teacher may keep files in (trained weights), not yet created
     * @param log told one line per stage
     */
    record Context(TabularData train, int k, long seed, Device device, Path dir, Consumer<String> log) {
        /** @return the classes (classification) or 1 (regression): the width of each sample */
        public int width() {
            return train.isClassification() ? train.numClasses() : 1;
        }
    }
}

package io.distill4j.teacher;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;

/**
 * A classification or regression teacher that draws k samples per input.
 *
 * <p>{@link TeacherSampler} runs a teacher over a feature matrix batch by batch and writes its samples to a
 * teacher-output cache. Implementations must be reproducible: the samples of a batch depend only on the
 * teacher's settings (seed included), the batch's inputs and {@code firstItem}, so that a resumed run
 * writes the samples an uninterrupted one would.
 */
public interface Teacher {

    /** @return the cache task: {@code classification} or {@code regression} */
    default String task() {
        return output().task();
    }

    /** @return what each sample holds and how raw outputs become it */
    TeacherOutput output();

    /** @return samples per input, positive */
    int k();

    /** @return classes C or outputs D per sample */
    int width();

    /** @return the device the teacher's parameters live on; inputs are created there */
    Device device();

    /**
     * The teacher's provenance, recorded in the cache manifest and compared when a cache is resumed.
     *
     * @return name, architecture, seed, temperature and other settings; JSON-serialisable values only
     */
    Map<String, Object> provenance();

    /**
     * Draws k samples for a batch of inputs.
     *
     * @param manager the manager the result (and any intermediate array) belongs to
     * @param x inputs, shape (B, D), on {@link #device()}
     * @param firstItem the dataset index of {@code x}'s first row (for reproducible seeding)
     * @return samples, shape (B, k, width), float32
     */
    NDArray sample(NDManager manager, NDArray x, long firstItem);
}

package io.distill4j.teacher;

/**
 * Receives a batch's samples piece by piece, in item-major order: the batch's first item's k samples, then the
 * next item's, each sample {@code width} values. A piece may end inside an item; the next piece continues it.
 */
@FunctionalInterface
public interface SampleSink {

    /**
     * Takes the next samples.
     *
     * @param values the values; valid only during the call (the teacher reuses the array)
     * @param offset the index of the first value
     * @param samples how many samples follow, {@code samples * width} values
     */
    void accept(float[] values, int offset, int samples);
}

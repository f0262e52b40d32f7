package io.distill4j.teacher;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.Rows;
import java.util.Arrays;
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

    /**
     * The least working memory that sampling a batch needs: for a teacher that samples in chunks
     * ({@link #sample(NDManager, float[][], int, int, long, SampleSink)} overridden), one chunk's; for the others the
     * whole batch's inputs and its (B, k, width) samples, as {@link #unchunkedBytes} estimates.
     *
     * @param batchSize inputs per batch
     * @param inputWidth values per input
     * @return bytes, an estimate
     */
    default long minimumWorkingBytes(int batchSize, int inputWidth) {
        return unchunkedBytes(batchSize, inputWidth, k(), width());
    }

    /**
     * Draws the k samples of a batch of inputs and hands them to {@code sink}, within a memory budget where the
     * teacher can split the work. This default samples the whole batch at once with
     * {@link #sample(NDManager, NDArray, long)} and hands it over in one piece ({@link #minimumWorkingBytes}).
     *
     * @param manager the manager every intermediate array belongs to
     * @param features the inputs (the whole table)
     * @param start the batch's first row: its dataset index, as {@code firstItem}
     * @param end one past the batch's last row
     * @param workingBytes the working memory the teacher may use, a hint
     * @param sink takes the samples, item-major, {@code (end - start) * k} in all
     * @throws IllegalStateException if the teacher returns a wrong shape
     */
    default void sample(NDManager manager, float[][] features, int start, int end, long workingBytes, SampleSink sink) {
        int b = end - start;
        int d = features[start].length;
        try (NDManager sub = manager.newSubManager()) {
            NDArray x = sub.create(Rows.flatten(Arrays.copyOfRange(features, start, end)), new Shape(b, d));
            NDArray out = sample(sub, x, start);
            Shape want = new Shape(b, k(), width());
            if (!out.getShape().equals(want)) {
                throw new IllegalStateException(provenance().get("name") + ": sample returned shape " + out.getShape()
                        + ", expected " + want);
            }
            float[] values = out.getDataType() == DataType.FLOAT32 ? out.toFloatArray()
                    : out.toType(DataType.FLOAT32, false).toFloatArray();
            sink.accept(values, 0, b * k());
        }
    }

    /**
     * Draws the k samples of items {@code from} to {@code to} of a batch {@code [start, end)}: exactly the samples
     * {@link #sample(NDManager, float[][], int, int, long, SampleSink)} gives those items when it samples the whole
     * batch, since a batch is the unit of seeding. A distributed engine whose shard cuts a batch calls this for its part.
     * This default samples the whole batch and drops the samples of the other items; a teacher that can draw part of
     * a batch's random stream ({@link McDropoutTeacher}) samples only the items asked for.
     *
     * @param manager the manager every intermediate array belongs to
     * @param features the inputs (the whole table)
     * @param start the batch's first row: its dataset index, as {@code firstItem}
     * @param end one past the batch's last row
     * @param from the first item wanted, {@code start <= from}
     * @param to one past the last item wanted, {@code from < to <= end}
     * @param workingBytes the working memory the teacher may use, a hint
     * @param sink takes the samples of the wanted items, item-major, {@code (to - from) * k} in all
     * @throws IllegalArgumentException if the range is not inside the batch
     */
    default void sampleRange(NDManager manager, float[][] features, int start, int end, int from, int to,
            long workingBytes, SampleSink sink) {
        checkRange(start, end, from, to);
        if (from == start && to == end) {
            sample(manager, features, start, end, workingBytes, sink);
            return;
        }
        int k = k();
        int width = width();
        long[] skip = {(long) (from - start) * k};
        long[] keep = {(long) (to - from) * k};
        sample(manager, features, start, end, workingBytes, (values, offset, samples) -> {
            int drop = (int) Math.min(samples, skip[0]);
            skip[0] -= drop;
            int take = (int) Math.min(samples - drop, keep[0]);
            keep[0] -= take;
            if (take > 0) {
                sink.accept(values, offset + drop * width, take);
            }
        });
    }

    /**
     * Checks that {@code [from, to)} is a non-empty part of the batch {@code [start, end)}.
     *
     * @param start the batch's first row
     * @param end one past the batch's last row
     * @param from the first item wanted
     * @param to one past the last item wanted
     * @throws IllegalArgumentException if it is not
     */
    static void checkRange(int start, int end, int from, int to) {
        if (start < 0 || start > from || from >= to || to > end) {
            throw new IllegalArgumentException("items [" + from + ", " + to + ") are not a non-empty part of the batch ["
                    + start + ", " + end + ")");
        }
    }

    /**
     * Estimates the memory of sampling a batch at once: its inputs, and its (B, k, width) samples three times (the
     * teacher's result, a float32 copy and the Java array), 4 bytes a value.
     *
     * @param batchSize inputs per batch
     * @param inputWidth values per input
     * @param k samples per input
     * @param width values per sample
     * @return bytes
     */
    static long unchunkedBytes(int batchSize, int inputWidth, int k, int width) {
        return 4L * batchSize * (inputWidth + 3L * k * width);
    }
}

package io.distill4j.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;

/**
 * NDArrays filled in place, in memory the engine owns.
 *
 * <p>{@code NDManager.create(float[])} and its kin copy the values into a fresh Java direct buffer that they lend to
 * libtorch; such buffers are freed only when the garbage collector finds them, which in a loop that makes many arrays and
 * little heap garbage can be never before {@code -XX:MaxDirectMemorySize} (by default the heap's maximum) is reached: a
 * sampler with a 128 MiB working budget grew to 4 GB resident that way. On the CPU, {@link #create} instead makes an
 * empty tensor and writes into a direct view of its memory, which closing the array frees at once.
 */
public final class NativeArrays {

    private NativeArrays() {
    }

    /**
     * Creates an array and fills it.
     *
     * @param manager the array's manager
     * @param shape its shape
     * @param type its data type
     * @param fill writes the values, in native byte order, from position 0 (absolute or relative puts)
     * @return the array
     */
    public static NDArray create(NDManager manager, Shape shape, DataType type, Consumer<ByteBuffer> fill) {
        long bytes = shape.size() * type.getNumOfBytes();
        if (!manager.getDevice().isGpu()) {
            NDArray a = manager.create(shape, type);
            ByteBuffer view = a.toByteBuffer(true);
            if (view.isDirect() && view.capacity() == bytes) {
                fill.accept(view.order(ByteOrder.nativeOrder()));
                return a;
            }
            a.close();
        }
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
        fill.accept(buf);
        buf.rewind();
        return manager.create(buf, shape, type);
    }

    /**
     * Creates a float32 array from rows of a table.
     *
     * @param manager the array's manager
     * @param rows the table
     * @param from the first row
     * @param to one past the last row
     * @return the (to - from, width) array
     */
    public static NDArray rows(NDManager manager, float[][] rows, int from, int to) {
        int d = rows[from].length;
        return create(manager, new Shape(to - from, d), DataType.FLOAT32, b -> {
            var f = b.asFloatBuffer();
            for (int i = from; i < to; i++) {
                f.put(rows[i]);
            }
        });
    }
}

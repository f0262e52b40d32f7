package io.distill4j.trainer;


import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.TabularData;
import java.util.Arrays;

/**
 * Feature rows in shuffled micro-batches: epoch e of seed s visits the rows in the order
 * {@code TabularData.permutation(n, s * 1_000_003 + e)}; the last batch of an epoch may be smaller.
 * The labels of each batch come from a {@link BatchTargets}.
 */
public final class TabularBatchSource implements BatchSource, AutoCloseable {

    private final NDManager manager;
    private final NDArray features;
    private final int rows;
    private final int width;
    private final int batchSize;
    private final BatchTargets targets;
    private long cachedKey = Long.MIN_VALUE;
    private int[] cachedOrder;

    /**
     * Copies the rows to the device.
     *
     * @param features n rows of width D, n at least 1
     * @param targets builds each batch's labels
     * @param batchSize rows per micro-batch, positive
     * @param device where the rows live (the training device)
     */
    public TabularBatchSource(float[][] features, BatchTargets targets, int batchSize, Device device) {
        if (features.length == 0) {
            throw new IllegalArgumentException("features must hold at least one row");
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        this.rows = features.length;
        this.width = features[0].length;
        this.batchSize = batchSize;
        this.targets = targets;
        this.manager = NDManager.newBaseManager(device);
        // written straight into the engine's tensor: no flat float[] copy on the heap and no direct buffer that only a
        // GC frees (each as large as the table: 188 MB for MNIST's 60,000 x 784)
        this.features = io.distill4j.data.NativeArrays.rows(manager, features, 0, rows);
    }

    /** @return the number of rows */
    public int rows() {
        return rows;
    }

    /** @return the width D of a row */
    public int width() {
        return width;
    }

    @Override
    public Shape[] inputShapes() {
        return new Shape[] {new Shape(Math.min(batchSize, rows), width)};
    }

    @Override
    public int batchesPerEpoch() {
        return (rows + batchSize - 1) / batchSize;
    }

    /**
     * The rows of one micro-batch, in batch order.
     *
     * @param seed the run's seed
     * @param epoch the epoch
     * @param index the micro-batch
     * @return the row indices
     */
    public synchronized int[] rowsOf(long seed, int epoch, int index) {
        if (index < 0 || index >= batchesPerEpoch()) {
            throw new IllegalArgumentException("batch index " + index + " outside [0, " + batchesPerEpoch() + ")");
        }
        long key = seed * 1_000_003L + epoch;
        if (cachedOrder == null || key != cachedKey) {
            cachedOrder = TabularData.permutation(rows, key);
            cachedKey = key;
        }
        int start = index * batchSize;
        return Arrays.copyOfRange(cachedOrder, start, Math.min(rows, start + batchSize));
    }

    @Override
    public MicroBatch batch(NDManager m, long seed, int epoch, int index, StudentProbe student) {
        int[] r = rowsOf(seed, epoch, index);
        NDArray x = features.get(m.create(r));
        x.attach(m);
        NDList labels = targets.labels(m, r, x, student);
        return new MicroBatch(new NDList(x), labels, r.length);
    }

    /** Frees the rows. */
    @Override
    public void close() {
        manager.close();
    }
}

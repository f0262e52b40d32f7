package io.distill4j.data.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.BatchSampler;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.training.dataset.SequenceSampler;
import ai.djl.translate.Batchifier;
import ai.djl.util.Progress;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.DenseCacheReader;
import io.distill4j.data.TeacherCache;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * A DJL dataset over a classification or regression cache.
 *
 * <p>Data: {@code [x]}, the item's input features (B, D) float32. Labels: {@code [y, teacher...]} where
 * {@code y} is the ground truth when one was given (class labels (B) int32, or regression targets (B)
 * float32) and the teacher signal follows: {@link TeacherSignal#ALL_SAMPLES} gives the samples
 * (B, k, C); {@link TeacherSignal#MEAN_VARIANCE} gives the mean (B, C) and the variance (B, C) with the
 * chosen ddof. Without ground truth the teacher signal starts at index 0 ({@link #teacherIndex()}).
 *
 * <p>{@link #getData(NDManager)} builds each batch with one copy from the memory-mapped shards into a
 * direct buffer (no per-item arrays), on a sub-manager that {@code Batch.close()} frees: heap use does not
 * grow with the cache's size. Shuffling with {@link Builder#optShuffle(int, long)} is reproducible by
 * seed ({@link SeededSampler}).
 */
public final class CacheDataset extends RandomAccessDataset {

    private final DenseCacheReader reader;
    private final InputSource inputs;
    private final int[] classLabels;
    private final float[] targets;
    private final TeacherSignal signal;
    private final int ddof;
    private final int k;
    private final int width;

    private CacheDataset(Builder b) {
        super(b);
        this.reader = b.cache.dense(b.verifyRows);
        this.inputs = b.inputs;
        this.classLabels = b.classLabels;
        this.targets = b.targets;
        this.signal = b.signal;
        this.ddof = b.ddof;
        this.k = reader.k();
        this.width = reader.width();
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the index of the first teacher array in a batch's labels: 1 with ground truth, else 0 */
    public int teacherIndex() {
        return classLabels != null || targets != null ? 1 : 0;
    }

    @Override
    protected long availableSize() {
        return reader.items();
    }

    @Override
    public void prepare(Progress progress) {
        // Nothing to download or extract: the shards are mapped on demand.
    }

    @Override
    public Record get(NDManager manager, long index) {
        NDList[] dl = build(manager, new long[] {index});
        NDList data = new NDList();
        NDList labels = new NDList();
        for (NDArray a : dl[0]) {
            data.add(a.squeeze(0));
        }
        for (NDArray a : dl[1]) {
            labels.add(a.squeeze(0));
        }
        return new Record(data, labels);
    }

    /**
     * Builds the arrays of one batch.
     *
     * @param manager the manager of the arrays
     * @param items the items, in batch order
     * @return {data, labels}
     */
    public NDList[] build(NDManager manager, long[] items) {
        int b = items.length;
        NDList data = new NDList();
        if (inputs != null) {
            ByteBuffer xb = manager.allocateDirect(b * inputs.width() * 4).order(ByteOrder.nativeOrder());
            FloatBuffer xf = xb.asFloatBuffer();
            for (long it : items) {
                inputs.put(it, xf);
            }
            data.add(manager.create(xb, new Shape(b, inputs.width()), DataType.FLOAT32));
        }
        NDList labels = new NDList();
        if (classLabels != null) {
            int[] y = new int[b];
            for (int i = 0; i < b; i++) {
                y[i] = classLabels[(int) items[i]];
            }
            labels.add(manager.create(y));
        } else if (targets != null) {
            float[] y = new float[b];
            for (int i = 0; i < b; i++) {
                y[i] = targets[(int) items[i]];
            }
            labels.add(manager.create(y));
        }
        NDArray samples = contiguous(items) ? reader.range(manager, items[0], b) : reader.gather(manager, items);
        if (signal == TeacherSignal.ALL_SAMPLES) {
            labels.add(samples);
        } else {
            NDArray mean = samples.mean(new int[] {1});
            NDArray var = samples.sub(mean.expandDims(1)).square().sum(new int[] {1}).div(k - ddof);
            samples.close();
            labels.add(mean);
            labels.add(var);
        }
        return new NDList[] {data, labels};
    }

    private static boolean contiguous(long[] items) {
        for (int i = 1; i < items.length; i++) {
            if (items[i] != items[i - 1] + 1) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Iterable<Batch> getData(NDManager manager) {
        return getData(manager, sampler);
    }

    @Override
    public Iterable<Batch> getData(NDManager manager, ai.djl.training.dataset.Sampler batchSampler) {
        return () -> new Iterator<>() {
            private final Iterator<List<Long>> it = batchSampler.sample(CacheDataset.this);
            private long progress;

            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                List<Long> idx = it.next();
                long[] items = new long[idx.size()];
                for (int i = 0; i < items.length; i++) {
                    items[i] = idx.get(i);
                }
                NDManager sub = manager.newSubManager();
                NDList[] dl = build(sub, items);
                progress += items.length;
                return new Batch(sub, dl[0], dl[1], items.length, Batchifier.STACK, Batchifier.STACK, progress,
                        size());
            }
        };
    }

    /** Builds a {@link CacheDataset}. */
    public static final class Builder extends BaseBuilder<Builder> {
        private TeacherCache cache;
        private InputSource inputs;
        private int[] classLabels;
        private float[] targets;
        private TeacherSignal signal = TeacherSignal.ALL_SAMPLES;
        private int ddof = 1;
        private boolean verifyRows;

        Builder() {
        }

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the cache (required).
         *
         * @param cache a classification or regression cache
         * @return this builder
         */
        public Builder setCache(TeacherCache cache) {
            this.cache = cache;
            return this;
        }

        /**
         * Sets the student's inputs; without them the data list is empty.
         *
         * @param inputs the features of each item
         * @return this builder
         */
        public Builder optInputs(InputSource inputs) {
            this.inputs = inputs;
            return this;
        }

        /**
         * Sets ground-truth class labels, one per item, placed first in the labels list.
         *
         * @param labels the labels
         * @return this builder
         */
        public Builder optClassLabels(int[] labels) {
            this.classLabels = labels.clone();
            return this;
        }

        /**
         * Sets ground-truth regression targets (one output per item), placed first in the labels list.
         *
         * @param targets the targets
         * @return this builder
         */
        public Builder optTargets(float[] targets) {
            this.targets = targets.clone();
            return this;
        }

        /**
         * Chooses the teacher signal; default {@link TeacherSignal#ALL_SAMPLES}.
         *
         * @param signal all samples or mean and variance
         * @return this builder
         */
        public Builder optTeacherSignal(TeacherSignal signal) {
            this.signal = Objects.requireNonNull(signal, "signal");
            return this;
        }

        /**
         * Sets the ddof of the variance in {@link TeacherSignal#MEAN_VARIANCE} mode; default 1.
         *
         * @param ddof 0 (divide by k) or 1 (divide by k-1)
         * @return this builder
         */
        public Builder optDdof(int ddof) {
            this.ddof = ddof;
            return this;
        }

        /**
         * Checks each row's stored item index and CRC-32 as it is read (slower); default off.
         *
         * @param on whether to check
         * @return this builder
         */
        public Builder optVerifyRows(boolean on) {
            this.verifyRows = on;
            return this;
        }

        /**
         * Samples batches in a reproducible random order.
         *
         * @param batchSize the batch size
         * @param seed the seed of the shuffle (see {@link SeededSampler})
         * @return this builder
         */
        public Builder optShuffle(int batchSize, long seed) {
            return setSampling(new BatchSampler(new SeededSampler(seed), batchSize, false));
        }

        /**
         * Validates and builds the dataset.
         *
         * @return the dataset
         * @throws IllegalArgumentException naming the setting at fault
         */
        public CacheDataset build() {
            if (cache == null) {
                throw new IllegalArgumentException("setCache: a cache is required");
            }
            CacheManifest m = cache.manifest();
            if (m.sequenceTask()) {
                throw new IllegalArgumentException("setCache: " + cache.dir() + " is a sequence cache; CacheDataset "
                        + "serves classification and regression caches");
            }
            if (ddof != 0 && ddof != 1) {
                throw new IllegalArgumentException("optDdof: must be 0 or 1, got " + ddof);
            }
            if (signal == TeacherSignal.MEAN_VARIANCE && m.k() - ddof <= 0) {
                throw new IllegalArgumentException("optDdof: variance with ddof=" + ddof + " needs k > " + ddof
                        + ", the cache has k=" + m.k());
            }
            if (classLabels != null && targets != null) {
                throw new IllegalArgumentException("optClassLabels and optTargets: give at most one");
            }
            long n = m.items();
            if (classLabels != null && classLabels.length != n) {
                throw new IllegalArgumentException("optClassLabels: " + classLabels.length + " labels for " + n + " items");
            }
            if (targets != null && targets.length != n) {
                throw new IllegalArgumentException("optTargets: " + targets.length + " targets for " + n + " items");
            }
            if (sampler == null) {
                sampler = new BatchSampler(new SequenceSampler(), 32, false);
            }
            return new CacheDataset(this);
        }
    }
}

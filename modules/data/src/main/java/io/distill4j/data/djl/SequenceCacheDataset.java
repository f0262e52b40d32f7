package io.distill4j.data.djl;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.BatchSampler;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.training.dataset.Sampler;
import ai.djl.training.dataset.SequenceSampler;
import ai.djl.translate.Batchifier;
import ai.djl.util.Progress;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * A DJL dataset over a sequence cache: one record per response (item i, sample j is record {@code i*k + j}).
 *
 * <p>Data: {@code [ids]}, (B, L) int64: the prompt followed by the response, cut at L = maxLength and padded
 * with 0. Labels: {@code [topIds (B, L, K) int64, topLogprobs (B, L, K) float32, tailLogMass (B, L)
 * float32, mask (B, L) float32]}, aligned with the student's next-token logits: index
 * {@code P + t - 1} (P the prompt length) holds the teacher's distribution of response token t, and the
 * mask is 1 exactly there (a response's first token has no slot when the prompt is empty).
 *
 * <p>One decompressed shard is held at a time, so heap use does not grow with the cache. The shuffle of
 * {@link Builder#optShuffle(int, long)} is shard-blocked and reproducible by seed: epoch e visits the
 * shards in a seeded random order and the responses within each shard in a seeded random order.
 */
public final class SequenceCacheDataset extends RandomAccessDataset {

    private final TeacherCache cache;
    private final SequenceCacheReader reader;
    private final int k;
    private final int topK;
    private final int maxLength;

    private SequenceCacheDataset(Builder b) {
        super(b);
        this.cache = b.cache;
        this.reader = b.cache.sequence();
        this.k = b.cache.manifest().k();
        this.topK = b.cache.manifest().sequence().topK();
        this.maxLength = b.maxLength;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected long availableSize() {
        return cache.manifest().items() * k;
    }

    @Override
    public void prepare(Progress progress) {
        // The shards are read on demand.
    }

    @Override
    public Record get(NDManager manager, long index) {
        NDList[] dl = build(manager, new long[] {index});
        NDList data = new NDList(dl[0].get(0).squeeze(0));
        NDList labels = new NDList();
        dl[1].forEach(a -> labels.add(a.squeeze(0)));
        return new Record(data, labels);
    }

    /**
     * Builds the arrays of a batch of responses.
     *
     * @param manager the manager of the arrays
     * @param records response indices (item * k + sample)
     * @return {data, labels}
     */
    public NDList[] build(NDManager manager, long[] records) {
        int b = records.length;
        int len = maxLength;
        long[] ids = new long[b * len];
        long[] topIds = new long[b * len * topK];
        float[] topLp = new float[b * len * topK];
        float[] tail = new float[b * len];
        float[] mask = new float[b * len];
        SequenceItem cached = null;
        for (int r = 0; r < b; r++) {
            long item = records[r] / k;
            int j = (int) (records[r] % k);
            if (cached == null || cached.item() != item) {
                cached = reader.read(item);
            }
            int[] prompt = cached.prompt();
            SequenceSample s = cached.samples().get(j);
            int p = Math.min(prompt.length, len);
            for (int i = 0; i < p; i++) {
                ids[r * len + i] = prompt[i];
            }
            for (int t = 0; t < s.length() && prompt.length + t < len; t++) {
                ids[r * len + prompt.length + t] = s.tokens()[t];
            }
            for (int t = 0; t < s.length(); t++) {
                int slot = prompt.length + t - 1;
                if (slot < 0) {
                    continue;
                }
                if (slot >= len) {
                    break;
                }
                int o = r * len + slot;
                mask[o] = 1;
                tail[o] = s.tailLogMass()[t];
                for (int q = 0; q < topK; q++) {
                    topIds[o * topK + q] = s.topIds()[t * topK + q];
                    topLp[o * topK + q] = s.topLogprobs()[t * topK + q];
                }
            }
        }
        NDList data = new NDList(manager.create(ids, new Shape(b, len)));
        NDList labels = new NDList(manager.create(topIds, new Shape(b, len, topK)),
                manager.create(topLp, new Shape(b, len, topK)), manager.create(tail, new Shape(b, len)),
                manager.create(mask, new Shape(b, len)));
        return new NDList[] {data, labels};
    }

    @Override
    public Iterable<Batch> getData(NDManager manager) {
        return getData(manager, sampler);
    }

    @Override
    public Iterable<Batch> getData(NDManager manager, Sampler batchSampler) {
        return () -> new Iterator<>() {
            private final Iterator<List<Long>> it = batchSampler.sample(SequenceCacheDataset.this);
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
                long[] rec = idx.stream().mapToLong(Long::longValue).toArray();
                NDManager sub = manager.newSubManager();
                NDList[] dl = build(sub, rec);
                progress += rec.length;
                return new Batch(sub, dl[0], dl[1], rec.length, Batchifier.STACK, Batchifier.STACK, progress, size());
            }
        };
    }

    /** Shard-blocked seeded shuffle over responses. */
    static final class ShardShuffle implements Sampler.SubSampler {
        private final CacheManifest manifest;
        private final long seed;
        private long epoch;

        ShardShuffle(CacheManifest manifest, long seed) {
            this.manifest = manifest;
            this.seed = seed;
        }

        @Override
        public synchronized Iterator<Long> sample(RandomAccessDataset dataset) {
            SplittableRandom r = new SplittableRandom(seed + epoch++);
            int n = manifest.shards().size();
            long[] shardOrder = SeededSampler.permutation(n, r.nextLong(), 0);
            List<Long> out = new ArrayList<>();
            int k = manifest.k();
            long limit = dataset.size();
            for (long s : shardOrder) {
                CacheManifest.Shard sh = manifest.shards().get((int) s);
                int rows = Math.toIntExact(sh.rows() * k);
                for (long q : SeededSampler.permutation(rows, r.nextLong(), 0)) {
                    long rec = sh.firstItem() * k + q;
                    if (rec < limit) {
                        out.add(rec);
                    }
                }
            }
            return out.iterator();
        }
    }

    /** Builds a {@link SequenceCacheDataset}. */
    public static final class Builder extends BaseBuilder<Builder> {
        private TeacherCache cache;
        private int maxLength;

        Builder() {
        }

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the sequence cache (required).
         *
         * @param cache the cache
         * @return this builder
         */
        public Builder setCache(TeacherCache cache) {
            this.cache = cache;
            return this;
        }

        /**
         * Sets the length L of every row, prompt and response together (required).
         *
         * @param maxLength positive
         * @return this builder
         */
        public Builder setMaxLength(int maxLength) {
            this.maxLength = maxLength;
            return this;
        }

        /**
         * Samples batches in a shard-blocked random order reproducible by seed.
         *
         * @param batchSize the batch size
         * @param seed the seed
         * @return this builder
         */
        public Builder optShuffle(int batchSize, long seed) {
            if (cache == null) {
                throw new IllegalArgumentException("optShuffle: call setCache first");
            }
            return setSampling(new BatchSampler(new ShardShuffle(cache.manifest(), seed), batchSize, false));
        }

        /**
         * Validates and builds the dataset.
         *
         * @return the dataset
         */
        public SequenceCacheDataset build() {
            if (cache == null) {
                throw new IllegalArgumentException("setCache: a sequence cache is required");
            }
            if (!cache.manifest().sequenceTask()) {
                throw new IllegalArgumentException("setCache: " + cache.dir() + " is a " + cache.manifest().task()
                        + " cache; use CacheDataset");
            }
            if (maxLength <= 0) {
                throw new IllegalArgumentException("setMaxLength: must be positive, got " + maxLength);
            }
            if (sampler == null) {
                sampler = new BatchSampler(new SequenceSampler(), 8, false);
            }
            return new SequenceCacheDataset(this);
        }
    }
}

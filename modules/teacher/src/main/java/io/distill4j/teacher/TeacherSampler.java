package io.distill4j.teacher;

import ai.djl.ndarray.NDManager;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.Sha256;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.TeacherCacheWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Runs a {@link Teacher} over a feature matrix and writes k samples per input to a teacher-output cache.
 *
 * <p>Batches are aligned to multiples of the batch size from item 0, and each batch is sampled from its
 * first item's index, so samples do not depend on where a run was interrupted: a resumed run regenerates
 * the batch it stopped in and keeps only the items the cache lacks. Resuming checks that the cache was
 * written by the same teacher (its provenance, the batch size included) from the same inputs.
 */
public final class TeacherSampler {

    private TeacherSampler() {
    }

    /** The default memory budget of a sampling run, 256 MiB. */
    public static final long DEFAULT_MEMORY_BUDGET = 256L << 20;

    /**
     * Sampling settings.
     *
     * <p>The memory budget bounds the sampler's buffers: the teacher works in chunks of at most half of it (a teacher
     * that cannot chunk, only {@link McDropoutTeacher} can, needs its whole batch to fit there; an MC-dropout
     * teacher's chunks stay within 1 MiB when half the budget would allow more, {@link McDropoutTeacher#chunkRows}),
     * and each of the cache writer's two shard buffers holds at most a quarter (fewer items per shard than {@code rowsPerShard} when one
     * shard of k samples would not fit). Chunking and shard size leave the samples unchanged. The budget excludes the
     * input table, the model, the JVM and the engine themselves.
     *
     * @param batchSize inputs per teacher call, positive (the unit of seeding: samples depend on it)
     * @param rowsPerShard items per committed cache shard, positive (at most; see above)
     * @param memoryBudget the sampler's buffers, in bytes, at least 1 MiB
     */
    public record Options(int batchSize, int rowsPerShard, long memoryBudget) {

        /** Validates the counts. */
        public Options {
            if (batchSize <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
            }
            if (rowsPerShard <= 0) {
                throw new IllegalArgumentException("rowsPerShard must be positive, got " + rowsPerShard);
            }
            if (memoryBudget < (1L << 20)) {
                throw new IllegalArgumentException("memoryBudget must be at least 1 MiB, got " + memoryBudget + " bytes");
            }
        }

        /**
         * Settings with the {@link #DEFAULT_MEMORY_BUDGET}.
         *
         * @param batchSize inputs per teacher call, positive
         * @param rowsPerShard items per committed cache shard, positive
         */
        public Options(int batchSize, int rowsPerShard) {
            this(batchSize, rowsPerShard, DEFAULT_MEMORY_BUDGET);
        }

        /** @return batches of 512 inputs, shards of 8192 items, the default budget */
        public static Options defaults() {
            return new Options(512, 8192);
        }

        /** @return the teacher's working memory: half the budget */
        public long workingBytes() {
            return memoryBudget / 2;
        }

        /**
         * The items per shard actually written: {@code rowsPerShard}, or fewer so that one shard's k x width float32
         * values fit a quarter of the budget (at least one item).
         *
         * @param k samples per item
         * @param width values per sample
         * @return items per shard
         */
        public int shardRows(int k, int width) {
            long item = 4L * k * width;
            return (int) Math.max(1, Math.min(rowsPerShard, memoryBudget / 4 / item));
        }

        /**
         * Says why these settings cannot sample within the budget, before any work: {@code null} when they can, else
         * the field at fault and why, as {@code "batchSize: ..."} or {@code "memoryBudget: ..."}.
         *
         * @param minimumWorkingBytes the teacher's {@link Teacher#minimumWorkingBytes} for this batch size
         * @param k samples per item
         * @param width values per sample
         * @return the refusal, or null
         */
        public String refusal(long minimumWorkingBytes, int k, int width) {
            long item = 4L * k * width;
            if (item > memoryBudget / 4) {
                return String.format(Locale.ROOT, "memoryBudget: one item's k=%d x %d float32 samples take %s, over a"
                        + " quarter of the budget %s (a shard buffer); raise it to at least %s", k, width, mib(item),
                        mib(memoryBudget), mib(4 * item));
            }
            if (minimumWorkingBytes > workingBytes()) {
                long perInput = Math.max(1, minimumWorkingBytes / batchSize);
                long fits = workingBytes() / perInput;
                return fits >= 1
                        ? String.format(Locale.ROOT, "batchSize: %d inputs x k=%d samples need about %s at once (this"
                                + " teacher cannot split a batch), over half the budget %s; use batchSize %d or less, or a"
                                + " larger budget", batchSize, k, mib(minimumWorkingBytes), mib(memoryBudget), fits)
                        : String.format(Locale.ROOT, "memoryBudget: the teacher needs about %s for its smallest piece of"
                                + " work, over half the budget %s; raise it to at least %s", mib(minimumWorkingBytes),
                                mib(memoryBudget), mib(2 * minimumWorkingBytes));
            }
            return null;
        }

        private static String mib(long bytes) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
        }
    }

    /**
     * Fills (or resumes) a cache with the teacher's samples of every input row.
     *
     * @param teacher the teacher
     * @param features the inputs, n rows of equal width
     * @param cacheDir the cache directory, created when missing
     * @param options batch and shard sizes
     * @param progress told the number of items done after each batch
     * @return the cache, opened for reading
     * @throws BadInputException if the directory holds a cache of another teacher, task, k, width or dataset
     * @throws BadInputException before any work if the options cannot sample within their budget
     *     ({@link Options#refusal}, naming the setting)
     */
    public static TeacherCache fill(Teacher teacher, float[][] features, Path cacheDir, Options options,
            SampleProgress progress) {
        Objects.requireNonNull(teacher, "teacher");
        int n = features.length;
        if (n == 0) {
            throw new IllegalArgumentException("features must hold at least one row");
        }
        int d = features[0].length;
        for (int i = 0; i < n; i++) {
            if (features[i].length != d) {
                throw new IllegalArgumentException("features row " + i + " has width " + features[i].length
                        + ", row 0 has " + d);
            }
        }
        int k = teacher.k();
        int width = teacher.width();
        int bs = options.batchSize();
        String refusal = options.refusal(teacher.minimumWorkingBytes(Math.min(bs, n), d), k, width);
        if (refusal != null) {
            throw new BadInputException(refusal);
        }
        Map<String, Object> provenance = provenance(teacher, bs);
        String fingerprint = Sha256.fingerprint(features);
        TeacherCache complete = complete(cacheDir, teacher, k, width, fingerprint, n);
        if (complete != null) {
            // nothing to sample: no writer (its two shard buffers would be allocated for nothing)
            Provenance.requireSame(cacheDir, complete.manifest().teacher(), provenance);
            progress.update(n, n);
            return complete;
        }
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(cacheDir, teacher.task(), k, width,
                teacher.output().signal(), provenance, fingerprint, options.shardRows(k, width))) {
            Provenance.requireSame(cacheDir, w.manifest().teacher(), provenance);
            long next = w.nextItem();
            if (next > n) {
                throw new BadInputException(cacheDir.resolve(CacheManifest.FILE_NAME) + ": field items: cache holds "
                        + next + " items but the dataset has " + n);
            }
            progress.update(next, n);
            append(teacher, features, next, n, bs, options.workingBytes(), w, (done, total) -> progress.update(next + done, n));
        } catch (IOException e) {
            throw new UncheckedIOException(cacheDir + ": cannot write the teacher cache", e);
        }
        return TeacherCache.open(cacheDir);
    }

    /**
     * The provenance a cache of this teacher records: the teacher's own, plus the batch size (batches seed the
     * samples, so the batch size is part of what the samples depend on).
     *
     * @param teacher the teacher
     * @param batchSize inputs per teacher call
     * @return a new mutable map
     */
    public static Map<String, Object> provenance(Teacher teacher, int batchSize) {
        Map<String, Object> provenance = new LinkedHashMap<>(teacher.provenance());
        provenance.put("batchSize", batchSize);
        return provenance;
    }

    /**
     * Samples items {@code from} (inclusive) to {@code to} (exclusive) and appends them to a writer: the one
     * sampling loop under {@link #fill}, also run on ranges by a distributed engine. Batches are the aligned
     * ones of a whole run ({@code [b * batchSize, min(n, (b + 1) * batchSize))}, each sampled from its first
     * item, in chunks that fit the working memory), so a range's items equal those of a run over all rows; where a
     * range's ends cut a batch, {@link Teacher#sampleRange} draws its part (only that part for an MC-dropout teacher;
     * other teachers sample the cut batch whole and keep the part).
     *
     * @param teacher the teacher
     * @param features every input row of the run (n rows of equal width), not only the range
     * @param from the first item to append; the writer's {@link TeacherCacheWriter#nextItem()}
     * @param to the end of the range, at most n
     * @param batchSize inputs per teacher call, positive
     * @param workingBytes the teacher's working memory ({@link Options#workingBytes()})
     * @param w the writer
     * @param progress told the range's items done (from 0) and its size after each batch
     * @throws IOException if committing a shard fails
     */
    public static void append(Teacher teacher, float[][] features, long from, long to, int batchSize, long workingBytes,
            TeacherCacheWriter w, SampleProgress progress) throws IOException {
        int n = features.length;
        if (from < 0 || from > to || to > n || batchSize <= 0) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") of " + n + " rows, batch size "
                    + batchSize);
        }
        if (w.nextItem() != from) {
            throw new IllegalArgumentException("the writer's next item is " + w.nextItem() + ", the range starts at "
                    + from);
        }
        if (from == to) {
            return;
        }
        try (NDManager root = NDManager.newBaseManager(teacher.device())) {
            for (long start = from / batchSize * batchSize; start < to; start += batchSize) {
                int end = (int) Math.min(n, start + batchSize);
                // a resumed or cut batch: only the range's items are kept (and, where the teacher can, only drawn)
                int first = (int) Math.max(start, from);
                int last = (int) Math.min(end, to);
                try {
                    teacher.sampleRange(root, features, (int) start, end, first, last, workingBytes,
                            (values, offset, samples) -> {
                                try {
                                    w.appendSamples(values, offset, samples);
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            });
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
                progress.update(Math.min(end, to) - from, to - from);
            }
        }
    }

    /** @return the cache when it already holds all n items of this teacher's task, k, width, signal and inputs, else null */
    private static TeacherCache complete(Path dir, Teacher teacher, int k, int width, String fingerprint, int n) {
        if (!Files.exists(dir.resolve(CacheManifest.FILE_NAME))) {
            return null;
        }
        TeacherCache c = TeacherCache.open(dir);
        CacheManifest m = c.manifest();
        boolean same = m.items() == n && m.k() == k && m.width() == width && teacher.task().equals(m.task())
                && teacher.output().signal().equals(m.signal()) && fingerprint.equals(m.datasetFingerprint());
        return same ? c : null;
    }
}

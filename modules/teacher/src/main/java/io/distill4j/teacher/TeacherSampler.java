package io.distill4j.teacher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.Sha256;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.TeacherCacheWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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

    /**
     * Sampling settings.
     *
     * @param batchSize inputs per teacher call, positive (a teacher evaluates k * batchSize rows at once)
     * @param rowsPerShard items per committed cache shard, positive
     */
    public record Options(int batchSize, int rowsPerShard) {

        /** Validates both counts. */
        public Options {
            if (batchSize <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
            }
            if (rowsPerShard <= 0) {
                throw new IllegalArgumentException("rowsPerShard must be positive, got " + rowsPerShard);
            }
        }

        /** @return batches of 512 inputs, shards of 8192 items */
        public static Options defaults() {
            return new Options(512, 8192);
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
        int bs = options.batchSize();
        Map<String, Object> provenance = provenance(teacher, bs);
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(cacheDir, teacher.task(), teacher.k(),
                teacher.width(), teacher.output().signal(), provenance, Sha256.fingerprint(features),
                options.rowsPerShard())) {
            Provenance.requireSame(cacheDir, w.manifest().teacher(), provenance);
            long next = w.nextItem();
            if (next > n) {
                throw new BadInputException(cacheDir.resolve(CacheManifest.FILE_NAME) + ": field items: cache holds "
                        + next + " items but the dataset has " + n);
            }
            progress.update(next, n);
            append(teacher, features, next, n, bs, w, (done, total) -> progress.update(next + done, n));
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
     * item), so a range's items equal those of a run over all rows; a range whose ends are not multiples of the
     * batch size samples the batches it cuts whole and keeps its part.
     *
     * @param teacher the teacher
     * @param features every input row of the run (n rows of equal width), not only the range
     * @param from the first item to append; the writer's {@link TeacherCacheWriter#nextItem()}
     * @param to the end of the range, at most n
     * @param batchSize inputs per teacher call, positive
     * @param w the writer
     * @param progress told the range's items done (from 0) and its size after each batch
     * @throws IOException if committing a shard fails
     */
    public static void append(Teacher teacher, float[][] features, long from, long to, int batchSize,
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
        int d = features[0].length;
        int k = teacher.k();
        int width = teacher.width();
        int bs = batchSize;
        float[] flat = new float[bs * d];
        try (NDManager root = NDManager.newBaseManager(teacher.device())) {
            for (long start = from / bs * bs; start < to; start += bs) {
                int end = (int) Math.min(n, start + bs);
                int b = (int) (end - start);
                io.distill4j.data.Rows.flatten(features, (int) start, end, flat);
                float[] values;
                try (NDManager sub = root.newSubManager()) {
                    NDArray x = sub.create(FloatBuffer.wrap(flat, 0, b * d), new Shape(b, d));
                    NDArray out = teacher.sample(sub, x, start);
                    Shape want = new Shape(b, k, width);
                    if (!out.getShape().equals(want)) {
                        throw new IllegalStateException(teacher.provenance().get("name") + ": sample returned shape "
                                + out.getShape() + ", expected " + want);
                    }
                    values = out.getDataType() == DataType.FLOAT32 ? out.toFloatArray()
                            : out.toType(DataType.FLOAT32, false).toFloatArray();
                }
                int skip = (int) (Math.max(start, from) - start);
                int keep = (int) (Math.min(end, to) - start) - skip;
                w.appendFlat(values, skip * k * width, keep);
                progress.update(Math.min(end, to) - from, to - from);
            }
        }
    }
}

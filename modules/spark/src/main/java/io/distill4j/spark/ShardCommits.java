package io.distill4j.spark;

import ai.djl.Device;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.CacheSchema;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.Errors;
import io.distill4j.data.Sha256;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.data.TeacherCacheWriter;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.pipeline.TeacherCheckpoints;
import io.distill4j.teacher.Provenance;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.TeacherSampler;
import io.distill4j.teacher.http.HttpSequenceTeacher;
import io.distill4j.teacher.sequence.Prompts;
import io.distill4j.teacher.sequence.SequenceTeacher;
import io.distill4j.teacher.sequence.SequenceTeacherSampler;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.TaskContext;

/**
 * The executor side of {@link SparkSampling}: samples one shard in a per-attempt folder and commits it into the
 * cache without ever replacing a committed shard; and the driver's check of shards an interrupted run committed.
 */
final class ShardCommits {

    private static final Logger LOG = LogManager.getLogger(ShardCommits.class);

    /**
     * One teacher per executor JVM and job, shared by the JVM's task threads (sampling needs no gradient); kept for
     * the JVM's life (executors of one application run its jobs).
     */
    private static final Map<String, Worker> WORKERS = new ConcurrentHashMap<>();

    /** A job's rows and teacher, as built on one executor JVM. */
    private record Worker(float[][] features, SampleJob.DenseTeacher teacher) {
    }

    private ShardCommits() {
    }

    /**
     * Samples a task's shards of a tabular job (one writer: its committer thread writes a shard while the next is
     * sampled) and commits them.
     *
     * @param job the job
     * @param t the task's shards
     * @return the committed shards, in order
     * @throws IOException if a file cannot be written
     */
    static List<SparkSampling.Committed> sampleAndCommit(SparkSampling.ShardJob job, SparkSampling.ShardTask t)
            throws IOException {
        Path cache = requireCache(job.cache());
        Worker w = worker(job);
        CacheWriteOptions opts = CacheWriteOptions.DEFAULT.withFsync(job.options().fsync());
        return inAttempt(cache, t, job.options(), attemptDir -> {
            try (TeacherCacheWriter writer = TeacherCacheWriter.openShards(attemptDir, job.task(), job.k(), job.width(),
                    job.signal(), t.firstItem(), t.index(), job.rowsPerShard(), opts)) {
                TeacherSampler.append(w.teacher().teacher(), w.features(), t.firstItem(), t.firstItem() + t.rows(),
                        job.batchSize(), job.workingBytes(), writer, (done, total) -> { });
                writer.flush();
                return writer.manifest().shards();
            }
        });
    }

    /**
     * Samples a prompt range of an {@code http} job from server {@code index % servers} and commits it. Tasks of one
     * executor JVM that use the same server take turns, so that each server sees at most {@code concurrency}
     * requests in flight from one executor.
     *
     * @param job the job
     * @param t the shard
     * @return the committed shard
     * @throws IOException if a file cannot be written
     */
    static List<SparkSampling.Committed> sampleHttpAndCommit(SparkSampling.SequenceShardJob job, SparkSampling.ShardTask t)
            throws IOException {
        Path cache = requireCache(job.cache());
        HttpWorker w = httpWorker(job, t.index());
        return sampleSequence(cache, t, job.options(), job.k(), job.vocabularySize(), job.topK(), job.rowsPerShard(),
                w.teacher(), w.prompts(), w);
    }

    /**
     * Samples a prompt range of an {@code lm} job on the executor JVM's one copy of the model and commits it. Tasks of
     * one JVM take turns on the model (its decoder is not shared between threads).
     *
     * @param job the job
     * @param t the shard
     * @return the committed shard
     * @throws IOException if a file cannot be written
     */
    static List<SparkSampling.Committed> sampleLmAndCommit(SparkSampling.SequenceShardJob job, SparkSampling.ShardTask t)
            throws IOException {
        Path cache = requireCache(job.cache());
        LmWorker w = lmWorker(job);
        return sampleSequence(cache, t, job.options(), job.k(), job.vocabularySize(), job.topK(), job.rowsPerShard(),
                w.teacher().teacher(), w.prompts(), w);
    }

    /**
     * The loop every sequence shard runs: {@link SequenceTeacherSampler#append} (the loop of {@code distill4j sample})
     * into {@link SequenceCacheWriter#openShards} in an attempt folder, holding {@code turn} while sampling, then the
     * commit.
     */
    private static List<SparkSampling.Committed> sampleSequence(Path cache, SparkSampling.ShardTask t,
            SparkSampling.Options options, int k, int vocabularySize, int topK, int rowsPerShard, SequenceTeacher teacher,
            List<String> prompts, Object turn) throws IOException {
        CacheWriteOptions opts = CacheWriteOptions.DEFAULT.withFsync(options.fsync());
        return inAttempt(cache, t, options, attemptDir -> {
            try (SequenceCacheWriter writer = SequenceCacheWriter.openShards(attemptDir, k, vocabularySize, topK,
                    t.firstItem(), t.index(), rowsPerShard, opts)) {
                synchronized (turn) {
                    SequenceTeacherSampler.append(teacher, prompts, t.firstItem(), t.firstItem() + t.rows(), writer,
                            SampleProgress.NONE);
                }
                writer.flush();
                return writer.manifest().shards();
            }
        });
    }

    /** Writes a shard into an attempt folder and returns what was written. */
    private interface AttemptWriter {
        List<CacheManifest.Shard> write(Path attemptDir) throws IOException;
    }

    private static Path requireCache(String dir) {
        Path cache = Path.of(dir);
        if (!Files.isRegularFile(cache.resolve(CacheManifest.FILE_NAME))) {
            throw new BadInputException(cache + ": this executor (" + host() + ") cannot see the cache folder the driver"
                    + " created; the cache, the job file and its data must be on storage every executor reaches");
        }
        return cache;
    }

    /**
     * One task attempt: writes the task's shards into {@code _attempts/<first shard>-attempt-<id>/}, then commits them
     * into the cache in order; the attempt folder is removed whether the attempt succeeds or fails. An attempt that
     * fails after committing some of its shards leaves them committed: its retry writes them again and finds them
     * identical.
     */
    private static List<SparkSampling.Committed> inAttempt(Path cache, SparkSampling.ShardTask t,
            SparkSampling.Options options, AttemptWriter write) throws IOException {
        TaskContext ctx = TaskContext.get();
        long attemptId = ctx != null ? ctx.taskAttemptId() : System.nanoTime();
        int attemptNumber = ctx != null ? ctx.attemptNumber() : 0;
        Path attempts = cache.resolve(SparkSampling.ATTEMPTS);
        Path attemptDir = attempts.resolve(String.format(Locale.ROOT, "%05d-attempt-%d", t.index(), attemptId));
        try {
            List<CacheManifest.Shard> written = write.write(attemptDir);
            long rows = 0;
            for (int j = 0; j < written.size(); j++) {
                CacheManifest.Shard s = written.get(j);
                if (!s.file().equals(String.format(Locale.ROOT, "part-%05d.arrow", t.index() + j))
                        || s.firstItem() != t.firstItem() + rows) {
                    throw new IllegalStateException(cache + ": the shards from " + t.index() + " came out as " + written);
                }
                rows += s.rows();
            }
            if (written.isEmpty() || rows != t.rows()) {
                throw new IllegalStateException(cache + ": the shards from " + t.index() + " came out as " + written);
            }
            List<SparkSampling.Committed> committed = new java.util.ArrayList<>();
            for (int j = 0; j < written.size(); j++) {
                CacheManifest.Shard shard = written.get(j);
                int index = t.index() + j;
                if (attemptNumber == 0 && options.crashFirstAttempt().contains(index)) {
                    throw new IllegalStateException("injected fault: shard " + index + ", attempt " + attemptId
                            + " fails after writing and before committing");
                }
                boolean reused = commit(attemptDir.resolve(shard.file()), cache.resolve(shard.file()), shard.sha256(),
                        options.fsync());
                LOG.info("{}: shard {} ({} items from {}) {} by attempt {}", cache, index, shard.rows(),
                        shard.firstItem(), reused ? "was already committed, identical," : "committed", attemptId);
                committed.add(new SparkSampling.Committed(index, shard.file(), shard.firstItem(), shard.rows(),
                        shard.bytes(), shard.sha256(), reused));
            }
            return committed;
        } finally {
            try {
                SparkSampling.deleteTree(attemptDir);
                Files.deleteIfExists(attempts); // the last attempt out (of a failed job) leaves no folder
            } catch (java.nio.file.DirectoryNotEmptyException e) {
                // other attempts are still writing; the driver removes the folder at the end
            } catch (IOException e) {
                LOG.warn("{}: cannot remove {}: {}", cache, attemptDir, Errors.reason(e));
            }
        }
    }

    /**
     * Commits a shard with a hard link, which fails instead of replacing: the first attempt wins, later ones check
     * that they wrote the same bytes.
     *
     * @return whether the shard had been committed before
     */
    static boolean commit(Path written, Path target, String sha, boolean fsync) throws IOException {
        try {
            try {
                Files.createLink(target, written);
            } catch (UnsupportedOperationException e) {
                Files.move(written, target); // no REPLACE_EXISTING: fails if committed meanwhile
            }
        } catch (FileAlreadyExistsException e) {
            String have = Sha256.of(target);
            if (!have.equals(sha)) {
                throw new IOException(target + ": committed by another attempt with SHA-256 " + have + ", this attempt"
                        + " wrote " + sha + ": the teacher is not deterministic on this cluster");
            }
            return true;
        }
        if (fsync) {
            AtomicFiles.syncDirectory(target.getParent());
        }
        return false;
    }

    /**
     * One HTTP teacher per executor JVM, job and server (its own pool of {@code concurrency} connections); its
     * monitor is the turn that tasks using the server take.
     */
    private record HttpWorker(List<String> prompts, HttpSequenceTeacher teacher) {
    }

    private static final Map<String, HttpWorker> HTTP_WORKERS = new ConcurrentHashMap<>();

    private static HttpWorker httpWorker(SparkSampling.SequenceShardJob job, int shard) throws IOException {
        Path file = Path.of(job.jobFile());
        SampleSpec spec = SampleSpec.load(file);
        int servers = spec.sequence().http().servers().size();
        String key = job.jobFile() + "|" + Sha256.of(file) + "|" + job.fingerprint() + "|" + shard % servers;
        return HTTP_WORKERS.computeIfAbsent(key, x -> buildHttp(job, spec, shard));
    }

    /** The job's prompts as this executor reads them, refused unless they are the driver's (same fingerprint). */
    private static List<String> executorPrompts(SampleSpec.SequenceSpec seq, String jobFile, String driver) {
        List<String> prompts = Prompts.read(seq.prompts(), seq.field());
        String fingerprint = Prompts.fingerprint(prompts);
        if (!fingerprint.equals(driver)) {
            throw new BadInputException(jobFile + ": field prompts.file: on executor " + host() + " the prompts"
                    + " have fingerprint " + fingerprint + ", on the driver " + driver
                    + " (the prompt file differs between machines)");
        }
        return prompts;
    }

    private static HttpWorker buildHttp(SparkSampling.SequenceShardJob job, SampleSpec spec, int shard) {
        SampleSpec.SequenceSpec seq = spec.sequence();
        List<String> prompts = executorPrompts(seq, job.jobFile(), job.fingerprint());
        HttpSequenceTeacher teacher = new HttpSequenceTeacher(SampleJob.httpTeacher(spec, shard, System::getenv),
                seq.vocabularySize());
        Path cache = Path.of(job.cache());
        // every server must be the teacher the cache records (same model, tokenizer, vocabulary, request mode)
        Provenance.requireSame(cache, CacheManifest.read(cache).teacher(), teacher.provenance());
        LOG.info("{}: HTTP teacher on {} for the shards {} mod {}", cache, seq.http().onServer(shard).baseUri(),
                shard % seq.http().servers().size(), seq.http().servers().size());
        return new HttpWorker(prompts, teacher);
    }

    /** One local language model per executor JVM, job and device; its monitor is the turn that tasks take. */
    private record LmWorker(List<String> prompts, SampleJob.LmTeacher teacher) {
    }

    private static final Map<String, LmWorker> LM_WORKERS = new ConcurrentHashMap<>();

    private static LmWorker lmWorker(SparkSampling.SequenceShardJob job) throws IOException {
        return LM_WORKERS.computeIfAbsent(workerKey(job.jobFile(), job.fingerprint(), job.options().device()),
                x -> buildLm(job));
    }

    private static LmWorker buildLm(SparkSampling.SequenceShardJob job) {
        Path file = Path.of(job.jobFile());
        SampleSpec spec = SampleSpec.load(file);
        SampleSpec.SequenceSpec seq = spec.sequence();
        List<String> prompts = executorPrompts(seq, job.jobFile(), job.fingerprint());
        if (!Files.isDirectory(seq.folder())) {
            throw new BadInputException(seq.folder() + ": executor " + host() + " cannot see the teacher's folder"
                    + " (field teacher.folder of " + file + "); it must be on storage every executor reaches");
        }
        SampleJob.LmTeacher teacher = SampleJob.lmTeacher(spec, SparkSampling.parseDevice(file, job.options().device()));
        Path cache = Path.of(job.cache());
        try {
            // the model this JVM loaded must be the one the cache records (weights SHA-256, tokenizer, sampling)
            Provenance.requireSame(cache, CacheManifest.read(cache).teacher(), teacher.teacher().provenance());
        } catch (RuntimeException e) {
            teacher.close();
            throw e;
        }
        LOG.info("{}: language-model teacher {} from {} loaded on this executor", cache, teacher.model(), seq.folder());
        return new LmWorker(prompts, teacher);
    }

    private static Worker worker(SparkSampling.ShardJob job) throws IOException {
        return WORKERS.computeIfAbsent(workerKey(job.jobFile(), job.fingerprint(), job.options().device()),
                x -> build(job));
    }

    /**
     * The key of a teacher built once per executor JVM: the job file's content is part of it, so a job file rewritten
     * in place (another teacher) gets a new one.
     */
    private static String workerKey(String jobFile, String fingerprint, String device) throws IOException {
        return jobFile + "|" + Sha256.of(Path.of(jobFile)) + "|" + fingerprint + "|" + device;
    }

    private static Worker build(SparkSampling.ShardJob job) {
        Path file = Path.of(job.jobFile());
        SampleSpec spec = SampleSpec.load(file);
        SampleJob.Prepared prepared = SampleJob.prepare(spec.data());
        float[][] features = prepared.sampled().features();
        String fingerprint = Sha256.fingerprint(features);
        if (!fingerprint.equals(job.fingerprint())) {
            throw new BadInputException(file + ": field data: on executor " + host() + " the rows to sample have"
                    + " fingerprint " + fingerprint + ", on the driver " + job.fingerprint()
                    + " (the data folder differs between machines)");
        }
        Path saved = SampleJob.savedTeacher(spec);
        Path weights = !spec.teacher().checkpoints().isEmpty() ? spec.teacher().checkpoints().get(0)
                : spec.teacher().type().equals("ensemble") ? saved.resolve("member-0") : saved;
        if (!TeacherCheckpoints.exists(weights)) {
            throw new BadInputException(weights + ": executor " + host() + " cannot see the teacher's weights that the"
                    + " driver saved; they must be on storage every executor reaches");
        }
        Device device = SparkSampling.parseDevice(file, job.options().device());
        SampleJob.DenseTeacher teacher = SampleJob.buildDense(spec.source(), spec.teacher(), prepared.split().train(),
                spec.k(), spec.seed(), saved, device, LOG::info);
        Path cache = Path.of(job.cache());
        try {
            Provenance.requireSame(cache, CacheManifest.read(cache).teacher(),
                    TeacherSampler.provenance(teacher.teacher(), job.batchSize()));
        } catch (RuntimeException e) {
            teacher.close();
            throw e;
        }
        return new Worker(features, teacher);
    }

    /**
     * Checks a shard file that an interrupted run committed but the manifest does not list: it is kept when its
     * row count, item numbers and value layout are those of shard {@code index}.
     *
     * @return its manifest entry, or null when there is no such file or it does not fit (it is then deleted)
     */
    static SparkSampling.Committed adopt(Path cache, int index, long first, int rows, SparkSampling.Layout layout) {
        String name = String.format(Locale.ROOT, "part-%05d.arrow", index);
        Path file = cache.resolve(name);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        String why = null;
        try (BufferAllocator alloc = new RootAllocator();
                FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
                ArrowFileReader reader = new ArrowFileReader(ch, alloc, CommonsCompressionFactory.INSTANCE)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            if (!root.getSchema().equals(layout.schema())) {
                why = "schema " + root.getSchema();
            }
            long seen = 0;
            int per = layout.rowsPerItem();
            while (why == null && reader.loadNextBatch()) {
                BigIntVector items = (BigIntVector) root.getVector(CacheSchema.ITEM);
                for (int r = 0; r < root.getRowCount() && why == null; r++) {
                    if (items.get(r) != first + seen / per) {
                        why = "item " + items.get(r) + " at row " + seen + ", expected " + (first + seen / per);
                    }
                    seen++;
                }
            }
            if (why == null && seen != (long) rows * per) {
                why = seen + " rows, expected " + (long) rows * per;
            }
            if (why == null) {
                return new SparkSampling.Committed(index, name, first, rows, Files.size(file), Sha256.of(file), true);
            }
        } catch (IOException | RuntimeException e) {
            why = Errors.reason(e);
        }
        LOG.warn("{}: not the shard this job expects ({}); sampling it again", file, why);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot remove a stale shard: " + Errors.reason(e), e);
        }
        return null;
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "?";
        }
    }
}

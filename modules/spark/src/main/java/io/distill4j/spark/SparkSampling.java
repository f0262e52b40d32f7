package io.distill4j.spark;

import ai.djl.Device;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.CacheSchema;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.Errors;
import io.distill4j.data.Sha256;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.teacher.Provenance;
import io.distill4j.teacher.Teacher;
import io.distill4j.teacher.TeacherSampler;
import io.distill4j.teacher.http.HttpSequenceTeacher;
import io.distill4j.teacher.sequence.Prompts;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Runs a {@code distill4j sample} job on Spark: one task per cache shard, every task sampling its items on an
 * executor with the job's teacher, all shards committed into one cache that equals, bit for bit, the one
 * {@link SampleJob#run} writes on one machine. A tabular teacher is rebuilt once per executor JVM from the weights the
 * driver trained or loaded; a local language model ({@code lm}) is loaded once per executor JVM from its folder; an
 * {@code http} teacher (a sequence cache) is built once per executor JVM and server,
 * task {@code i} (shard {@code i}'s prompt range) asking server {@code i % servers} of {@code teacher.server}.
 *
 * <p>How it stays crash-safe (the single-machine writer's guarantees, spread over tasks):
 * <ul>
 *   <li>shard {@code i} holds items {@code [i * rowsPerShard, min(n, (i + 1) * rowsPerShard))}, exactly the local
 *       writer's shards (after a cache's last listed shard, full shards from its first missing item, as the local
 *       writer resumes); its items are sampled in the batches of a whole run (see {@link TeacherSampler#append}),
 *       so the bytes do not depend on which task wrote them;</li>
 *   <li>a task attempt writes its shard under {@code <cache>/_attempts/<shard>-attempt-<id>/} (temporary name,
 *       then rename), then commits it with a hard link to {@code <cache>/part-NNNNN.arrow}, which never replaces a
 *       file: a retried or speculative attempt that finds the shard committed checks that the SHA-256 values agree
 *       and discards its copy;</li>
 *   <li>only the driver writes {@code manifest.json} (format v1, unchanged), atomically, after the tasks; a rerun
 *       after a crash keeps the shards the manifest lists, adopts committed shards it does not list yet (after
 *       checking their item numbers and row count), and schedules only the missing ones;</li>
 *   <li>the attempts folder is removed when the job ends.</li>
 * </ul>
 *
 * <p>The job file, its data and the cache folder must be on storage that the driver and every executor reach under
 * the same path (one machine, NFS, a shared volume); for a local language-model ({@code lm}) job, so must its
 * {@code teacher.folder}, which every executor JVM loads once.
 */
public final class SparkSampling {

    /** The folder inside a cache where task attempts write before they commit. */
    public static final String ATTEMPTS = "_attempts";

    private SparkSampling() {
    }

    /**
     * Settings of a distributed sampling run.
     *
     * @param device where executors run the teacher ({@code cpu}, {@code gpu(i)}; {@link io.distill4j.data.Devices})
     * @param fsync whether shards and the manifest are forced to disk before they count as committed
     * @param crashFirstAttempt shard indices whose first task attempt fails after writing its shard and before
     *     committing it: fault injection for tests of retries (empty in real runs)
     * @param shardsPerTask consecutive shards one task of a tabular job samples; 0 for the {@link #SHARDS_PER_TASK}
     *     Spark setting, or when that is not set the rule of {@link #shardsPerTask(int, int, int)}
     */
    public record Options(String device, boolean fsync, List<Integer> crashFirstAttempt, int shardsPerTask)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        /** Copies the list and checks the count. */
        public Options {
            Objects.requireNonNull(device, "device");
            crashFirstAttempt = List.copyOf(crashFirstAttempt);
            if (shardsPerTask < 0) {
                throw new IllegalArgumentException("shardsPerTask must be 0 (automatic) or positive, got "
                        + shardsPerTask);
            }
        }

        /**
         * Settings with shards per task chosen automatically.
         *
         * @param device where executors run the teacher
         * @param fsync whether shards and the manifest are forced to disk
         * @param crashFirstAttempt fault injection for tests (empty in real runs)
         */
        public Options(String device, boolean fsync, List<Integer> crashFirstAttempt) {
            this(device, fsync, crashFirstAttempt, 0);
        }

        /** @return CPU, fsync on, no faults */
        public static Options defaults() {
            return new Options("cpu", true, List.of());
        }
    }

    /**
     * What one task did with one shard: its manifest entry, and whether it reused a shard another attempt had
     * committed.
     *
     * @param index the shard index
     * @param file the shard's file name
     * @param firstItem its first item
     * @param rows its items
     * @param bytes its size
     * @param sha256 its SHA-256
     * @param reused whether an earlier attempt had committed it
     */
    public record Committed(int index, String file, long firstItem, long rows, long bytes, String sha256,
            boolean reused) implements Serializable {
        private static final long serialVersionUID = 1L;

        CacheManifest.Shard shard() {
            return new CacheManifest.Shard(file, firstItem, rows, bytes, sha256);
        }
    }

    /**
     * What a distributed run did.
     *
     * @param result the cache, its items, where it resumed from and the sampling time (as {@link SampleJob#run})
     * @param shards shards in the cache
     * @param scheduled shards sampled by tasks in this run
     * @param adopted committed shards that the manifest did not list yet, kept from an interrupted run
     * @param tasks the tasks that sampled them (a task samples a run of consecutive shards, {@link #SHARDS_PER_TASK})
     */
    public record Outcome(SampleJob.Result result, int shards, int scheduled, int adopted, int tasks) {
    }

    /**
     * The Spark setting that fixes how many consecutive shards one task of a tabular job samples; by default
     * {@link #shardsPerTask}'s rule. HTTP and {@code lm} jobs sample one shard per task (an HTTP task's server is
     * picked by its shard).
     */
    public static final String SHARDS_PER_TASK = "spark.distill4j.shardsPerTask";

    /**
     * Reads the {@link #SHARDS_PER_TASK} setting.
     *
     * @param setting its value, or null when it is not set
     * @return the shards per task it fixes, or 0 when not set (automatic)
     * @throws BadInputException if the setting is not a positive integer
     */
    static int parseShardsPerTask(String setting) {
        if (setting == null) {
            return 0;
        }
        try {
            int g = Integer.parseInt(setting.trim());
            if (g > 0) {
                return g;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new BadInputException("Spark setting " + SHARDS_PER_TASK + ": must be a positive integer, got '"
                + setting + "'");
    }

    /**
     * Consecutive shards per task of a tabular job: {@code fixed} when positive (the {@link #SHARDS_PER_TASK} setting
     * or {@link Options#shardsPerTask}), else about four tasks per core of the cluster ({@code defaultParallelism}), at
     * most 8 shards a task. A task writes its shards through one cache writer, whose committer thread writes and hashes
     * a shard while the next is sampled, as the local engine does; one task per shard paid a writer, an idle commit and
     * Spark's scheduling per shard (digits, k = 32,768, one executor: 2.06 s a task against 1.58 s for the local
     * engine's 51 items).
     *
     * @param fixed shards per task asked for, or 0 for the rule
     * @param shards shards to sample
     * @param cores the cluster's default parallelism
     * @return shards per task, at least 1
     */
    public static int shardsPerTask(int fixed, int shards, int cores) {
        if (fixed > 0) {
            return fixed;
        }
        int perTask = (shards + 4 * Math.max(1, cores) - 1) / (4 * Math.max(1, cores));
        return Math.max(1, Math.min(8, perTask));
    }

    /**
     * Samples a job's teacher on the cluster into the job's cache, resuming it if it exists.
     *
     * @param sc the Spark context
     * @param jobFile the job's YAML file (read by the driver and by every executor)
     * @param options device, fsync and fault injection
     * @param log told one line per stage
     * @return what was done
     * @throws BadInputException for a bad job file, a cache of another teacher or layout, or a cache folder that
     *     cannot be written, before any task runs
     */
    public static Outcome sample(JavaSparkContext sc, Path jobFile, Options options, Consumer<String> log) {
        Path job = jobFile.toAbsolutePath().normalize();
        SampleSpec spec = SampleSpec.load(job);
        if (spec.isSequence()) {
            return spec.sequence().http() != null ? sampleHttp(sc, job, spec, options, log)
                    : sampleLm(sc, job, spec, options, log);
        }
        Device device = parseDevice(job, options.device());
        SampleJob.Prepared prepared = SampleJob.prepare(spec.data());
        float[][] features = prepared.sampled().features();
        int n = features.length;
        int bs = spec.batchSize();
        TeacherSampler.Options sampling = new TeacherSampler.Options(bs, spec.rowsPerShard(),
                (long) spec.memoryBudgetMiB() << 20);
        Path cache = spec.cache().toAbsolutePath().normalize();
        // The driver builds the teacher once: it trains (and saves) the model when no weights exist yet, so that
        // executors only load; its provenance heads the manifest.
        String task;
        int k;
        int width;
        String signal;
        Map<String, Object> provenance;
        try (SampleJob.DenseTeacher built = SampleJob.buildDense(spec.source(), spec.teacher(),
                prepared.split().train(), spec.k(), spec.seed(), SampleJob.savedTeacher(spec), device, log)) {
            Teacher t = built.teacher();
            task = t.task();
            k = t.k();
            width = t.width();
            signal = t.output().signal();
            provenance = TeacherSampler.provenance(t, bs);
            String refusal = sampling.refusal(t.minimumWorkingBytes(Math.min(bs, n), features[0].length), k, width);
            if (refusal != null) {
                throw new BadInputException(job + ": field " + (refusal.startsWith("memoryBudget:")
                        ? "memoryBudgetMiB" + refusal.substring("memoryBudget".length()) : refusal));
            }
        }
        // shards as the local writer cuts them: rowsPerShard, or fewer when k samples per item fill the budget
        int rps = sampling.shardRows(k, width);
        if (rps % bs != 0) {
            log.accept(String.format(Locale.ROOT, "rowsPerShard %d is not a multiple of batchSize %d: a task draws only"
                    + " its items of a batch its shard cuts where the teacher can (MC dropout), others sample such"
                    + " batches whole; a multiple avoids that", rps, bs));
        }
        String fingerprint = Sha256.fingerprint(features);
        CacheManifest fresh = new CacheManifest(CacheManifest.FORMAT_VERSION, task, k, width, signal, "float32", 0,
                provenance, fingerprint, List.of());
        ShardJob shardJob = new ShardJob(job.toString(), cache.toString(), task, k, width, signal, fingerprint, bs,
                rps, sampling.workingBytes(), options);
        return distribute(sc, cache, fresh, n, rps, new Layout(CacheSchema.dense(k, width), 1), shardJob, true, options,
                log);
    }

    /**
     * The {@code http} half of {@link #sample}: the driver reads the prompts and asks the first server for what the
     * cache records (its model, vocabulary, tokenizer fingerprint, how k responses are requested); task {@code i}
     * samples shard {@code i}'s prompt range from server {@code i % servers} on an {@link HttpSequenceTeacher} built
     * once per executor JVM and server.
     */
    private static Outcome sampleHttp(JavaSparkContext sc, Path job, SampleSpec spec, Options options,
            Consumer<String> log) {
        SampleSpec.SequenceSpec seq = spec.sequence();
        List<String> prompts = Prompts.read(seq.prompts(), seq.field());
        if (prompts.isEmpty()) {
            throw new BadInputException(seq.prompts() + ": holds no prompts");
        }
        String fingerprint = Prompts.fingerprint(prompts);
        io.distill4j.teacher.http.HttpTeacher http = SampleJob.httpTeacher(spec, 0, System::getenv);
        HttpSequenceTeacher teacher = new HttpSequenceTeacher(http, seq.vocabularySize());
        byte[] tokenizer = SampleJob.teacherTokenizer(spec, http, teacher.vocabularySize(), prompts);
        CacheManifest fresh = SequenceCacheWriter.freshManifest(spec.k(), teacher.vocabularySize(), teacher.topK(),
                teacher.provenance(), fingerprint);
        log.accept(String.format(Locale.ROOT, "%d prompts from %s; teacher %s on %d server(s), k=%d, concurrency %d"
                + " per server and executor", prompts.size(), seq.prompts(), seq.http().endpoint().path(),
                seq.http().servers().size(), spec.k(), seq.http().concurrency()));
        Path cache = spec.cache().toAbsolutePath().normalize();
        SequenceShardJob work = new SequenceShardJob(SequenceShardJob.Source.HTTP, job.toString(), cache.toString(),
                fingerprint, spec.k(), teacher.vocabularySize(), teacher.topK(), spec.rowsPerShard(), options);
        Outcome done = distribute(sc, cache, fresh, prompts.size(), spec.rowsPerShard(),
                new Layout(CacheSchema.sequence(teacher.topK(), fresh.sequence().idType()), spec.k()), work, false,
                options, log);
        SampleJob.keepTokenizer(spec, tokenizer);
        return done;
    }

    /**
     * The {@code lm} half of {@link #sample}: the driver reads the prompts and loads the model once (on the CPU) for
     * what the cache records (its provenance, weights SHA-256 included, vocabulary, top-K); task {@code i} samples
     * shard {@code i}'s prompt range on a {@link SampleJob.LmTeacher} built once per executor JVM from
     * {@code teacher.folder} (on storage every executor reaches). Rows are seeded by the job's seed, the prompt's
     * index and the row alone, so a range sampled by any task holds the bytes of the local run.
     */
    private static Outcome sampleLm(JavaSparkContext sc, Path job, SampleSpec spec, Options options,
            Consumer<String> log) {
        SampleSpec.SequenceSpec seq = spec.sequence();
        parseDevice(job, options.device());
        List<String> prompts = Prompts.read(seq.prompts(), seq.field());
        if (prompts.isEmpty()) {
            throw new BadInputException(seq.prompts() + ": holds no prompts");
        }
        String fingerprint = Prompts.fingerprint(prompts);
        CacheManifest fresh;
        int vocabulary;
        int topK;
        try (SampleJob.LmTeacher lm = SampleJob.lmTeacher(spec, Device.cpu())) {
            vocabulary = lm.teacher().vocabularySize();
            topK = lm.teacher().topK();
            fresh = SequenceCacheWriter.freshManifest(spec.k(), vocabulary, topK, lm.teacher().provenance(),
                    fingerprint);
            log.accept(String.format(Locale.ROOT, "%d prompts from %s; teacher %s from %s, k=%d, one per executor JVM",
                    prompts.size(), seq.prompts(), lm.model(), seq.folder(), spec.k()));
        }
        byte[] tokenizer = SampleJob.teacherTokenizer(spec, null, vocabulary, prompts);
        Path cache = spec.cache().toAbsolutePath().normalize();
        SequenceShardJob work = new SequenceShardJob(SequenceShardJob.Source.LM, job.toString(), cache.toString(),
                fingerprint, spec.k(), vocabulary, topK, spec.rowsPerShard(), options);
        Outcome done = distribute(sc, cache, fresh, prompts.size(), spec.rowsPerShard(),
                new Layout(CacheSchema.sequence(topK, fresh.sequence().idType()), spec.k()), work, false, options, log);
        SampleJob.keepTokenizer(spec, tokenizer);
        return done;
    }

    /**
     * What the shard files of a cache look like, for adopting shards an interrupted run committed.
     *
     * @param schema the Arrow schema
     * @param rowsPerItem Arrow rows per item (1 dense, k sequence)
     */
    record Layout(org.apache.arrow.vector.types.pojo.Schema schema, int rowsPerItem) {
    }

    /** What an executor runs for one task. */
    interface ShardWork extends Serializable {
        /**
         * @param t the task's shards
         * @return the committed shards, in order
         * @throws IOException if a file cannot be written
         */
        List<Committed> run(ShardTask t) throws IOException;
    }

    /**
     * The driver's half shared by every kind of job: opens or creates the manifest, lists the shards (kept, adopted,
     * to sample), runs one task per run of consecutive shards to sample ({@link #shardsPerTask} of them when
     * {@code grouped}, else one), then commits the manifest; a job that fails for good leaves no attempt folder and,
     * when this run created the manifest, no manifest (committed shards stay, for a rerun to adopt).
     */
    private static Outcome distribute(JavaSparkContext sc, Path cache, CacheManifest fresh, long n, int rps,
            Layout layout, ShardWork work, boolean grouped, Options options, Consumer<String> log) {
        // a bad setting is refused here, before the cache folder is touched
        int fixed = !grouped ? 1 : options.shardsPerTask() > 0 ? options.shardsPerTask()
                : parseShardsPerTask(sc.getConf().get(SHARDS_PER_TASK, null));
        boolean created = !Files.exists(cache.resolve(CacheManifest.FILE_NAME));
        CacheManifest manifest = openManifest(cache, fresh, options.fsync());
        if (manifest.items() > n) {
            throw new BadInputException(cache.resolve(CacheManifest.FILE_NAME) + ": field items: cache holds "
                    + manifest.items() + " items but the " + (fresh.sequenceTask() ? "prompt list" : "dataset")
                    + " has " + n);
        }
        long before = manifest.items();
        // Shards the manifest lists stay; the rest follow as the local writer would resume: full shards of
        // rowsPerShard from the first missing item, the last one shorter.
        int listed = manifest.shards().size();
        int shardCount = listed + (int) ((n - before + rps - 1) / rps);
        TreeMap<Integer, Committed> done = new TreeMap<>();
        List<ShardTask> missing = new ArrayList<>();
        int adopted = 0;
        for (int i = listed; i < shardCount; i++) {
            long first = before + (long) (i - listed) * rps;
            int rows = (int) Math.min(rps, n - first);
            Committed orphan = ShardCommits.adopt(cache, i, first, rows, layout);
            if (orphan != null) {
                done.put(i, orphan);
                adopted++;
            } else {
                missing.add(new ShardTask(i, first, rows));
            }
        }
        int perTask = shardsPerTask(fixed, missing.size(), sc.defaultParallelism());
        List<ShardTask> todo = group(missing, perTask);
        log.accept(String.format(Locale.ROOT, "%d %s, %d shards of %d: %d in the manifest, %d committed by an "
                + "interrupted run, %d to sample on %s, %d shard(s) a task (%d tasks)", n,
                fresh.sequenceTask() ? "prompts" : "rows", shardCount, rps, listed, adopted, missing.size(), sc.master(),
                perTask, todo.size()));
        long start = System.nanoTime();
        if (!todo.isEmpty()) {
            List<Committed> results;
            try {
                results = sc.parallelize(todo, todo.size()).flatMap(t -> work.run(t).iterator()).collect();
            } catch (Exception e) { // a failed job is a SparkException, thrown undeclared (not a RuntimeException)
                abandon(sc, cache, created && listed == 0);
                String bad = SparkFaults.badInput(e);
                if (bad != null) {
                    throw new BadInputException(bad, e);
                }
                throw e;
            }
            for (Committed c : results) {
                done.put(c.index(), c);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        CacheManifest m = manifest;
        for (int i = listed; i < shardCount; i++) {
            Committed c = done.get(i);
            if (c == null) {
                throw new IllegalStateException(cache + ": shard " + i + " was neither sampled nor found committed");
            }
            m = m.withShard(c.shard());
        }
        try {
            m.writeAtomically(cache, options.fsync());
            deleteTree(cache.resolve(ATTEMPTS));
        } catch (IOException e) {
            throw new UncheckedIOException(cache + ": cannot commit the manifest: " + Errors.reason(e), e);
        }
        log.accept(String.format(Locale.ROOT, "committed %d shards, %d items, in %s", shardCount, m.items(), cache));
        return new Outcome(new SampleJob.Result(cache, m.items(), before, fresh.k(), seconds), shardCount,
                missing.size(), adopted, todo.size());
    }

    /**
     * Joins runs of consecutive shards (by index) into tasks of at most {@code perTask} shards.
     *
     * @param shards one-shard tasks, by increasing index
     * @param perTask shards per task at most
     * @return the tasks
     */
    static List<ShardTask> group(List<ShardTask> shards, int perTask) {
        List<ShardTask> tasks = new ArrayList<>();
        ShardTask open = null;
        int count = 0;
        for (ShardTask s : shards) {
            if (open != null && count < perTask && s.index() == open.index() + count
                    && s.firstItem() == open.firstItem() + open.rows()) {
                open = new ShardTask(open.index(), open.firstItem(), open.rows() + s.rows());
                count++;
            } else {
                if (open != null) {
                    tasks.add(open);
                }
                open = s;
                count = 1;
            }
        }
        if (open != null) {
            tasks.add(open);
        }
        return tasks;
    }

    /** The longest wait, after a failed job, for its killed tasks to end before their folders are removed. */
    private static final long SETTLE_MILLIS = 30_000;

    /**
     * Cleans up after a job that failed for good: waits (a while) until no task runs on any executor (Spark kills
     * the job's other tasks without waiting for them), then removes the attempts folder and, when this run created
     * the manifest and nothing was listed in it, the manifest; committed shards stay for a rerun to adopt.
     */
    private static void abandon(JavaSparkContext sc, Path cache, boolean removeManifest) {
        long until = System.currentTimeMillis() + SETTLE_MILLIS;
        try {
            while (System.currentTimeMillis() < until && java.util.Arrays.stream(sc.sc().statusTracker().getExecutorInfos())
                    .anyMatch(e -> e.numRunningTasks() > 0)) {
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // a context that is shutting down: clean up what can be cleaned
        }
        try {
            deleteTree(cache.resolve(ATTEMPTS));
            if (removeManifest) {
                Files.deleteIfExists(cache.resolve(CacheManifest.FILE_NAME));
            }
        } catch (IOException e) {
            org.apache.logging.log4j.LogManager.getLogger(SparkSampling.class).warn("{}: cannot clean up after the"
                    + " failed job: {}", cache, Errors.reason(e));
        }
    }

    /**
     * What one task samples: consecutive shards from shard {@code index}, items {@code [firstItem, firstItem + rows)};
     * every shard but the last holds the job's rows per shard.
     */
    record ShardTask(int index, long firstItem, int rows) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Everything an executor needs to sample a shard of a tabular job, in serialisable form. */
    record ShardJob(String jobFile, String cache, String task, int k, int width, String signal, String fingerprint,
            int batchSize, int rowsPerShard, long workingBytes, Options options) implements ShardWork {
        private static final long serialVersionUID = 1L;

        @Override
        public List<Committed> run(ShardTask t) throws IOException {
            return ShardCommits.sampleAndCommit(this, t);
        }
    }

    /**
     * Everything an executor needs to sample a prompt range of a sequence job, in serialisable form.
     *
     * @param source where the responses come from: an {@code http} server or a local {@code lm}
     * @param jobFile the job file
     * @param cache the cache folder
     * @param fingerprint the prompts' fingerprint on the driver
     * @param k responses per prompt
     * @param vocabularySize V
     * @param topK alternatives per position
     * @param rowsPerShard prompts per shard
     * @param options device, fsync and fault injection
     */
    record SequenceShardJob(Source source, String jobFile, String cache, String fingerprint, int k, int vocabularySize,
            int topK, int rowsPerShard, Options options) implements ShardWork {
        private static final long serialVersionUID = 1L;

        /** The two kinds of sequence teacher a distributed job samples. */
        enum Source {
            /** An OpenAI-compatible server (or several replicas): {@code teacher.type: http}. */
            HTTP,
            /** A Hugging Face folder loaded on every executor: {@code teacher.type: lm}. */
            LM
        }

        @Override
        public List<Committed> run(ShardTask t) throws IOException {
            return source == Source.HTTP ? ShardCommits.sampleHttpAndCommit(this, t)
                    : ShardCommits.sampleLmAndCommit(this, t);
        }
    }

    static Device parseDevice(Path job, String name) {
        try {
            return io.distill4j.data.Devices.parse(name);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(job + ": option --device: " + e.getMessage(), e);
        }
    }

    /**
     * Reads and checks the cache's manifest against the one this run would create, or writes that one; never deletes
     * a shard (an interrupted distributed run may have committed shards the manifest does not list yet).
     */
    private static CacheManifest openManifest(Path cache, CacheManifest fresh, boolean fsync) {
        try {
            Files.createDirectories(cache);
            Path probe = Files.createTempFile(cache, ".probe-", ".tmp");
            Files.delete(probe);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            throw new BadInputException(cache + ": cannot write the cache folder: " + Errors.reason(e), e);
        }
        Path file = cache.resolve(CacheManifest.FILE_NAME);
        if (Files.exists(file)) {
            CacheManifest m = CacheManifest.read(cache);
            check(file, "task", m.task(), fresh.task());
            check(file, "k", m.k(), fresh.k());
            check(file, "width", m.width(), fresh.width());
            check(file, "signal", m.signal(), fresh.signal());
            check(file, "datasetFingerprint", m.datasetFingerprint(), fresh.datasetFingerprint());
            check(file, "sequence", m.sequence(), fresh.sequence());
            Provenance.requireSame(cache, m.teacher(), fresh.teacher());
            return m;
        }
        try {
            fresh.writeAtomically(cache, fsync);
        } catch (IOException e) {
            throw new UncheckedIOException(cache + ": cannot write the manifest: " + Errors.reason(e), e);
        }
        return fresh;
    }

    private static void check(Path file, String field, Object have, Object want) {
        if (!Objects.equals(have, want)) {
            throw new BadInputException(file + ": field " + field + ": cache has " + have + ", this run wants " + want
                    + " (use a new cache directory)");
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}

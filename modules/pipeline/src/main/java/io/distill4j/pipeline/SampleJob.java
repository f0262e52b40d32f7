package io.distill4j.pipeline;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;
import io.distill4j.data.BadInputException;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.Standardizer;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.datasets.Mnist;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import io.distill4j.teacher.DeepEnsembleTeacher;
import io.distill4j.teacher.DeterministicTeacher;
import io.distill4j.teacher.LaplaceTeacher;
import io.distill4j.teacher.LastLayerLaplace;
import io.distill4j.teacher.McDropoutTeacher;
import io.distill4j.teacher.TeacherOutput;
import io.distill4j.teacher.OutputNoiseTeacher;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.Teacher;
import io.distill4j.teacher.TeacherSampler;
import io.distill4j.teacher.http.HttpSequenceTeacher;
import io.distill4j.teacher.http.HttpTeacher;
import io.distill4j.teacher.lm.CausalLmTeacher;
import io.distill4j.teacher.lm.SamplingConfig;
import io.distill4j.teacher.sequence.Prompts;
import io.distill4j.teacher.sequence.SequenceTeacherSampler;
import io.distill4j.trainer.BatchTargets;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.models.Mlp;
import io.distill4j.trainer.StudentTrainer;
import io.distill4j.trainer.TrainingSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs a {@link SampleSpec}: loads the data, loads or trains the teacher model(s), builds the teacher and
 * fills (or resumes) the cache; for a language-model job, reads the prompts and fills a sequence cache
 * from an HTTP server or a local Hugging Face model folder.
 *
 * <p>A teacher trained by the job is saved next to the cache, in {@code <cache>-teacher/} (an ensemble's
 * members in {@code member-<m>/} below it), and loaded from there when the job is run again, so a resumed
 * job continues with the very weights it started with.
 */
public final class SampleJob {

    private SampleJob() {
    }

    /**
     * What a run did.
     *
     * @param cache the cache directory
     * @param items the items in the cache at the end
     * @param resumedFrom the items it held at the start
     * @param k samples per item
     * @param seconds the sampling time (teacher training excluded)
     */
    public record Result(Path cache, long items, long resumedFrom, int k, double seconds) {
        /** @return items sampled per second in this run */
        public double itemsPerSecond() {
            return seconds > 0 ? (items - resumedFrom) / seconds : 0;
        }
    }

    /** The file in a cache folder that records every sampling run that wrote to it, one JSON object a line. */
    public static final String RUNS_FILE = "runs.jsonl";

    /**
     * Records a finished sampling run in its cache folder: appends one line to {@value #RUNS_FILE} (rewritten
     * atomically) with the run's provenance (version, commit, command, engine, device, start and end), the job's
     * configuration, its seed, the dataset fingerprint and the teacher provenance from the manifest, and the items
     * it added. The cache's manifest keeps only what identifies the teacher, so that resuming compares like with
     * like; this file keeps the history of the runs.
     *
     * @param result what the run did
     * @param info its provenance, finished
     * @param config the job's configuration as a plain tree
     * @param seed the sampling seed
     * @throws UncheckedIOException if the file cannot be written
     */
    public static void recordRun(Result result, RunInfo info, java.util.Map<String, Object> config, long seed) {
        try {
            var manifest = TeacherCache.open(result.cache()).manifest();
            java.util.Map<String, Object> line = new java.util.LinkedHashMap<>(info.asMap());
            line.put("config", config);
            line.put("seeds", java.util.Map.of("seed", seed));
            line.put("data", java.util.Map.of("fingerprint", manifest.datasetFingerprint()));
            line.put("teacher", manifest.teacher());
            line.put("k", result.k());
            line.put("resumedFrom", result.resumedFrom());
            line.put("items", result.items());
            Path file = result.cache().resolve(RUNS_FILE);
            byte[] before = java.nio.file.Files.exists(file) ? java.nio.file.Files.readAllBytes(file) : new byte[0];
            byte[] add = (new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(line) + "\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] all = java.util.Arrays.copyOf(before, before.length + add.length);
            System.arraycopy(add, 0, all, before.length, add.length);
            io.distill4j.data.AtomicFiles.write(file, all);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The rows of a job's data: the whole (scaled, standardised) table, its split, and the part sampled.
     *
     * @param all every row
     * @param split the train/test split
     * @param sampled the rows the teacher is run on, in cache item order
     */
    public record Prepared(TabularData all, TabularData.Split split, TabularData sampled) {
    }

    /**
     * Loads, scales, splits and standardises a job's data exactly as {@link #run} does, so that a student
     * trained from the cache later sees the same rows in the same order. A scikit-learn dataset is split at random
     * ({@code testFraction}, {@code splitSeed}); MNIST and Fashion-MNIST keep their own split (the 60,000 training
     * and 10,000 t10k images, in file order) unless the job gives {@code testFraction}, which pools the two and
     * splits them the same way; {@code all} is the training images followed by the test images.
     *
     * @param ds the data settings
     * @return the prepared rows
     * @throws BadInputException naming the file of a missing or malformed dataset file
     */
    public static Prepared prepare(SampleSpec.DataSpec ds) {
        TabularData all;
        TabularData.Split split;
        if (SampleSpec.isImage(ds.dataset())) {
            TabularData train = Mnist.load(ds.dir(), Mnist.Split.TRAIN, ds.dataset());
            TabularData test = Mnist.load(ds.dir(), Mnist.Split.TEST, ds.dataset());
            if (ds.scale() != 1.0) {
                train = train.scale((float) ds.scale());
                test = test.scale((float) ds.scale());
            }
            all = concat(train, test);
            split = Double.isNaN(ds.testFraction()) ? new TabularData.Split(train, test)
                    : all.split(ds.testFraction(), ds.splitSeed());
        } else {
            all = SklearnCsv.load(ds.dataset(), ds.dir());
            if (ds.scale() != 1.0) {
                all = all.scale((float) ds.scale());
            }
            split = all.split(ds.testFraction(), ds.splitSeed());
        }
        if (ds.standardize()) {
            Standardizer z = Standardizer.fit(split.train());
            all = z.apply(all);
            split = new TabularData.Split(z.apply(split.train()), z.apply(split.test()));
        }
        TabularData sampled = switch (ds.sample()) {
            case "train" -> split.train();
            case "test" -> split.test();
            default -> all;
        };
        return new Prepared(all, split, sampled);
    }

    /** The rows of {@code a} followed by those of {@code b} (sharing their arrays). */
    private static TabularData concat(TabularData a, TabularData b) {
        float[][] x = java.util.Arrays.copyOf(a.features(), a.size() + b.size());
        System.arraycopy(b.features(), 0, x, a.size(), b.size());
        int[] y = java.util.Arrays.copyOf(a.labels(), a.size() + b.size());
        System.arraycopy(b.labels(), 0, y, a.size(), b.size());
        return new TabularData(a.name(), x, y, null, a.numClasses());
    }

    /**
     * Runs the job, reading an HTTP teacher's credentials from the process environment.
     *
     * @param spec the job
     * @param device where the teacher runs
     * @param progress told the items done after each batch
     * @param log told one line per stage
     * @return what was done
     */
    public static Result run(SampleSpec spec, Device device, SampleProgress progress, Consumer<String> log) {
        return run(spec, device, progress, log, System::getenv);
    }

    /**
     * Runs the job.
     *
     * @param spec the job
     * @param device where the teacher runs
     * @param progress told the items done after each batch
     * @param log told one line per stage
     * @param env looks up the environment variables an HTTP teacher's {@code apiKeyEnv} and {@code headers}
     *     name ({@code System::getenv}; tests pass a map's {@code get})
     * @return what was done
     * @throws BadInputException naming the file and field, before any request, when a credential cannot be read
     */
    public static Result run(SampleSpec spec, Device device, SampleProgress progress, Consumer<String> log,
            Function<String, String> env) {
        Folders.requireCreatable(spec.cache(), "the teacher cache (field cache of " + spec.source() + ")");
        if (spec.isSequence()) {
            return runSequence(spec, device, progress, log, env);
        }
        SampleSpec.DataSpec ds = spec.data();
        Prepared prepared = prepare(ds);
        log.accept(String.format(java.util.Locale.ROOT, "%s: %d rows to sample (%s part)", ds.dataset(),
                prepared.sampled().size(), ds.sample()));
        Path saved = savedTeacher(spec);
        return fillDense(spec.source(), spec.teacher(), prepared.split().train(), prepared.sampled(), spec.k(), spec.seed(),
                spec.cache(), saved, new TeacherSampler.Options(spec.batchSize(), spec.rowsPerShard(), (long) spec.memoryBudgetMiB() << 20), device, progress,
                log);
    }

    /**
     * Where a job saves the teacher it trains (and finds it again): {@code <cache>-teacher/} beside the cache.
     *
     * @param spec the job
     * @return the folder
     */
    public static Path savedTeacher(SampleSpec spec) {
        return spec.cache().resolveSibling(spec.cache().getFileName() + "-teacher");
    }

    /**
     * Trains (or loads) a tabular teacher and fills, resumes or completes its cache: the dense half of a sample job,
     * also used by the Java pipeline with data held in memory.
     *
     * @param source names the settings' origin in messages (a file, or "pipeline")
     * @param ts the teacher settings
     * @param train the rows the teacher is trained on
     * @param sampled the rows the teacher is run on, in cache item order
     * @param k samples per row
     * @param seed the sampling seed
     * @param cache the cache folder
     * @param saved where a trained teacher is saved (and found again on a rerun)
     * @param options batch and shard sizes
     * @param device where the teacher runs
     * @param progress told the items done after each batch
     * @param log told one line per stage
     * @return what was done
     */
    public static Result fillDense(String source, SampleSpec.TeacherSpec ts, TabularData train, TabularData sampled, int k,
            long seed, Path cache, Path saved, TeacherSampler.Options options, Device device, SampleProgress progress,
            Consumer<String> log) {
        if (ts.settings() == null) {
            // the settings must fit their memory budget before the teacher is trained (an MC-dropout teacher chunks)
            int width = train.isClassification() ? train.numClasses() : 1;
            String refusal = options.refusal(ts.type().equals("mc-dropout") ? 0 : Teacher.unchunkedBytes(
                    Math.min(options.batchSize(), sampled.size()), train.width(), k, width), k, width);
            if (refusal != null) {
                throw new BadInputException(source + ": field " + (refusal.startsWith("memoryBudget:")
                        ? "memoryBudgetMiB" + refusal.substring("memoryBudget".length()) : refusal));
            }
        }
        try (DenseTeacher built = buildDense(source, ts, train, k, seed, saved, device, log)) {
            Teacher teacher = built.teacher();
            long before = existingItems(cache);
            long start = System.nanoTime();
            TeacherCache filled = TeacherSampler.fill(teacher, sampled.features(), cache, options, progress);
            double seconds = (System.nanoTime() - start) / 1e9;
            return new Result(cache, filled.manifest().items(), before, teacher.k(), seconds);
        }
    }

    /**
     * A tabular teacher built from a job's settings, with the models it holds.
     *
     * @param teacher the teacher
     * @param models its models (one, or an ensemble's members)
     */
    public record DenseTeacher(Teacher teacher, List<Model> models) implements AutoCloseable {
        /** Closes the models, and the teacher when it holds resources of its own. */
        @Override
        public void close() {
            models.forEach(Model::close);
            if (teacher instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    org.apache.logging.log4j.LogManager.getLogger(SampleJob.class).warn("closing the teacher failed: {}",
                            io.distill4j.data.Errors.reason(e));
                }
            }
        }
    }

    /**
     * Builds the tabular teacher of a job, training its model(s) first unless checkpoints are named or a
     * trained teacher is saved in {@code saved} (a new one is saved there): what {@link #fillDense} samples
     * with, and what a distributed engine rebuilds on each worker from the saved weights.
     *
     * @param source names the settings' origin in messages
     * @param ts the teacher settings
     * @param train the rows the teacher is trained on
     * @param k samples per row
     * @param seed the sampling seed
     * @param saved where a trained teacher is saved (and found again)
     * @param device where the teacher runs
     * @param log told one line per stage
     * @return the teacher and its models; the caller closes it
     */
    public static DenseTeacher buildDense(String source, SampleSpec.TeacherSpec ts, TabularData train, int k, long seed,
            Path saved, Device device, Consumer<String> log) {
        boolean classification = train.isClassification();
        int width = classification ? train.numClasses() : 1;
        if (ts.settings() != null) {
            return buildRegistered(ts, train, k, seed, saved, device, log);
        }
        Mlp.Builder arch = Mlp.builder().setInputs(train.width()).setHidden(ts.hidden()).setOutputs(width)
                .optDropout(ts.dropout());
        TeacherOutput output = output(ts, classification);
        log.accept(String.format(java.util.Locale.ROOT, "teacher %s, %s; %d features, %s, k=%d", ts.type(),
                arch.describe(), train.width(), classification ? train.numClasses() + " classes" : "regression", k));
        List<Model> models = new ArrayList<>();
        try {
            int count = ts.type().equals("ensemble") ? ts.members() : 1;
            for (int m = 0; m < count; m++) {
                models.add(model(ts, arch, train, m, count, saved, device, log));
            }
            return new DenseTeacher(teacher(source, ts, k, seed, arch.describe(), output, width, train, models), models);
        } catch (RuntimeException | Error e) {
            models.forEach(Model::close);
            throw e;
        }
    }

    /** A teacher of a type user code registered ({@link Teachers#register}); closed with the returned holder. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static DenseTeacher buildRegistered(SampleSpec.TeacherSpec ts, TabularData train, int k, long seed, Path saved,
            Device device, Consumer<String> log) {
        TeacherType type = Teachers.registered(ts.type());
        if (type == null) {
            throw new IllegalStateException("teacher type '" + ts.type() + "' is no longer registered");
        }
        log.accept("teacher " + ts.type() + " (registered), k=" + k);
        Teacher teacher = type.create(ts.settings(), new TeacherType.Context(train, k, seed, device, saved, log));
        DenseTeacher built = new DenseTeacher(teacher, List.of());
        if (teacher.k() != k) {
            built.close();
            throw new IllegalStateException("teacher type '" + ts.type() + "' made a teacher with k = " + teacher.k()
                    + ", the job asks for " + k);
        }
        return built;
    }

    /**
     * The signal a teacher's cache holds.
     *
     * @param ts the teacher settings
     * @param classification whether the data are a classification
     * @return {@code probabilities}, {@code logits} or {@code values}
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static String signal(SampleSpec.TeacherSpec ts, boolean classification) {
        if (ts.settings() != null) {
            TeacherType type = Teachers.registered(ts.type());
            return type.signal(ts.settings(), classification);
        }
        return output(ts, classification).signal();
    }

    private static TeacherOutput output(SampleSpec.TeacherSpec ts, boolean classification) {
        return ts.output() == null ? (classification ? TeacherOutput.probabilities(ts.temperature()) : TeacherOutput.values())
                : ts.output().equals("probabilities") ? TeacherOutput.probabilities(ts.temperature())
                : ts.output().equals("logits") ? TeacherOutput.logits() : TeacherOutput.values();
    }

    private static Result runSequence(SampleSpec spec, Device device, SampleProgress progress, Consumer<String> log,
            Function<String, String> env) {
        SampleSpec.SequenceSpec seq = spec.sequence();
        List<String> prompts = Prompts.read(seq.prompts(), seq.field());
        long before = existingItems(spec.cache());
        long start;
        long items;
        if (seq.http() != null) {
            HttpTeacher http = httpTeacher(spec, 0, env);
            int others = seq.http().servers().size() - 1;
            log.accept(prompts.size() + " prompts from " + seq.prompts() + "; teacher " + seq.http().baseUri()
                    + seq.http().endpoint().path() + (others == 0 ? "" : " (the first of " + (others + 1) + " servers:"
                    + " one machine's run uses it alone; --engine local[N] or a cluster fans shards out over all)")
                    + ", k=" + spec.k() + ", concurrency " + seq.http().concurrency()
                    + (seq.http().auth().hasApiKey() ? ", " + seq.http().auth().keySource() : ""));
            HttpSequenceTeacher teacher = new HttpSequenceTeacher(http, seq.vocabularySize());
            log.accept("server: " + http.serverInfo() + "; " + (http.negotiate() ? "n=k in one request"
                    : spec.k() + " seeded requests per prompt") + "; vocabulary " + teacher.vocabularySize());
            byte[] tokenizer = teacherTokenizer(spec, http, teacher.vocabularySize(), prompts);
            start = System.nanoTime();
            items = SequenceTeacherSampler.fill(teacher, prompts, spec.cache(), spec.rowsPerShard(), progress);
            keepTokenizer(spec, tokenizer);
        } else {
            try (LmTeacher lm = lmTeacher(spec, device)) {
                log.accept(prompts.size() + " prompts from " + seq.prompts() + "; teacher " + lm.model() + " from "
                        + seq.folder() + ", k=" + spec.k());
                byte[] tokenizer = teacherTokenizer(spec, null, 0, prompts);
                start = System.nanoTime();
                items = SequenceTeacherSampler.fill(lm.teacher(), prompts, spec.cache(), spec.rowsPerShard(), progress);
                keepTokenizer(spec, tokenizer);
            }
        }
        return new Result(spec.cache(), items, before, spec.k(), (System.nanoTime() - start) / 1e9);
    }

    /** A tokenizer fits the server's vocabulary and encodes the first prompts as its {@code /tokenize} does. */
    private static void checkAgainstServer(String field, Path json, HttpTeacher http, int vocabulary,
            List<String> prompts) {
        try (io.distill4j.models.lm.LmTokenizer t = io.distill4j.models.lm.LmTokenizer.load(json)) {
            if (t.vocabSize() > vocabulary) {
                throw new BadInputException(field + " has " + t.vocabSize() + " tokens, the server's vocabulary "
                        + vocabulary + " (another model's tokenizer?)");
            }
            for (String p : prompts.subList(0, Math.min(TOKENIZER_CHECKS, prompts.size()))) {
                int[] mine = t.encode(p);
                int[] served = http.tokenize(p, true);
                if (!java.util.Arrays.equals(mine, served)) {
                    throw new BadInputException(field + " encodes the prompt '" + io.distill4j.data.Errors.snippet(p, 60) + "' as "
                            + io.distill4j.data.Errors.snippet(java.util.Arrays.toString(mine), 60) + ", the server's /tokenize as "
                            + io.distill4j.data.Errors.snippet(java.util.Arrays.toString(served), 60) + " (another model's tokenizer?)");
                }
            }
        }
    }

    /**
     * Keeps the teacher's tokenizer in the cache as {@code tokenizer.json} (atomically), where {@code train} finds it
     * for the students.
     *
     * @param spec the job
     * @param bytes {@link #teacherTokenizer}'s answer; nothing is written when null
     */
    public static void keepTokenizer(SampleSpec spec, byte[] bytes) {
        if (bytes == null) {
            return;
        }
        Path kept = spec.cache().resolve(HfFolder.TOKENIZER);
        try {
            if (!java.nio.file.Files.exists(kept)) {
                io.distill4j.data.AtomicFiles.write(kept, bytes);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(kept + ": cannot write", e);
        }
    }

    /** The probe prompts a job's tokenizer is checked on: its first few. */
    private static final int TOKENIZER_CHECKS = 3;

    /**
     * The teacher's tokenizer a sequence cache keeps as {@code tokenizer.json}, checked before any sampling: a local
     * model's own ({@code teacher.folder}); for an HTTP teacher the file {@code teacher.tokenizer} names (a
     * {@code tokenizer.json}, or a GGUF file whose vocabulary {@link io.distill4j.teacher.gguf.GgufTokenizer}
     * converts), which must fit the server's vocabulary and encode the job's first prompts as the server's
     * {@code /tokenize} does; and, when the cache already keeps one, the same one.
     *
     * @param spec the job
     * @param http the HTTP teacher, or null for a local model
     * @param vocabulary the server's vocabulary size (HTTP)
     * @param prompts the job's prompts
     * @return the {@code tokenizer.json} bytes to keep, or null when an HTTP job names none
     * @throws BadInputException naming {@code teacher.tokenizer} (missing, not a tokenizer, another model's) or the
     *     cache's {@code tokenizer.json} (another teacher's)
     */
    public static byte[] teacherTokenizer(SampleSpec spec, HttpTeacher http, int vocabulary, List<String> prompts) {
        SampleSpec.SequenceSpec seq = spec.sequence();
        byte[] bytes;
        String field = spec.source() + ": field teacher.tokenizer: ";
        try {
            if (http == null) {
                Path own = seq.folder().resolve(HfFolder.TOKENIZER);
                if (!java.nio.file.Files.exists(own)) {
                    return null;
                }
                bytes = java.nio.file.Files.readAllBytes(own);
            } else {
                Path file = seq.tokenizer();
                if (file == null) {
                    return null;
                }
                if (!java.nio.file.Files.isRegularFile(file)) {
                    throw new BadInputException(field + file + ": no such file");
                }
                Path json = io.distill4j.teacher.gguf.GgufTokenizer.asTokenizerJson(file);
                try {
                    checkAgainstServer(field + file, json, http, vocabulary, prompts);
                    bytes = java.nio.file.Files.readAllBytes(json);
                } finally {
                    if (!json.equals(file)) {
                        java.nio.file.Files.deleteIfExists(json);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(spec.source() + ": cannot read the teacher's tokenizer", e);
        }
        Path kept = spec.cache().resolve(HfFolder.TOKENIZER);
        try {
            if (java.nio.file.Files.exists(kept) && !java.util.Arrays.equals(java.nio.file.Files.readAllBytes(kept), bytes)) {
                throw new BadInputException(kept + ": the cache keeps another tokenizer than the job's"
                        + (http == null ? " model folder's" : " teacher.tokenizer") + " (another teacher's cache?)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(kept + ": cannot read", e);
        }
        return bytes;
    }

    /**
     * The local language-model teacher of an {@code lm} job, with the arrays and tokenizer it holds: the model of
     * {@code teacher.folder} loaded once, sampling as the job says. Its items depend only on the prompts, their
     * indices and the job's seed ({@link CausalLmTeacher}), so a distributed engine's task that samples a prompt
     * range with its own instance writes the bytes of a whole run.
     */
    public static final class LmTeacher implements AutoCloseable {
        private final NDManager manager;
        private final HfFolder.Loaded loaded;
        private final CausalLmTeacher teacher;

        private LmTeacher(NDManager manager, HfFolder.Loaded loaded, CausalLmTeacher teacher) {
            this.manager = manager;
            this.loaded = loaded;
            this.teacher = teacher;
        }

        /** @return the teacher */
        public CausalLmTeacher teacher() {
            return teacher;
        }

        /** @return the loaded model */
        public io.distill4j.models.lm.CausalLm model() {
            return loaded.model();
        }

        /** Frees the model's arrays and the tokenizer. */
        @Override
        public void close() {
            try {
                loaded.close();
            } finally {
                manager.close();
            }
        }
    }

    /**
     * Loads the teacher of an {@code lm} job: its Hugging Face folder's model and tokenizer, and its sampling
     * settings (the end id from the model's config unless the job sets one).
     *
     * @param spec the job, of type {@code lm}
     * @param device where the model runs
     * @return the teacher; the caller closes it
     * @throws BadInputException when the folder has no tokenizer
     */
    public static LmTeacher lmTeacher(SampleSpec spec, Device device) {
        SampleSpec.SequenceSpec seq = spec.sequence();
        NDManager manager = NDManager.newBaseManager(device);
        HfFolder.Loaded loaded = null;
        try {
            loaded = HfFolder.load(seq.folder(), manager);
            if (loaded.tokenizer() == null) {
                throw new BadInputException(seq.folder().resolve(HfFolder.TOKENIZER) + ": missing; a local language-model "
                        + "teacher needs the tokenizer its prompts are encoded with");
            }
            SamplingConfig s = seq.sampling();
            int eos = s.eosId() == -2 ? loaded.model().config().eosTokenId() : s.eosId();
            SamplingConfig sampling = new SamplingConfig(s.maxNewTokens(), s.temperature(), s.topK(), s.topP(),
                    s.repetitionPenalty(), s.topLogprobs(), eos);
            return new LmTeacher(manager, loaded, CausalLmTeacher.withTokenizer(loaded.model(), loaded.tokenizer(),
                    spec.k(), sampling, spec.seed()));
        } catch (RuntimeException e) {
            if (loaded != null) {
                loaded.close();
            }
            manager.close();
            throw e;
        }
    }

    /**
     * The HTTP teacher of a language-model job on one of its servers ({@code teacher.server} may list several
     * replicas), its credentials read now; nothing is sent yet.
     *
     * @param spec the job, of type {@code http}
     * @param server the server's index, taken modulo the list's length (a distributed engine's shard index)
     * @param env looks up the environment variables of {@code apiKeyEnv} and {@code headers}
     * @return the teacher
     * @throws BadInputException naming the job file and field when a credential cannot be read
     */
    public static HttpTeacher httpTeacher(SampleSpec spec, int server, Function<String, String> env) {
        try {
            return new HttpTeacher(spec.sequence().http().onServer(server), env);
        } catch (BadInputException e) {
            throw new BadInputException(spec.source() + ": field teacher." + e.getMessage(), e);
        }
    }

    private static long existingItems(Path cache) {
        try {
            return TeacherCache.open(cache).manifest().items();
        } catch (BadInputException e) {
            return 0;
        }
    }

    private static Model model(SampleSpec.TeacherSpec ts, Mlp.Builder arch, TabularData train, int m, int count,
            Path saved, Device device, Consumer<String> log) {
        if (!ts.checkpoints().isEmpty()) {
            Path dir = ts.checkpoints().get(m);
            log.accept("loading teacher checkpoint " + dir);
            return TeacherCheckpoints.load(dir, arch::build, train.width(), device);
        }
        Path dir = count == 1 ? saved : saved.resolve("member-" + m);
        if (TeacherCheckpoints.exists(dir)) {
            log.accept("loading the teacher trained by an earlier run from " + dir);
            return TeacherCheckpoints.load(dir, arch::build, train.width(), device);
        }
        TrainingSpec tr = ts.train();
        long seed = tr.seed() + m;
        log.accept("training the teacher" + (count > 1 ? " member " + m : "") + " for " + tr.epochs() + " epochs (seed "
                + seed + ")");
        TrainingSpec cfg = tr.toBuilder().setDevice(device).setSeed(seed).build();
        Model model;
        if (train.isClassification()) {
            int[] labels = train.labels();
            int classes = train.numClasses();
            BatchTargets targets = (mgr, rows, x, probe) -> {
                int[] y = new int[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    y[i] = labels[rows[i]];
                }
                return new NDList(mgr.create(y).oneHot(classes).toType(DataType.FLOAT32, false));
            };
            model = StudentTrainer.train("teacher", arch.build(), train.features(), targets, new SoftTargetCrossEntropyLoss(),
                    cfg);
        } else {
            double[] y = train.targets();
            BatchTargets targets = (mgr, rows, x, probe) -> {
                float[] v = new float[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    v[i] = (float) y[rows[i]];
                }
                return new NDList(mgr.create(v, new Shape(rows.length, 1)));
            };
            model = StudentTrainer.train("teacher", arch.build(), train.features(), targets, Loss.l2Loss(), cfg);
        }
        try {
            TeacherCheckpoints.save(model, dir);
        } catch (IOException e) {
            model.close();
            throw new UncheckedIOException(dir + ": cannot save the trained teacher", e);
        }
        log.accept("saved the trained teacher to " + dir);
        return model;
    }

    private static Teacher teacher(String source, SampleSpec.TeacherSpec ts, int k, long seed, String describe,
            TeacherOutput output, int width, TabularData train, List<Model> models) {
        return switch (ts.type()) {
            case "mc-dropout" -> McDropoutTeacher.builder(models.get(0)).setSamples(k).setWidth(width).optOutput(output).optSeed(seed).setDescription(describe).build();
            case "deterministic" -> new DeterministicTeacher(models.get(0), k, width, output, describe);
            case "ensemble" -> new DeepEnsembleTeacher(models, width, output, describe);
            case "laplace" -> new LaplaceTeacher(models.get(0), LastLayerLaplace.fit(models.get(0), train.features(),
                    ts.hessian().equals("kron") ? LastLayerLaplace.Structure.KRON : LastLayerLaplace.Structure.DIAGONAL,
                    ts.priorPrecision()), k, output, seed, describe);
            case "output-noise" -> {
                float[][] y = new float[train.size()][1];
                for (int i = 0; i < y.length; i++) {
                    y[i][0] = (float) train.targets()[i];
                }
                if (ts.noiseVariance() != null) {
                    if (ts.noiseVariance().length != width) {
                        throw new BadInputException(source + ": field teacher.noise.variance: needs " + width
                                + " value(s), one per output, got " + ts.noiseVariance().length);
                    }
                    yield OutputNoiseTeacher.absolute(models.get(0), k, ts.noiseVariance(), seed, describe);
                }
                yield OutputNoiseTeacher.relative(models.get(0), k, ts.noiseA(), y, seed, describe);
            }
            default -> throw new IllegalStateException("unknown teacher type " + ts.type());
        };
    }
}

package io.distill4j.pipeline;

import ai.djl.Device;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.Sha256;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.Mlp;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.TeacherSampler;
import io.distill4j.trainer.TrainingSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The teachers a run can distil from ({@link TeacherSource}s): tabular teachers the pipeline trains and samples
 * ({@link #mcDropout}, {@link #deterministic}, {@link #ensemble}, {@link #laplace}), a {@code distill4j sample} job
 * ({@link #sampleJob}) and a cache made earlier ({@link #cache}).
 *
 * <p>The sample job's {@code teacher.type} names are an open registry: the built-in {@link SampleSpec#TYPES}, plus
 * any {@link TeacherType} user code adds with {@link #register}.
 */
public final class Teachers {

    private static final Map<String, TeacherType<?>> REGISTERED = new ConcurrentHashMap<>();

    /** The teacher's default training: 30 epochs of AdamW (1e-3, weight decay 1e-4), batches of 64, seed 0. */
    public static final TrainingSpec DEFAULT_TRAINING = TrainingSpec.builder().setEpochs(30).setBatchSize(64)
            .setLearningRate(1e-3f).optWeightDecay(1e-4f).optLogEvery(0).build();

    private Teachers() {
    }

    /**
     * Registers a teacher type by name, for {@code teacher.type} in sample jobs.
     *
     * @param type the name, not one of the built-in {@link SampleSpec#TYPES} or {@link SampleSpec#SEQUENCE_TYPES}
     * @param teacher the type
     * @throws IllegalArgumentException if the name is blank, built in, or taken by another type
     */
    public static void register(String type, TeacherType<?> teacher) {
        Objects.requireNonNull(teacher, "teacher");
        if (type == null || type.isBlank()) {
            throw new IllegalArgumentException("a teacher type must be a non-blank name");
        }
        if (SampleSpec.TYPES.contains(type) || SampleSpec.SEQUENCE_TYPES.contains(type)) {
            throw new IllegalArgumentException("teacher type '" + type + "' is built in");
        }
        TeacherType<?> before = REGISTERED.putIfAbsent(type, teacher);
        if (before != null && before != teacher) {
            throw new IllegalArgumentException("teacher type '" + type + "' is already registered to " + before);
        }
    }

    /** @return the tabular teacher types a sample job may name: the built-in ones, then the registered ones sorted */
    public static List<String> types() {
        List<String> all = new java.util.ArrayList<>(SampleSpec.TYPES);
        all.addAll(new java.util.TreeSet<>(REGISTERED.keySet()));
        return all;
    }

    /**
     * A registered teacher type.
     *
     * @param type its name
     * @return the type, or null if the name is built in or unknown
     */
    static TeacherType<?> registered(String type) {
        return REGISTERED.get(type);
    }

    /**
     * An MLP teacher with dropout, sampled by MC dropout (Gal &amp; Ghahramani 2016).
     *
     * @param arch its architecture (hidden widths and dropout; inputs and outputs come from the data)
     * @return the recipe
     */
    public static Recipe mcDropout(Mlp.Builder arch) {
        if (!(arch.dropout() > 0)) {
            throw new IllegalArgumentException("an MC-dropout teacher needs dropout > 0, got " + arch.dropout());
        }
        return new Recipe("mc-dropout", arch, 1);
    }

    /**
     * A deterministic MLP teacher: every draw is the same output (the control of the variance experiments).
     *
     * @param arch its architecture
     * @return the recipe
     */
    public static Recipe deterministic(Mlp.Builder arch) {
        return new Recipe("deterministic", arch, 1);
    }

    /**
     * A deep ensemble (Lakshminarayanan et al. 2017): each draw is one member's output, so k is the member count.
     *
     * @param arch each member's architecture
     * @param members the member count, at least 2
     * @return the recipe
     */
    public static Recipe ensemble(Mlp.Builder arch, int members) {
        if (members < 2) {
            throw new IllegalArgumentException("an ensemble needs at least 2 members, got " + members);
        }
        return new Recipe("ensemble", arch, members).samples(members);
    }

    /**
     * An MLP teacher with a last-layer Laplace posterior, sampled from it (Daxberger et al. 2021).
     *
     * @param arch its architecture
     * @return the recipe
     */
    public static Recipe laplace(Mlp.Builder arch) {
        return new Recipe("laplace", arch, 1);
    }

    /**
     * The teacher of a {@code distill4j sample} job: the job is run (or resumed; a complete cache is only checked). A
     * language-model job (teacher type {@code http} or {@code lm}) gives a sequence cache, which only causal-LM
     * students ({@code gpt2}, {@code llama}) learn from.
     *
     * @param spec the job
     * @return the source
     */
    public static TeacherSource sampleJob(SampleSpec spec) {
        Objects.requireNonNull(spec, "spec");
        if (spec.isSequence()) {
            return new SequenceJob(spec);
        }
        return new TeacherSource() {
            @Override
            public String signal(TabularData train) {
                return SampleJob.signal(spec.teacher(), train.isClassification());
            }

            @Override
            public int samplesPerStudent() {
                return spec.k();
            }

            @Override
            public int fixedSamples() {
                return spec.k();
            }

            @Override
            public TeacherCache fill(TabularData.Split data, int samples, Path cacheDir, Device device, Consumer<String> log) {
                SampleJob.run(spec, device, SampleProgress.NONE, log);
                return TeacherCache.open(spec.cache());
            }

            @Override
            public String describe() {
                return "sample job " + spec.source() + " (" + spec.teacher().type() + ", k=" + spec.k() + ", cache "
                        + spec.cache() + ")";
            }
        };
    }

    /**
     * A teacher built by user code (for example trained with its own recipe, or a Bayesian posterior), sampled into
     * the run's cache over the training rows: its k draws per row are what the run distils ({@link Draws#SHARED}
     * shares them; {@link Draws#PER_STUDENT} needs k to hold M students' draws). The caller keeps and closes it.
     *
     * @param teacher the teacher
     * @return the source
     */
    public static TeacherSource of(io.distill4j.teacher.Teacher teacher) {
        Objects.requireNonNull(teacher, "teacher");
        return new TeacherSource() {
            @Override
            public String signal(TabularData train) {
                return teacher.output().signal();
            }

            @Override
            public int samplesPerStudent() {
                return teacher.k();
            }

            @Override
            public int fixedSamples() {
                return teacher.k();
            }

            @Override
            public TeacherCache fill(TabularData.Split data, int samples, Path cacheDir, Device device, Consumer<String> log) {
                log.accept("sampling " + describe() + " over " + data.train().size() + " rows into " + cacheDir);
                return TeacherSampler.fill(teacher, data.train().features(), cacheDir, TeacherSampler.Options.defaults(),
                        SampleProgress.NONE);
            }

            @Override
            public String describe() {
                return String.valueOf(teacher.provenance().getOrDefault("name", "teacher")) + ", k=" + teacher.k();
            }
        };
    }

    /**
     * A cache made earlier, used as it is: it must hold the run's training rows (same fingerprint).
     *
     * @param dir the cache folder
     * @return the source
     */
    public static TeacherSource cache(Path dir) {
        CacheManifest m = TeacherCache.open(dir).manifest();
        return new TeacherSource() {
            @Override
            public String signal(TabularData train) {
                return m.signal();
            }

            @Override
            public int samplesPerStudent() {
                return m.k();
            }

            @Override
            public int fixedSamples() {
                return m.k();
            }

            @Override
            public TeacherCache fill(TabularData.Split data, int samples, Path cacheDir, Device device, Consumer<String> log) {
                return TeacherCache.open(dir);
            }

            @Override
            public String describe() {
                return "cache " + dir + " (" + m.teacher().getOrDefault("name", "teacher") + ", k=" + m.k() + ")";
            }
        };
    }

    /**
     * Checks that a cache holds the run's training rows in order, k or more draws of the right width.
     *
     * @param cache the cache
     * @param train the training rows
     * @param samples the draws the run needs per row
     * @param width the classes or outputs the run expects
     * @param student names the student in messages, e.g. {@code mlp (MLP 64-64, dropout 0.2)}
     * @throws BadInputException naming the cache, the field and both values
     */
    static void check(TeacherCache cache, TabularData train, int samples, int width, String student) {
        CacheManifest m = cache.manifest();
        Path file = cache.dir().resolve(CacheManifest.FILE_NAME);
        if (m.sequenceTask()) {
            throw new BadInputException(file + ": field task: this is a sequence cache; student " + student
                    + " needs a dense cache (classification or regression)");
        }
        if (m.items() != train.size()) {
            throw new BadInputException(file + ": field items: the cache holds " + m.items() + " items but the training"
                    + " part has " + train.size() + " rows; run its sample job to complete it");
        }
        String fp = Sha256.fingerprint(train.features());
        if (!fp.equals(m.datasetFingerprint())) {
            throw new BadInputException(file + ": field datasetFingerprint: " + m.datasetFingerprint()
                    + " does not match the run's training rows (" + fp + ")");
        }
        if (m.width() != width) {
            throw new BadInputException(file + ": field width: the cache has " + m.width() + " outputs per sample, the"
                    + " data " + width);
        }
        if (m.k() < samples) {
            throw new BadInputException(file + ": field k: the run needs " + samples + " draws per row and the cache holds "
                    + m.k() + "; sample more (k), give each student fewer (samples), or share the draws (draws: shared)");
        }
    }

    /**
     * A tabular teacher the pipeline trains on the run's training rows and samples into the run's cache; fluent
     * setters return copies.
     */
    public static final class Recipe implements TeacherSource {
        private final String type;
        private final Mlp.Builder arch;
        private final int members;
        private final int samples;
        private final TrainingSpec training;
        private final long seed;
        private final String output;
        private final float temperature;
        private final int batchSize;

        private Recipe(String type, Mlp.Builder arch, int members) {
            this(type, arch, members, 1, DEFAULT_TRAINING, 0, null, 1f, 512);
        }

        private Recipe(String type, Mlp.Builder arch, int members, int samples, TrainingSpec training, long seed,
                String output, float temperature, int batchSize) {
            this.type = type;
            this.arch = Objects.requireNonNull(arch, "arch");
            this.members = members;
            this.samples = samples;
            this.training = training;
            this.seed = seed;
            this.output = output;
            this.temperature = temperature;
            this.batchSize = batchSize;
        }

        /**
         * Sets the draws each student distils (with {@link Draws#PER_STUDENT} the cache holds M times as many).
         *
         * @param k draws per student, positive
         * @return a copy
         */
        public Recipe samples(int k) {
            if (k <= 0) {
                throw new IllegalArgumentException("samples must be positive, got " + k);
            }
            if ("ensemble".equals(type) && k != members) {
                throw new IllegalArgumentException("an ensemble's draws are its " + members + " members, got " + k);
            }
            return new Recipe(type, arch, members, k, training, seed, output, temperature, batchSize);
        }

        /**
         * Sets how the teacher is trained (its seed is the first member's).
         *
         * @param spec the settings
         * @return a copy
         */
        public Recipe training(TrainingSpec spec) {
            return new Recipe(type, arch, members, samples, Objects.requireNonNull(spec, "spec"), seed, output, temperature,
                    batchSize);
        }

        /**
         * Sets the sampling seed (dropout masks, posterior draws).
         *
         * @param s the seed
         * @return a copy
         */
        public Recipe seed(long s) {
            return new Recipe(type, arch, members, samples, training, s, output, temperature, batchSize);
        }

        /**
         * Caches logits instead of probabilities (for losses that read the teacher's logits).
         *
         * @return a copy
         */
        public Recipe logits() {
            return new Recipe(type, arch, members, samples, training, seed, "logits", temperature, batchSize);
        }

        /**
         * Softens cached probabilities at a temperature.
         *
         * @param t the temperature, positive
         * @return a copy
         */
        public Recipe temperature(float t) {
            if (!(t > 0)) {
                throw new IllegalArgumentException("temperature must be positive, got " + t);
            }
            return new Recipe(type, arch, members, samples, training, seed, output, t, batchSize);
        }

        @Override
        public String signal(TabularData train) {
            return SampleJob.signal(spec(train), train.isClassification());
        }

        @Override
        public int samplesPerStudent() {
            return samples;
        }

        @Override
        public int fixedSamples() {
            return "ensemble".equals(type) ? members : 0;
        }

        @Override
        public TeacherCache fill(TabularData.Split data, int k, Path cacheDir, Device device, Consumer<String> log) {
            TabularData train = data.train();
            SampleJob.fillDense("pipeline", spec(train), train, train, k, seed, cacheDir,
                    cacheDir.resolveSibling(cacheDir.getFileName() + "-teacher"),
                    new TeacherSampler.Options(batchSize, TeacherSampler.Options.defaults().rowsPerShard()), device,
                    SampleProgress.NONE, log);
            return TeacherCache.open(cacheDir);
        }

        private SampleSpec.TeacherSpec spec(TabularData train) {
            String out = output != null ? output : train.isClassification() ? "probabilities" : "values";
            return new SampleSpec.TeacherSpec(type, out, temperature, arch.hidden(), arch.dropout(), List.of(), training,
                    members, "kron", 1.0, Double.NaN, null, null);
        }

        @Override
        public String describe() {
            return type + " teacher, " + arch.describe() + ", trained " + training.epochs() + " epochs";
        }
    }

    /**
     * A language-model sample job as a run's teacher: prompts in, a sequence cache out.
     *
     * @param spec the job
     */
    record SequenceJob(SampleSpec spec) implements TeacherSource {
        @Override
        public String signal(TabularData train) {
            return CacheManifest.SEQUENCE;
        }

        @Override
        public int samplesPerStudent() {
            return spec.k();
        }

        @Override
        public int fixedSamples() {
            return spec.k();
        }

        @Override
        public TeacherCache fill(TabularData.Split data, int samples, Path cacheDir, Device device, Consumer<String> log) {
            SampleJob.run(spec, device, SampleProgress.NONE, log);
            TeacherCache cache = TeacherCache.open(spec.cache());
            if (!cache.manifest().sequenceTask()) {
                throw new BadInputException(spec.cache().resolve(CacheManifest.FILE_NAME) + ": field task: '"
                        + cache.manifest().task() + "', but the sample job " + spec.source() + " is a language-model job");
            }
            return cache;
        }

        @Override
        public String describe() {
            SampleSpec.SequenceSpec q = spec.sequence();
            return "sample job " + spec.source() + " (" + (q.http() != null ? "http " + q.http().baseUri() : "lm " + q.folder())
                    + ", k=" + spec.k() + ", cache " + spec.cache() + ")";
        }
    }
}

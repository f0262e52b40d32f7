package io.distill4j.pipeline;

import ai.djl.Device;
import io.distill4j.data.BadInputException;
import io.distill4j.data.DenseCacheReader;
import io.distill4j.data.Errors;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.loss.DistillationLoss;
import io.distill4j.loss.Registry;
import io.distill4j.loss.TargetBuilder;
import io.distill4j.models.Inference;
import io.distill4j.models.LeastSquares;
import io.distill4j.models.Mlp;
import io.distill4j.models.MlpPreset;
import io.distill4j.models.OlsPreset;
import io.distill4j.models.StudentPreset;
import io.distill4j.trainer.Evaluators;
import io.distill4j.trainer.Metrics;
import io.distill4j.trainer.MultiStudentRun;
import io.distill4j.trainer.TabularBatchSource;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.Validator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One distillation run, the path every entry point takes (the demo, {@code distill4j train}, the experiments, the
 * Java API): data, a teacher sampled k times per input into a {@link TeacherCache}, a target built from each
 * student's draws, the labels its loss declares, M students trained by the {@code TrainingEngine} from M seeds,
 * their metrics with Student-t intervals, the saved students and a model card.
 *
 * <pre>{@code
 * var digits = Datasets.sklearn("digits").scale(1 / 16f).split(0.2, 0);
 * RunResult result = Distillation.builder()
 *         .data(digits)
 *         .teacher(Teachers.mcDropout(Mlp.builder().setHidden(128).optDropout(0.3f)).samples(8))
 *         .target("inverse-variance").loss("soft-ce")
 *         .student(Mlp.builder().setHidden(64).optDropout(0.2f)).students(3)
 *         .training(TrainingSpec.builder().setEpochs(30).build())
 *         .build()
 *         .fit(Path.of("runs/digits"));
 * System.out.println(result.table());
 * }</pre>
 *
 * <p>Causal-LM students take the same path: a language-model sample job as the teacher
 * ({@link Teachers#sampleJob} of a job with teacher type {@code http} or {@code lm}, which fills a sequence cache), a
 * {@code gpt2} or {@code llama} preset ({@link io.distill4j.models.lm.LmPreset}, vocabulary, context and BOS/EOS from
 * the teacher) or a Hugging Face folder ({@link Builder#student(Path)}), and {@link Builder#lm} for the mode (SFT on
 * one, all, the mean-embedding or the inverse-variance answer, or token-level top-K KD mixed with cross-entropy):
 * <pre>{@code
 * RunResult r = Distillation.builder()
 *         .teacher(Teachers.sampleJob(SampleSpec.load(Path.of("qa-llama-server.yaml"))))
 *         .student(StudentPresets.read(Path.of("models/llama-tiny.yaml")))
 *         .lm(LmOptions.of(LmOptions.Mode.TOKEN_KD)).students(3)
 *         .training(TrainingSpec.builder().setEpochs(3).setBatchSize(8).setLearningRate(5e-4f).build())
 *         .build().fit(Path.of("runs/qa"));
 * }</pre>
 * Each student is saved as a Hugging Face folder ({@code students/seed-N}: config.json, model.safetensors,
 * tokenizer.json, metrics.json) and scored on held-out prompts (NLL and perplexity of the teacher's answers).
 *
 * <p>Teacher draws: with {@link Draws#PER_STUDENT} (the default) student s distils its own k draws, so the cache
 * holds M x k samples per input; with {@link Draws#SHARED} all students distil the same k. Batches stream from the
 * cache's shards: memory does not grow with the cache.
 */
public final class Distillation {

    private static final Logger LOG = LogManager.getLogger(Distillation.class);

    final String name;
    private final TabularData.Split data;
    private final TabularData validation;
    private final String validationMetric;
    private final Map<String, TabularData> extraTests;
    private final boolean stacked;
    final TeacherSource teacher;
    private final String targetName;
    private final TargetBuilder target;
    private final String lossName;
    private final DistillationLoss loss;
    final StudentPreset student;
    final List<Long> seeds;
    final TrainingSpec training;
    final Draws draws;
    final int samples;
    private final int studentPasses;
    private final StudentEstimates studentEstimate;
    private final int evaluationPasses;
    private final int topK;
    private final Path cacheDir;
    final boolean resume;
    final boolean saveStudents;
    final String command;
    final Consumer<String> log;
    final io.distill4j.trainer.lm.LmOptions lm;
    final Path tokenizer;
    final Path studentFolder;
    final io.distill4j.models.lm.LoraConfig lora;

    private Distillation(Builder b) {
        this.name = b.name != null ? b.name : b.targetName;
        this.data = b.data;
        this.validation = b.validation;
        this.validationMetric = b.validationMetric;
        this.extraTests = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.extraTests));
        this.stacked = b.stacked;
        this.teacher = b.teacher;
        this.targetName = b.targetName;
        this.target = b.target;
        this.lossName = b.lossName;
        this.loss = b.loss;
        this.student = b.student;
        this.seeds = List.copyOf(b.seeds);
        this.training = b.training;
        this.draws = b.draws;
        this.samples = b.samples;
        this.studentPasses = b.studentPasses;
        this.studentEstimate = b.studentEstimate;
        this.evaluationPasses = b.evaluationPasses;
        this.topK = b.topK;
        this.cacheDir = b.cacheDir;
        this.resume = b.resume;
        this.saveStudents = b.saveStudents;
        this.command = b.command;
        this.log = b.log;
        this.lm = b.lm;
        this.tokenizer = b.tokenizer;
        this.studentFolder = b.studentFolder;
        this.lora = b.lora;
    }

    /** @return a new builder (extensions on the class path are registered first: {@link Extension}) */
    public static Builder builder() {
        Extension.loadInstalled();
        return new Builder();
    }

    /** @return the run's name (the target's, unless set) */
    public String name() {
        return name;
    }

    /** @return the students' seeds */
    public List<Long> seeds() {
        return seeds;
    }

    /** @return the draws each student distils per row */
    public int samplesPerStudent() {
        return samples;
    }

    /** @return the draws per row the cache must hold: M x k per student, or k when shared */
    public int cacheSamples() {
        return draws == Draws.PER_STUDENT ? seeds.size() * samples : samples;
    }

    /**
     * The index of a student's first draw.
     *
     * @param student the student's position in {@link #seeds()}
     * @return s x k with per-student draws, else 0
     */
    public int firstDraw(int student) {
        return draws == Draws.PER_STUDENT ? student * samples : 0;
    }

    /**
     * Runs the pipeline: fills (or resumes, or checks) the teacher cache, trains and evaluates every student, saves
     * them, and writes {@code results.md}, {@code results.json}, {@code model-card.md} and {@code model-card.json}.
     *
     * @param runDir the run folder (created; the cache goes to {@code runDir/teacher-cache} unless set)
     * @return the result
     * @throws BadInputException for an unusable run folder or cache, before any training
     */
    public RunResult fit(Path runDir) {
        return fit(runDir, null);
    }

    /**
     * The seeds whose students {@link #fitStudents} can train apart (one task each on a cluster): every seed of a
     * run that saves its students one at a time (tabular students, or language-model students saved as Hugging Face
     * folders, a LoRA student's with its {@code base/} and {@code adapter/}, from which its trained block is read
     * back); none for a stacked run (its students train at once) or a run that does not save students: such a run is
     * one piece ({@link #fit}).
     *
     * @return the seeds, or an empty list
     */
    public List<Long> separableSeeds() {
        if (stacked || !saveStudents) {
            return List.of();
        }
        return seeds;
    }

    /**
     * Trains the students of some seeds into the run folder apart from the others ({@code students/seed-N/}, with
     * {@code outcome.json}: {@link StudentOutcomes}), skipping students trained earlier. When {@code subset} holds
     * every seed, the run is then merged exactly as {@link #fit} merges it (the same {@link MultiStudentRun#run}, which
     * reads the stored students back in seed order) and its results, model card and aggregates written: so a cluster
     * trains one task per seed and then one merge per run, and the result equals {@link #fit}'s.
     *
     * @param runDir the run folder (shared by the tasks of one run)
     * @param subset seeds of this run, from {@link #separableSeeds}
     * @return the result when {@code subset} holds every seed, else null
     * @throws IllegalStateException for a run whose seeds cannot be trained apart
     */
    public RunResult fitStudents(Path runDir, List<Long> subset) {
        if (separableSeeds().isEmpty()) {
            throw new IllegalStateException(name + ": a stacked run or one that does not save its students is trained in"
                    + " one piece (fit)");
        }
        return fit(runDir, List.copyOf(subset));
    }

    private RunResult fit(Path runDir, List<Long> apart) {
        if (teacher instanceof Teachers.SequenceJob job) {
            return new LmRun(this, job.spec()).fit(runDir, apart);
        }
        Device device = training.device();
        RunInfo info = RunInfo.start(command, device);
        checkFolders(runDir);
        TabularData train = data.train();
        int width = train.isClassification() ? train.numClasses() : 1;
        Path cache = cacheDir != null ? cacheDir : runDir.resolve("teacher-cache");
        log.accept(String.format(java.util.Locale.ROOT, "%s: %d students x %d draws (%s) of %s; target %s, loss %s",
                name, seeds.size(), samples, draws.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'),
                teacher.describe(), targetName, lossName));
        TeacherCache filled = teacher.fill(data, cacheSamples(), cache, device, log);
        Teachers.check(filled, train, cacheSamples(), width, student.modelType());
        String signal = filled.manifest().signal();
        String misfit = LabelAssembler.check(loss, lossName, target, targetName, signal, width, train.isClassification(),
                topK);
        misfit = misfit != null ? misfit : estimateMisfit(lossName, target, targetName, studentEstimate,
                student instanceof OlsPreset, signal, train.size(), width);
        if (misfit != null) {
            throw new BadInputException(misfit);
        }
        LabelAssembler assembler = new LabelAssembler(loss, topK);
        int outputs = loss.predictionWidth(width);
        StudentPreset complete = student.complete(train.width(), outputs);
        Path studentsDir = runDir.resolve("students");
        MultiStudentRun.StudentScorer evaluate = evaluator(train, width, outputs);
        Rescue rescue = new Rescue(runDir);
        MultiStudentRun.StudentScorer evaluator = (seed, model) -> {
            MultiStudentRun.StudentScore ev = evaluate.score(seed, model);
            if (saveStudents) {
                String folder = "students/seed-" + seed;
                try {
                    SavedStudent.save(runDir.resolve(folder), complete, model, seed, ev.metrics());
                } catch (java.io.UncheckedIOException e) {
                    SavedStudent.save(rescue.take(e).resolve(folder), complete, model, seed, ev.metrics());
                }
            }
            return ev;
        };
        DenseCacheReader reader = filled.dense(false);
        int[] labels = train.isClassification() ? train.labels() : null;
        MultiStudentRun.Builder b = MultiStudentRun.builder().optName(name).setSeeds(seeds)
                .setLoss(loss).setSpec(training).setScorer(evaluator).optResume(resume).optParameterVariance(true);
        if (complete instanceof OlsPreset ols) {
            LeastSquares problem = ols.problem(train.features());
            b.setStudents(seed -> complete.build(train.width(), outputs)).optClosedForm((seed, model) -> fitClosedForm(
                    ols, problem, new CacheTargets(reader, firstDraw(seeds.indexOf(seed)), samples, target, assembler,
                            labels, signal, studentEstimate.start(studentPasses, problem, train.size(), width)), model, train));
        } else if (stacked) {
            List<CacheTargets> perStudent = new ArrayList<>();
            for (int s = 0; s < seeds.size(); s++) {
                perStudent.add(new CacheTargets(reader, firstDraw(s), samples, target, assembler, labels, signal,
                        studentEstimate.start(studentPasses, null, train.size(), width)));
            }
            MlpPreset p = (MlpPreset) complete;
            b.optStacked(new MultiStudentRun.Stacked(io.distill4j.models.StackedMlp.builder().setStudents(seeds.size())
                    .setInputs(p.inputs()).setHidden(p.hidden().stream().mapToInt(Integer::intValue).toArray())
                    .setOutputs(p.outputs()).optDropout(p.dropout()).build(), train.features(),
                    new StackedCacheLabels(perStudent), training.batchSize()));
        } else {
            b.setStudents(seed -> complete.build(train.width(), outputs))
                    .setDataPerStudent(seed -> new TabularBatchSource(train.features(), new CacheTargets(reader,
                            firstDraw(seeds.indexOf(seed)), samples, target, assembler, labels, signal,
                            studentEstimate.start(studentPasses, null, train.size(), width)), training.batchSize(), device));
        }
        if (validation != null) {
            b.optValidator(validator(width));
        }
        if (apart != null) {
            b.optStore(new StudentOutcomes(runDir, describe(filled, complete)));
        }
        MultiStudentRun run = b.build();
        if (apart != null && !apart.containsAll(seeds)) {
            int trained = run.trainSeeds(apart);
            log.accept(name + ": seeds " + apart + ": " + trained + " trained now, " + (apart.size() - trained)
                    + " earlier");
            return null;
        }
        MultiStudentRun.Result result = run.run();
        RunResult out = new RunResult(runDir, name, info.finish(), describe(filled, complete), result);
        if (!rescue.taken()) {
            try {
                out.write();
                return out;
            } catch (java.io.UncheckedIOException e) {
                rescue.take(e);
            }
        }
        try {
            new RunResult(rescue.take(null), name, out.info(), out.settings(), result).write();
        } catch (java.io.UncheckedIOException e) {
            throw new BadInputException(runDir + ": cannot write the run folder after training (" + rescue.reason()
                    + ") nor the fallback folder " + rescue.dir + " (" + Errors.reason(e) + ")", e);
        }
        throw new BadInputException(runDir + ": cannot write the run folder after training (" + rescue.reason()
                + "); nothing is lost: the results" + (saveStudents ? " and the students not saved there" : "")
                + " were written to " + rescue.dir + " instead");
    }

    /**
     * Fits a closed-form student: its targets over every training row at once (the run's target builder on the
     * student's draws), then least squares on them, the coefficients set into its block.
     *
     * @return the mean squared residual on the targets
     */
    private static double fitClosedForm(OlsPreset ols, LeastSquares problem, CacheTargets targets, ai.djl.Model model,
            TabularData train) {
        int n = train.size();
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
        }
        double[][] t;
        try (ai.djl.ndarray.NDManager m = model.getNDManager().newSubManager()) {
            ai.djl.ndarray.NDArray built = targets.targets(m, rows, null, null);
            int w = (int) built.getShape().get(1);
            float[] flat = built.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
            t = new double[n][w];
            for (int i = 0; i < n; i++) {
                for (int d = 0; d < w; d++) {
                    t[i][d] = flat[i * w + d];
                }
            }
        }
        double[][] coefficients = problem.coefficients(t);
        model.getBlock().initialize(model.getNDManager(), ai.djl.ndarray.types.DataType.FLOAT32,
                new ai.djl.ndarray.types.Shape(1, train.width()));
        ols.setCoefficients(model.getBlock(), coefficients);
        double[][] fit = problem.fitted(t);
        double sq = 0;
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < t[i].length; d++) {
                sq += (t[i][d] - fit[i][d]) * (t[i][d] - fit[i][d]);
            }
        }
        return sq / ((double) n * t[0].length);
    }

    /** @return why a target's student estimate cannot come from the source for this run, or null */
    static String estimateMisfit(String lossName, TargetBuilder target, String targetName, StudentEstimates source,
            boolean closedForm, String signal, int rows, int width) {
        if (!target.needsStudentEstimate()) {
            return null;
        }
        String why = source.misfit(closedForm, signal, rows, width);
        return why == null ? null : "loss '" + lossName + "' with target '" + targetName + "': the target fuses the"
                + " teacher with the student's own estimate (studentEstimate " + source.describe() + "): " + why;
    }

    /**
     * Where a run's results go when its folder fails after training (it was checked before): a new folder under the
     * system's temporary folder, made on first use and named in the error.
     */
    private static final class Rescue {
        private final Path runDir;
        private Path dir;
        private Throwable first;

        Rescue(Path runDir) {
            this.runDir = runDir;
        }

        /** @return whether a write has failed */
        boolean taken() {
            return dir != null;
        }

        /** @return the first failure's reason */
        String reason() {
            return Errors.reason(first);
        }

        /**
         * Records a failure (the first one is kept) and returns the fallback folder.
         *
         * @param failure the write that failed, or null
         * @return the folder, created
         */
        synchronized Path take(Throwable failure) {
            if (first == null && failure != null) {
                first = failure;
                LOG.warn("{}: {}; writing to a fallback folder instead", runDir, Errors.reason(failure));
            }
            if (dir == null) {
                try {
                    Path base = Path.of(System.getProperty("java.io.tmpdir"));
                    dir = Files.createTempDirectory(base, "distill4j-rescue-" + runDir.getFileName() + "-");
                } catch (IOException | RuntimeException e) {
                    throw new BadInputException(runDir + ": cannot write the run folder after training ("
                            + Errors.reason(first) + ") nor a fallback folder in the temporary folder ("
                            + Errors.reason(e) + "); the trained students are lost", e);
                }
            }
            return dir;
        }
    }

    /**
     * Checks, before any work, that every folder the run will write can be created, and creates and probes the run
     * folder.
     *
     * @param runDir the run folder
     * @throws BadInputException naming the folder and the reason
     */
    void checkFolders(Path runDir) {
        if (cacheDir != null) {
            Folders.requireCreatable(cacheDir, "the teacher cache");
        }
        if (training.checkpointDir() != null) {
            Folders.requireCreatable(training.checkpointDir(), "the checkpoint folder (training checkpointDir)");
        }
        if (training.tracking() != null && training.tracking().dir() != null) {
            Folders.requireCreatable(training.tracking().dir(), "the tracking folder (training tracking.dir)");
        }
        Folders.requireWritable(runDir, "the run folder");
    }

    private Validator validator(int width) {
        String metric = training.earlyStopping() != null ? training.earlyStopping().metric() : validationMetric;
        if (!validation.isClassification()) {
            double[][] y = column(validation);
            return model -> Metrics.mse(Metrics.toDouble(firstColumns(Inference.outputs(model, validation.features(),
                    false), width)), y);
        }
        return Evaluators.classificationValidator(validation.features(), validation.labels(), metric == null ? "nll" : metric);
    }

    private MultiStudentRun.StudentScorer evaluator(TabularData train, int width, int outputs) {
        MultiStudentRun.StudentScorer main = scorer(data.test(), width);
        if (extraTests.isEmpty()) {
            return main;
        }
        Map<String, MultiStudentRun.StudentScorer> more = new LinkedHashMap<>();
        extraTests.forEach((n, rows) -> more.put(n, scorer(rows, width)));
        return (seed, model) -> {
            MultiStudentRun.StudentScore first = main.score(seed, model);
            Map<String, Double> m = new LinkedHashMap<>(first.metrics());
            more.forEach((n, sc) -> sc.score(seed, model).metrics().forEach((k, v) -> m.put(n + "/" + k, v)));
            return new MultiStudentRun.StudentScore(m, first.predictions());
        };
    }

    /** Scores a student on held-out rows: classification metrics, or the MSE of the first output. */
    private MultiStudentRun.StudentScorer scorer(TabularData rows, int width) {
        if (rows.isClassification()) {
            return Evaluators.classification(rows.features(), rows.labels(), null, evaluationPasses);
        }
        double[][] y = column(rows);
        return (seed, model) -> {
            double[][] p = Metrics.toDouble(firstColumns(Inference.outputs(model, rows.features(), false), width));
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("mse", Metrics.mse(p, y));
            return new MultiStudentRun.StudentScore(m, p);
        };
    }

    private static double[][] column(TabularData t) {
        double[][] y = new double[t.size()][1];
        for (int i = 0; i < y.length; i++) {
            y[i][0] = t.targets()[i];
        }
        return y;
    }

    private static float[][] firstColumns(float[][] rows, int width) {
        if (rows.length == 0 || rows[0].length == width) {
            return rows;
        }
        float[][] out = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            out[i] = java.util.Arrays.copyOf(rows[i], width);
        }
        return out;
    }

    private Map<String, Object> describe(TeacherCache cache, StudentPreset complete) {
        Map<String, Object> m = new LinkedHashMap<>();
        TabularData train = data.train();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", train.name());
        d.put("trainRows", train.size());
        d.put("testRows", data.test().size());
        d.put("features", train.width());
        d.put("task", train.isClassification() ? "classification" : "regression");
        if (train.isClassification()) {
            d.put("classes", train.numClasses());
        }
        d.put("fingerprint", cache.manifest().datasetFingerprint());
        m.put("data", d);
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("source", teacher.describe());
        t.put("cache", cache.dir().toString());
        t.put("provenance", cache.manifest().teacher());
        t.put("signal", cache.manifest().signal());
        t.put("samplesPerStudent", samples);
        t.put("samplesInCache", cache.manifest().k());
        t.put("draws", draws.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        m.put("teacher", t);
        m.put("target", targetName);
        m.put("loss", lossName);
        m.put("lossLabels", loss.labels().stream().map(Enum::name).toList());
        Map<String, Object> s = new LinkedHashMap<>(io.distill4j.models.StudentPresets.toMap(complete));
        s.put("description", complete.describe());
        m.put("student", s);
        m.put("stacked", stacked);
        if (validation != null) {
            m.put("validation", Map.of("rows", validation.size(), "fingerprint", io.distill4j.data.Sha256.fingerprint(
                    validation.features())));
        }
        if (!extraTests.isEmpty()) {
            Map<String, Object> tests = new LinkedHashMap<>();
            extraTests.forEach((n, rows) -> tests.put(n, Map.of("rows", rows.size(), "fingerprint",
                    io.distill4j.data.Sha256.fingerprint(rows.features()))));
            m.put("extraTests", tests);
        }
        m.put("studentPasses", studentPasses);
        if (target.needsStudentEstimate()) {
            m.put("studentEstimate", studentEstimate.describe());
        }
        m.put("evaluationPasses", evaluationPasses);
        m.put("training", training.asMap());
        m.put("seeds", seeds);
        return m;
    }

    /** Builder of a {@link Distillation}: {@code set}-style fluent methods; {@link #build()} validates. */
    public static final class Builder {
        private String name;
        private TabularData.Split data;
        private TabularData validation;
        private String validationMetric;
        private final Map<String, TabularData> extraTests = new LinkedHashMap<>();
        private boolean stacked;
        private TeacherSource teacher;
        private String targetName = "mean";
        private TargetBuilder target;
        private Map<String, ?> targetOptions = Map.of();
        private String lossName;
        private DistillationLoss loss;
        private Map<String, ?> lossOptions = Map.of();
        private StudentPreset student;
        private List<Long> seeds;
        private int students = 3;
        private TrainingSpec training = TrainingSpec.builder().build();
        private Draws draws = Draws.PER_STUDENT;
        private int samples;
        private int studentPasses = 4;
        private StudentEstimates studentEstimate;
        private int evaluationPasses = 8;
        private int topK = LabelAssembler.DEFAULT_TOP_K;
        private Path cacheDir;
        private boolean resume;
        private boolean saveStudents = true;
        private String command = RunInfo.commandLine();
        private Consumer<String> log = LOG::info;
        private io.distill4j.trainer.lm.LmOptions lm;
        private Path tokenizer;
        private Path studentFolder;
        private io.distill4j.models.lm.LoraConfig lora;

        private Builder() {
        }

        /** Seeds 1..M when only a count was given; checks that they are distinct. */
        private void resolveSeeds() {
            if (seeds == null) {
                if (students <= 0) {
                    throw new IllegalArgumentException("students must be positive, got " + students);
                }
                List<Long> s = new ArrayList<>();
                for (long i = 1; i <= students; i++) {
                    s.add(i);
                }
                seeds = s;
            }
            if (seeds.isEmpty() || new java.util.HashSet<>(seeds).size() != seeds.size()) {
                throw new IllegalArgumentException("seeds must be distinct and at least one, got " + seeds);
            }
        }

        /**
         * Sets the data: the teacher and students learn from the training part, students are scored on the test part.
         *
         * @param split the split
         * @return this builder
         */
        public Builder data(TabularData.Split split) {
            this.data = split;
            return this;
        }

        /**
         * Sets held-out rows for validation during training (early stopping); never the test part.
         *
         * @param rows the validation rows
         * @return this builder
         */
        public Builder validation(TabularData rows) {
            return validation(rows, null);
        }

        /**
         * Sets held-out rows scored during training: each student's validation curve (one value per validation,
         * every {@code training.validateEvery} updates or at each epoch end) is in its training result, and early
         * stopping watches them; never the test part.
         *
         * @param rows the validation rows
         * @param metric what to score: {@code accuracy}, {@code nll}, {@code ece} or {@code brier} for classification
         *     (null: the early-stopping rule's metric, else {@code nll}); regression always scores the MSE
         * @return this builder
         */
        public Builder validation(TabularData rows, String metric) {
            this.validation = rows;
            this.validationMetric = metric;
            return this;
        }

        /**
         * Adds further held-out rows every student is scored on, beside the test part (for example shifted or
         * corrupted copies of it); their metrics are named {@code name/metric} in the results.
         *
         * @param testName a name, unique in the run
         * @param rows the rows, of the training part's width and task
         * @return this builder
         */
        public Builder test(String testName, TabularData rows) {
            if (testName == null || testName.isBlank() || extraTests.containsKey(testName)) {
                throw new IllegalArgumentException("test sets need distinct, non-blank names, got '" + testName + "'");
            }
            extraTests.put(testName, Objects.requireNonNull(rows, "rows"));
            return this;
        }

        /**
         * Trains the M students at once as one stack ({@link io.distill4j.models.StackedMlp} on
         * {@link io.distill4j.trainer.StackedStudents}): one pass of the engine for all of them, each on its own
         * labels and data order, each then taken out, scored and saved as an MLP of its own. The stack starts from
         * the first seed; student s's data order comes from that seed and s. Needs an MLP student.
         *
         * @param enabled whether to stack
         * @return this builder
         */
        public Builder stacked(boolean enabled) {
            this.stacked = enabled;
            return this;
        }

        /**
         * Sets the teacher.
         *
         * @param source a recipe from {@link Teachers}, a sample job or a cache
         * @return this builder
         */
        public Builder teacher(TeacherSource source) {
            this.teacher = source;
            return this;
        }

        /**
         * Sets the target builder by registry name.
         *
         * @param registryName e.g. {@code single}, {@code mean}, {@code inverse-variance}
         * @return this builder
         */
        public Builder target(String registryName) {
            return target(registryName, Map.of());
        }

        /**
         * Sets the target builder by registry name, with options.
         *
         * @param registryName the name
         * @param options its options
         * @return this builder
         */
        public Builder target(String registryName, Map<String, ?> options) {
            this.targetName = registryName;
            this.targetOptions = options == null ? Map.of() : options;
            this.target = null;
            return this;
        }

        /**
         * Sets a target builder object.
         *
         * @param builder the target builder
         * @return this builder
         */
        public Builder target(TargetBuilder builder) {
            this.target = builder;
            this.targetName = builder.name();
            return this;
        }

        /**
         * Sets the loss by registry name.
         *
         * @param registryName e.g. {@code soft-ce}, {@code hinton-kd}, {@code kl}
         * @return this builder
         */
        public Builder loss(String registryName) {
            return loss(registryName, Map.of());
        }

        /**
         * Sets the loss by registry name, with options.
         *
         * @param registryName the name
         * @param options its options
         * @return this builder
         */
        public Builder loss(String registryName, Map<String, ?> options) {
            this.lossName = registryName;
            this.lossOptions = options == null ? Map.of() : options;
            this.loss = null;
            return this;
        }

        /**
         * Sets a loss object.
         *
         * @param l the loss
         * @return this builder
         */
        public Builder loss(DistillationLoss l) {
            this.loss = l;
            this.lossName = l.getName();
            return this;
        }

        /**
         * Sets the student architecture; inputs and outputs left open come from the data and the loss.
         *
         * @param arch an MLP builder
         * @return this builder
         */
        public Builder student(Mlp.Builder arch) {
            return student(MlpPreset.of(arch));
        }

        /**
         * Sets the student architecture from a preset.
         *
         * @param preset the preset
         * @return this builder
         */
        public Builder student(StudentPreset preset) {
            this.student = preset;
            return this;
        }

        /**
         * Sets a causal-LM student that starts from a Hugging Face folder's weights (config.json, model.safetensors;
         * its tokenizer.json is used when the run names none).
         *
         * @param hfFolder the folder
         * @return this builder
         * @throws io.distill4j.data.BadInputException if its config.json is missing or not a gpt2 or llama model
         */
        public Builder student(Path hfFolder) {
            this.student = io.distill4j.models.lm.LmPreset.of(io.distill4j.models.lm.io.HfFolder.readConfig(hfFolder));
            this.studentFolder = hfFolder;
            return this;
        }

        /**
         * Sets what causal-LM students learn from a sequence cache (default: SFT on all their draws).
         *
         * @param options the mode, KD weight, context, packing and held-out share
         * @return this builder
         */
        public Builder lm(io.distill4j.trainer.lm.LmOptions options) {
            this.lm = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * Trains causal-LM students as LoRA adapters on their frozen weights (a preset's random ones or a Hugging
         * Face folder's), in every LM mode; each student is saved as the merged Hugging Face folder plus its
         * adapter in peft's format ({@code adapter/}).
         *
         * @param config the adapters' rank, alpha, dropout and targets; null for full fine-tuning (the default)
         * @return this builder
         */
        public Builder lora(io.distill4j.models.lm.LoraConfig config) {
            this.lora = config;
            return this;
        }

        /**
         * Sets the teacher's tokenizer ({@code tokenizer.json}) that causal-LM students reuse; default: the local
         * teacher's, else the student folder's.
         *
         * @param file the tokenizer file
         * @return this builder
         */
        public Builder tokenizer(Path file) {
            this.tokenizer = file;
            return this;
        }

        /**
         * Sets the number of students, with seeds 1 .. m.
         *
         * @param m the number, positive
         * @return this builder
         */
        public Builder students(int m) {
            this.students = m;
            this.seeds = null;
            return this;
        }

        /**
         * Sets the students' seeds, one student each.
         *
         * @param s distinct seeds
         * @return this builder
         */
        public Builder seeds(List<Long> s) {
            this.seeds = List.copyOf(s);
            return this;
        }

        /**
         * Sets the students' training.
         *
         * @param spec the settings (each student gets its own seed)
         * @return this builder
         */
        public Builder training(TrainingSpec spec) {
            this.training = spec;
            return this;
        }

        /**
         * Sets how the students share the teacher's draws.
         *
         * @param d {@link Draws#PER_STUDENT} (default) or {@link Draws#SHARED}
         * @return this builder
         */
        public Builder draws(Draws d) {
            this.draws = d;
            return this;
        }

        /**
         * Sets the draws each student distils per row (default: the teacher's {@code samples}, or for a fixed cache
         * its k divided among the students).
         *
         * @param k draws per student, positive
         * @return this builder
         */
        public Builder samples(int k) {
            this.samples = k;
            return this;
        }

        /**
         * Sets the MC-dropout passes of the student for targets that fuse with its own estimate.
         *
         * @param passes at least 2 (default 4)
         * @return this builder
         */
        public Builder studentPasses(int passes) {
            this.studentPasses = passes;
            return this;
        }

        /**
         * Sets where targets that fuse the teacher with the student's own estimate get it (default: the student's
         * MC-dropout passes, or for a student fitted in closed form its pilot fit); see {@link StudentEstimates}.
         *
         * @param source the source
         * @return this builder
         */
        public Builder studentEstimate(StudentEstimates source) {
            this.studentEstimate = Objects.requireNonNull(source, "source");
            return this;
        }

        /**
         * Sets the MC-dropout passes for each student's intra-student variance on the test part.
         *
         * @param passes 0 to skip, else at least 2 (default 8)
         * @return this builder
         */
        public Builder evaluationPasses(int passes) {
            this.evaluationPasses = passes;
            return this;
        }

        /**
         * Sets K for losses that read a top-K of the target (sparse top-K KL on a dense cache).
         *
         * @param k K, positive and below the class count (default 5)
         * @return this builder
         */
        public Builder topK(int k) {
            this.topK = k;
            return this;
        }

        /**
         * Sets where the teacher cache goes (default {@code runDir/teacher-cache}); runs that share it sample once.
         *
         * @param dir the cache folder
         * @return this builder
         */
        public Builder cacheDir(Path dir) {
            this.cacheDir = dir;
            return this;
        }

        /**
         * Resumes each student from its newest checkpoint (needs {@code checkpointEvery} in the training settings).
         *
         * @param r whether to resume
         * @return this builder
         */
        public Builder resume(boolean r) {
            this.resume = r;
            return this;
        }

        /**
         * Sets whether each student is saved under {@code runDir/students/seed-N} (default true).
         *
         * @param save whether to save
         * @return this builder
         */
        public Builder saveStudents(boolean save) {
            this.saveStudents = save;
            return this;
        }

        /**
         * Sets the run's name (default: the target's).
         *
         * @param n the name
         * @return this builder
         */
        public Builder name(String n) {
            this.name = n;
            return this;
        }

        /**
         * Records the command that started the run, for provenance.
         *
         * @param c the command line (default: {@link RunInfo#commandLine()}, the JVM's or the CLI's command line)
         * @return this builder
         */
        public Builder command(String c) {
            this.command = c;
            return this;
        }

        /**
         * Sets where the run's stage lines go (default: the log at INFO).
         *
         * @param sink the sink
         * @return this builder
         */
        public Builder log(Consumer<String> sink) {
            this.log = Objects.requireNonNull(sink, "sink");
            return this;
        }

        /**
         * Validates and builds the run: every setting is checked here, and a loss whose labels the teacher's cache and
         * target cannot give is refused naming both.
         *
         * @return the run
         * @throws IllegalArgumentException naming what is missing or wrong
         */
        public Distillation build() {
            if (teacher instanceof Teachers.SequenceJob) {
                return buildLm();
            }
            if (lora != null) {
                throw new IllegalArgumentException("lora: LoRA adapters apply to causal-LM students, which learn from a"
                        + " language-model sample job; this teacher gives a dense cache");
            }
            if (student instanceof io.distill4j.models.lm.LmPreset p) {
                throw new IllegalArgumentException("the student is a causal LM (model_type " + p.modelType() + "); it learns"
                        + " from a language-model sample job (teacher.type " + String.join(" or ", SampleSpec.SEQUENCE_TYPES)
                        + "), and this teacher gives a dense cache");
            }
            if (data == null) {
                throw new IllegalArgumentException("data is not set (data(split))");
            }
            if (teacher == null) {
                throw new IllegalArgumentException("the teacher is not set (teacher(Teachers...))");
            }
            if (student == null) {
                throw new IllegalArgumentException("the student is not set (student(Mlp.builder()...))");
            }
            boolean classification = data.train().isClassification();
            if (lossName == null && loss == null) {
                lossName = classification ? "soft-ce" : "mse";
            }
            if (target == null) {
                target = Registry.target(targetName, targetOptions);
            }
            if (loss == null) {
                loss = Registry.loss(lossName, lossOptions);
            }
            resolveSeeds();
            int fixed = teacher.fixedSamples();
            if (samples == 0) {
                samples = fixed > 0 && draws == Draws.PER_STUDENT ? fixed / seeds.size() : teacher.samplesPerStudent();
                if (samples == 0) {
                    throw new IllegalArgumentException("the teacher's cache holds " + fixed + " draws per row, fewer than one"
                            + " for each of " + seeds.size() + " students; sample more or share the draws (draws: shared)");
                }
            }
            if (samples <= 0) {
                throw new IllegalArgumentException("samples must be positive, got " + samples);
            }
            if (studentPasses < 2) {
                throw new IllegalArgumentException("studentPasses must be at least 2, got " + studentPasses);
            }
            if (evaluationPasses < 0 || evaluationPasses == 1) {
                throw new IllegalArgumentException("evaluationPasses must be 0 or at least 2, got " + evaluationPasses);
            }
            if (topK <= 0) {
                throw new IllegalArgumentException("topK must be positive, got " + topK);
            }
            if (training.earlyStopping() != null && validation == null) {
                throw new IllegalArgumentException("early stopping needs validation rows (validation(...)), never the test part");
            }
            boolean closedForm = student instanceof OlsPreset;
            if (studentEstimate == null) {
                studentEstimate = closedForm ? StudentEstimates.pilot() : StudentEstimates.mcDropout();
            }
            if (closedForm) {
                String why = classification ? "this dataset is a classification" : !(loss instanceof io.distill4j.loss.MseLoss)
                        ? "the loss is '" + lossName + "' (least squares minimises mse)" : stacked ? "stacked is set"
                        : validation != null ? "validation rows are set" : resume ? "resume is set" : null;
                if (why != null) {
                    throw new IllegalArgumentException("an ols student is fitted in closed form to regression targets"
                            + " with loss mse, without stacking, validation or resume; " + why);
                }
            }
            if (stacked && !(student instanceof MlpPreset)) {
                throw new IllegalArgumentException("stacked students need an MLP student, got model_type "
                        + student.modelType());
            }
            String misfitRows = rowsMisfit(validation, "validation");
            for (Map.Entry<String, TabularData> e : extraTests.entrySet()) {
                misfitRows = misfitRows != null ? misfitRows : rowsMisfit(e.getValue(), "test '" + e.getKey() + "'");
            }
            if (misfitRows != null) {
                throw new IllegalArgumentException(misfitRows);
            }
            if (validationMetric != null && !Evaluators.CLASSIFICATION_METRICS.containsKey(validationMetric)) {
                throw new IllegalArgumentException("validation metric must be one of "
                        + new java.util.TreeSet<>(Evaluators.CLASSIFICATION_METRICS.keySet()) + ", got '"
                        + validationMetric + "'");
            }
            if (resume && training.checkpointEvery() == 0) {
                throw new IllegalArgumentException("resume needs checkpoints (training checkpointEvery > 0)");
            }
            int width = classification ? data.train().numClasses() : 1;
            String misfit = LabelAssembler.check(loss, lossName, target, targetName, teacher.signal(data.train()), width,
                    classification, topK);
            misfit = misfit != null ? misfit : estimateMisfit(lossName, target, targetName, studentEstimate, closedForm,
                    teacher.signal(data.train()), data.train().size(), width);
            if (misfit != null) {
                throw new IllegalArgumentException(misfit);
            }
            student.complete(data.train().width(), loss.predictionWidth(width));
            return new Distillation(this);
        }

        /** @return why held-out rows do not fit the training part, or null */
        private String rowsMisfit(TabularData rows, String what) {
            if (rows == null) {
                return null;
            }
            TabularData train = data.train();
            if (rows.width() != train.width() || rows.isClassification() != train.isClassification()) {
                return what + " rows have " + rows.width() + " features (" + (rows.isClassification() ? "classification"
                        : "regression") + "), the training part " + train.width() + " (" + (train.isClassification()
                        ? "classification" : "regression") + ")";
            }
            return null;
        }

        private Distillation buildLm() {
            if (student == null) {
                throw new IllegalArgumentException("the student is not set (a gpt2 or llama preset, or a Hugging Face folder)");
            }
            if (stacked) {
                throw new IllegalArgumentException("stacked students are MLPs; causal-LM students train one at a time");
            }
            if (!(student instanceof io.distill4j.models.lm.LmPreset)) {
                throw new IllegalArgumentException("the student is model_type " + student.modelType() + ", but a language-model"
                        + " sample job gives a sequence cache, which needs a causal-LM student (model_type gpt2 or llama, or a"
                        + " Hugging Face folder)");
            }
            if (lm == null) {
                lm = io.distill4j.trainer.lm.LmOptions.defaults();
            }
            resolveSeeds();
            int k = teacher.fixedSamples();
            if (samples == 0) {
                samples = draws == Draws.PER_STUDENT ? k / seeds.size() : k;
                if (samples == 0) {
                    throw new IllegalArgumentException("the sample job draws " + k + " answers per prompt, fewer than one for"
                            + " each of " + seeds.size() + " students; sample more (k) or share the draws (draws: shared)");
                }
            }
            int needed = draws == Draws.PER_STUDENT ? samples * seeds.size() : samples;
            if (samples <= 0 || needed > k) {
                throw new IllegalArgumentException("samples: the students need " + needed + " answers per prompt and the"
                        + " sample job draws k = " + k);
            }
            if (resume && training.checkpointEvery() == 0) {
                throw new IllegalArgumentException("resume needs checkpoints (training checkpointEvery > 0)");
            }
            if (training.earlyStopping() != null && lm.heldOut() == 0) {
                throw new IllegalArgumentException("early stopping watches the held-out prompts' loss: set lm.heldOut > 0");
            }
            if (training.earlyStopping() != null && training.earlyStopping().higherIsBetter()) {
                throw new IllegalArgumentException("early stopping of LM students watches the held-out loss, which is better"
                        + " when lower; the rule says higher");
            }
            if (name == null) {
                name = lm.mode().toString();
            }
            return new Distillation(this);
        }
    }
}

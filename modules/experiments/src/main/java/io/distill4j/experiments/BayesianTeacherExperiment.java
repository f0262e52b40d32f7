package io.distill4j.experiments;


import io.distill4j.data.Numbers;
import io.distill4j.pipeline.Plots;
import io.distill4j.pipeline.RunInfo;
import io.distill4j.pipeline.RunResult;
import java.nio.file.Path;
import io.distill4j.trainer.stats.Summary;
import io.distill4j.trainer.stats.Descriptive;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.data.datasets.ImageTask;
import ai.djl.Device;
import ai.djl.Model;
import io.distill4j.data.TabularData;
import io.distill4j.loss.Registry;
import io.distill4j.teacher.DeepEnsembleTeacher;
import io.distill4j.teacher.DeterministicTeacher;
import io.distill4j.teacher.LaplaceTeacher;
import io.distill4j.teacher.LastLayerLaplace;
import io.distill4j.teacher.McDropoutTeacher;
import io.distill4j.teacher.TeacherOutput;
import io.distill4j.teacher.Teacher;
import io.distill4j.trainer.Metrics;
import io.distill4j.models.StackedMlp;
import io.distill4j.trainer.TrainingSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Morad, Shlezinger &amp; Eldar 2026, "SGD-Based Knowledge Distillation with Bayesian Teachers" (arXiv
 * 2601.01484): a deterministic teacher against Bayesian ones (MC dropout, a deep ensemble, a last-layer
 * Laplace posterior) on an image task, with all training data and few-shot subsets of each class.
 *
 * <p>Per training set (the full pool, or a per-class fraction of it; the teachers train on that same
 * subset) one MLP teacher is trained with dropout on the hard labels. The <b>deterministic</b> teacher is
 * that network in inference mode; the <b>MC-dropout</b> teacher is S passes of it with dropout active; the
 * <b>deep ensemble</b> is it and M - 1 more networks trained from other seeds; the <b>Laplace</b> teacher
 * is S draws from a KFAC last-layer Laplace posterior around it (prior precision chosen from a grid by the
 * validation NLL of the Monte-Carlo predictive, as laplace-torch's grid search does). Each teacher's
 * soft target is the registry's {@code bayesian-mean}: p_T = (1/S) sum_s softmax(z_T^(s) / T_T).
 *
 * <p>R students (an MLP each, trained at once as a {@link StackedMlp} by the pipeline: one stacked
 * {@link io.distill4j.pipeline.Distillation} run per teacher on the cache its draws were sampled into, all methods
 * from the same R initialisations and data orders, so comparisons are paired) minimise the registry's {@code bayesian-kd}
 * loss, exactly the paper's code: (1 - a) CE(softmax(z_S), y) + a T_T T_S KL(p_T || softmax(z_S / T_S)),
 * with the paper's (a, T_T, T_S) per teacher. Reported per student: test accuracy, ECE (10 bins), NLL, and
 * the noise of the training curve: the standard deviation of the validation accuracy over the last points
 * of the curve.
 */
public final class BayesianTeacherExperiment implements Experiment {
    private static final Logger LOG = LogManager.getLogger(BayesianTeacherExperiment.class);
    /** The teacher kinds a method may name. */
    static final List<String> TEACHERS = List.of("labels-only", "deterministic", "mc-dropout", "deep-ensemble", "laplace");

    /**
     * One training-set size.
     *
     * @param fraction the share of every class kept, in (0, 1]
     * @param teacherEpochs the teachers' epochs on it
     * @param studentEpochs the students' epochs on it
     */
    public record Setting(double fraction, int teacherEpochs, int studentEpochs) {
        /**
         * Validates the setting.
         *
         * @param fraction the share of every class kept, in (0, 1]
         * @param teacherEpochs the teachers' epochs on it
         * @param studentEpochs the students' epochs on it
         */
        public Setting {
            if (!(fraction > 0 && fraction <= 1)) {
                throw new IllegalArgumentException("settings: fraction must be in (0, 1], got " + fraction);
            }
            if (teacherEpochs < 1 || studentEpochs < 1) {
                throw new IllegalArgumentException("settings: epochs must be positive, got " + teacherEpochs + " and "
                        + studentEpochs);
            }
        }
    }

    /**
     * The teachers' training and sampling.
     *
     * @param hidden hidden widths of the MLP
     * @param dropout dropout after each hidden layer (also the MC-dropout rate), in (0, 1)
     * @param batchSize mini-batch size
     * @param learningRate AdamW's learning rate
     * @param weightDecay AdamW's decoupled weight decay
     * @param members deep-ensemble members M, at least 2
     * @param samples posterior draws S of the MC-dropout and Laplace teachers, at least 2
     * @param priorPrecisions the Laplace prior precisions tried, positive
     */
    public record TeacherConfig(List<Integer> hidden, float dropout, int batchSize, float learningRate, float weightDecay,
            int members, int samples, List<Double> priorPrecisions) {
        /**
         * Validates the settings.
         *
         * @param hidden hidden widths of the MLP
         * @param dropout dropout after each hidden layer (also the MC-dropout rate), in (0, 1)
         * @param batchSize mini-batch size
         * @param learningRate AdamW's learning rate
         * @param weightDecay AdamW's decoupled weight decay
         * @param members deep-ensemble members M, at least 2
         * @param samples posterior draws S of the MC-dropout and Laplace teachers, at least 2
         * @param priorPrecisions the Laplace prior precisions tried, positive
         */
        public TeacherConfig {
            if (hidden.isEmpty() || hidden.stream().anyMatch(h -> h < 1)) {
                throw new IllegalArgumentException("teacher.hidden must list positive widths, got " + hidden);
            }
            if (!(dropout > 0 && dropout < 1)) {
                throw new IllegalArgumentException("teacher.dropout must be in (0, 1) (MC dropout needs it), got " + dropout);
            }
            if (members < 2 || samples < 2) {
                throw new IllegalArgumentException("teacher.members and teacher.samples must be at least 2, got " + members
                        + " and " + samples);
            }
            if (priorPrecisions.isEmpty() || priorPrecisions.stream().anyMatch(l -> !(l > 0))) {
                throw new IllegalArgumentException("teacher.priorPrecisions must list positive values, got " + priorPrecisions);
            }
            hidden = List.copyOf(hidden);
            priorPrecisions = List.copyOf(priorPrecisions);
        }
    }

    /**
     * The students.
     *
     * @param count students R per method, at least 2
     * @param hidden hidden widths of the MLP
     * @param dropout dropout after each hidden layer, in [0, 1)
     * @param batchSize mini-batch size per student
     * @param learningRate AdamW's learning rate
     * @param weightDecay AdamW's decoupled weight decay
     * @param curvePoints validations spread evenly over training
     * @param curveTail the last validations whose spread is the curve noise, in [3, curvePoints]
     */
    public record StudentConfig(int count, List<Integer> hidden, float dropout, int batchSize, float learningRate,
            float weightDecay, int curvePoints, int curveTail) {
        /**
         * Validates the settings.
         *
         * @param count students R per method, at least 2
         * @param hidden hidden widths of the MLP
         * @param dropout dropout after each hidden layer, in [0, 1)
         * @param batchSize mini-batch size per student
         * @param learningRate AdamW's learning rate
         * @param weightDecay AdamW's decoupled weight decay
         * @param curvePoints validations spread evenly over training
         * @param curveTail the last validations whose spread is the curve noise, in [3, curvePoints]
         */
        public StudentConfig {
            if (count < 2) {
                throw new IllegalArgumentException("student.count must be at least 2, got " + count);
            }
            if (hidden.stream().anyMatch(h -> h < 1)) {
                throw new IllegalArgumentException("student.hidden must list positive widths, got " + hidden);
            }
            if (curveTail < 3 || curveTail > curvePoints) {
                throw new IllegalArgumentException("student.curveTail must be in [3, curvePoints = " + curvePoints + "], got "
                        + curveTail);
            }
            hidden = List.copyOf(hidden);
        }
    }

    /**
     * A teacher and the paper's distillation settings for it.
     *
     * @param teacher labels-only, deterministic, mc-dropout, deep-ensemble or laplace
     * @param alpha a, the weight of the distillation term (0 for labels-only)
     * @param teacherTemperature T_T
     * @param studentTemperature T_S
     */
    public record Method(String teacher, double alpha, double teacherTemperature, double studentTemperature) {

        /**
         * The folder of this method's pipeline run: the teacher and its KD settings, so that one teacher under several
         * settings gets several runs.
         *
         * @return e.g. {@code deterministic-a0.5-tt4-ts1}
         */
        public String runName() {
            return teacher + "-a" + Numbers.brief(alpha) + "-tt" + Numbers.brief(teacherTemperature) + "-ts"
                    + Numbers.brief(studentTemperature);
        }

        /**
         * Validates the method.
         *
         * @param teacher labels-only, deterministic, mc-dropout, deep-ensemble or laplace
         * @param alpha a, the weight of the distillation term (0 for labels-only)
         * @param teacherTemperature T_T
         * @param studentTemperature T_S
         */
        public Method {
            if (!TEACHERS.contains(teacher)) {
                throw new IllegalArgumentException("methods: teacher must be one of " + TEACHERS + ", got '" + teacher + "'");
            }
            if (teacher.equals("labels-only") && alpha != 0) {
                throw new IllegalArgumentException("methods: labels-only trains on the labels alone: alpha must be 0, got "
                        + alpha);
            }
            if (!(alpha >= 0 && alpha <= 1) || !(teacherTemperature > 0) || !(studentTemperature > 0)) {
                throw new IllegalArgumentException("methods: " + teacher + ": alpha must be in [0, 1] and temperatures "
                        + "positive, got " + alpha + ", " + teacherTemperature + ", " + studentTemperature);
            }
        }

        /** @return e.g. {@code (0.7, 4, 1)} */
        String settings() {
            return String.format(Locale.ROOT, "(%s, %s, %s)", Numbers.brief(alpha), Numbers.brief(teacherTemperature), Numbers.brief(studentTemperature));
        }

        /** @return the method in words for legends, e.g. {@code mc-dropout teacher, α 0.7, T teacher 4 / student 1} */
        String label() {
            if (teacher.equals("labels-only")) {
                return "labels only (no teacher)";
            }
            return String.format(Locale.ROOT, "%s teacher, \u03b1 %s, T teacher %s / student %s", teacher, Numbers.brief(alpha),
                    Numbers.brief(teacherTemperature), Numbers.brief(studentTemperature));
        }
    }

    /**
     * The experiment's configuration.
     *
     * @param dataset {@code fashion-mnist} (falls back to digits when missing) or {@code digits}
     * @param maxTrain the most training images used, 0 for all
     * @param maxTest the most test images used, 0 for all
     * @param validation training images held out for validation (curves and the Laplace prior)
     * @param seed the seed of subsets, teachers and students
     * @param settings the training-set sizes (the first with the smallest fraction is the few-shot check)
     * @param teacher the teachers
     * @param student the students
     * @param methods the teachers compared and their distillation settings
     */
    public record Config(String dataset, int maxTrain, int maxTest, int validation, long seed, List<Setting> settings,
            TeacherConfig teacher, StudentConfig student, List<Method> methods) {
        /**
         * Validates the configuration.
         *
         * @param dataset {@code fashion-mnist} (falls back to digits when missing) or {@code digits}
         * @param maxTrain the most training images used, 0 for all
         * @param maxTest the most test images used, 0 for all
         * @param validation training images held out for validation (curves and the Laplace prior)
         * @param seed the seed of subsets, teachers and students
         * @param settings the training-set sizes (the first with the smallest fraction is the few-shot check)
         * @param teacher the teachers
         * @param student the students
         * @param methods the teachers compared and their distillation settings
         */
        public Config {
            if (settings.isEmpty() || methods.isEmpty()) {
                throw new IllegalArgumentException("settings and methods must not be empty");
            }
            if (validation < 2) {
                throw new IllegalArgumentException("validation must be at least 2 images, got " + validation);
            }
            settings = List.copyOf(settings);
            methods = List.copyOf(methods);
        }
    }

    private final Path home;
    private final Device device = Device.cpu();

    /**
     * Creates the experiment.
     *
     * @param home the folder that dataset paths are relative to
     */
    public BayesianTeacherExperiment(Path home) {
        this.home = home;
    }

    @Override
    public String name() {
        return "bayesian-teacher";
    }

    /** One (setting, method) result. */
    private record Cell(Setting setting, int items, Method method, double[] acc, double[] ece, double[] nll, double[] sd,
            double[] noise, double[] curve, double[] curveSteps) {
    }

    /** One teacher's measurements in one setting. */
    private record TeacherRow(Setting setting, String teacher, double acc, double nll, double ece, double confidence,
            double targetConfidence, String note) {
    }

    @Override
    public Report run(ConfigFile config, boolean quick, Path outDir) throws IOException {
        Config cfg = ExperimentFile.bind(config, Config.class);
        RunInfo info = RunInfo.start(RunInfo.commandLine(), device);
        ImageTask task = ImageTask.load(home, cfg.dataset(), cfg.maxTrain(), cfg.maxTest(), cfg.seed(), name());
        TabularData[] parts = ImageTask.holdOut(task.train(), cfg.validation(), cfg.seed() + 5);
        TabularData pool = parts[0];
        TabularData val = parts[1];
        List<Cell> cells = new ArrayList<>();
        List<TeacherRow> teachers = new ArrayList<>();
        for (Setting s : cfg.settings()) {
            runSetting(cfg, s, pool, val, task.test(), cells, teachers, outDir.resolve("runs/fraction-"
                    + Numbers.brief(s.fraction())));
        }
        Report r = report(cfg, task, quick, pool.size(), val.size(), cells, teachers);
        r.provenance(info.finish(), config.root()).seed("seed", cfg.seed()).dataset("training pool", pool)
                .dataset("validation", val).dataset("test", task.test());
        r.write(outDir);
        return r;
    }

    private void runSetting(Config cfg, Setting s, TabularData pool, TabularData val, TabularData test, List<Cell> cells,
            List<TeacherRow> teacherRows, Path runs) {
        TabularData train = ImageTask.perClass(pool, s.fraction(), cfg.seed() * 7 + 3);
        int c = train.numClasses();
        TeacherConfig tc = cfg.teacher();
        int[] hidden = tc.hidden().stream().mapToInt(Integer::intValue).toArray();
        String desc = "mlp " + train.width() + "-" + tc.hidden() + "-" + c + " dropout " + tc.dropout();
        boolean ensemble = cfg.methods().stream().anyMatch(m -> m.teacher().equals("deep-ensemble"));
        // labels-only (alpha 0: the teacher term has weight 0) still runs through a cache: the deterministic one
        java.util.Set<String> kinds = new java.util.LinkedHashSet<>();
        cfg.methods().forEach(m -> kinds.add(m.teacher().equals("labels-only") ? "deterministic" : m.teacher()));
        List<Model> members = new ArrayList<>();
        Map<String, float[][]> logits = new LinkedHashMap<>(); // teacher -> {train, test} flat (n, k, C)
        Map<String, Integer> ks = new LinkedHashMap<>();
        Map<String, String> notes = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        try {
            int count = ensemble ? tc.members() : 1;
            for (int j = 0; j < count; j++) {
                members.add(TeacherComparisons.trainTeacher("teacher-" + j, train, hidden, tc.dropout(), Registry.loss("ce", Map.of()),
                        TrainingSpec.builder().setDevice(device).setSeed(cfg.seed() + 1000L * j + 11).setEpochs(s.teacherEpochs()).setBatchSize(tc.batchSize()).setLearningRate(tc.learningRate())
                .optWeightDecay(tc.weightDecay()).optLogEvery(0).build()));
            }
            Model base = members.get(0);
            for (String kind : kinds) {
                Teacher t = switch (kind) {
                    case "deterministic" -> new DeterministicTeacher(base, 1, c, TeacherOutput.logits(), desc);
                    case "mc-dropout" -> McDropoutTeacher.builder(base).setSamples(tc.samples()).setWidth(c).optOutput(TeacherOutput.logits()).optSeed(cfg.seed() + 21).setDescription(desc).build();
                    case "deep-ensemble" -> new DeepEnsembleTeacher(members, c, TeacherOutput.logits(), desc);
                    case "laplace" -> laplace(cfg, base, train, val, c, desc, notes);
                    default -> throw new AssertionError(kind);
                };
                logits.put(kind, new float[][] {TeacherComparisons.sampleInto(t, train, test, runs.resolve("cache-" + kind)),
                        TeacherComparisons.samples(t, test.features())});
                ks.put(kind, t.k());
            }
        } finally {
            members.forEach(Model::close);
        }
        LOG.info(String.format(Locale.ROOT, "bayesian-teacher: fraction %s: %d training images, teachers ready in %.1f s",
                Numbers.brief(s.fraction()), train.size(), (System.nanoTime() - t0) / 1e9));
        for (Map.Entry<String, float[][]> e : logits.entrySet()) {
            int k = ks.get(e.getKey());
            double[][] p = TeacherComparisons.predictive(e.getValue()[1], k, c, 1);
            var method = cfg.methods().stream().filter(m -> m.teacher().equals(e.getKey())).findFirst();
            if (method.isEmpty()) {
                continue; // sampled only as labels-only's cache
            }
            double tt = method.get().teacherTemperature();
            double[][] target = TeacherComparisons.predictive(e.getValue()[0], k, c, tt);
            teacherRows.add(new TeacherRow(s, e.getKey(), Metrics.accuracy(p, test.labels()), Metrics.nll(p, test.labels()),
                    Metrics.ece(p, test.labels()), TeacherComparisons.meanConfidence(p), TeacherComparisons.meanConfidence(target),
                    notes.getOrDefault(e.getKey(), "")));
        }
        StudentConfig sc = cfg.student();
        int[] sh = sc.hidden().stream().mapToInt(Integer::intValue).toArray();
        int perEpoch = (train.size() + Math.min(sc.batchSize(), train.size()) - 1) / Math.min(sc.batchSize(), train.size());
        long total = (long) perEpoch * s.studentEpochs();
        long every = Math.max(1, total / sc.curvePoints());
        for (Method m : cfg.methods()) {
            String kind = m.teacher().equals("labels-only") ? "deterministic" : m.teacher();
            TrainingSpec spec = TrainingSpec.builder().setDevice(device).setSeed(cfg.seed() + 7).setEpochs(s.studentEpochs())
                    .setBatchSize(sc.batchSize()).setLearningRate(sc.learningRate()).optWeightDecay(sc.weightDecay())
                    .optValidateEvery(every).optLogEvery(0).build();
            double[][] scores;
            long t1 = System.nanoTime();
            RunResult run = TeacherComparisons.students(m.teacher(), train, test, runs.resolve("cache-" + kind), sh,
                    sc.dropout(), sc.count(), spec)
                    .target("bayesian-mean", Map.of("input", "logits", "temperature", m.teacherTemperature()))
                    .loss("bayesian-kd", Map.of("alpha", m.alpha(), "teacher-temperature", m.teacherTemperature(),
                            "student-temperature", m.studentTemperature()))
                    .validation(val, "accuracy").build().fit(runs.resolve(m.runName()));
            scores = TeacherComparisons.scores(run, "");
            TeacherComparisons.Curve curve = new TeacherComparisons.Curve(run);
            if (curve.points().size() < 3) {
                throw new io.distill4j.data.BadInputException("experiment bayesian-teacher: fraction " + Numbers.brief(s.fraction())
                        + ": the students validate only " + curve.points().size() + " times; raise studentEpochs");
            }
            int tail = Math.min(sc.curveTail(), curve.points().size());
            double[] steps = new double[curve.points().size()];
            for (int i = 0; i < steps.length; i++) {
                steps[i] = (i + 1) * (double) every;
            }
            Cell cell = new Cell(s, train.size(), m, scores[0], scores[1], scores[2], curve.tailNoise(tail, false),
                    curve.tailNoise(tail, true), curve.meanCurve(), steps);
            cells.add(cell);
            LOG.info(String.format(Locale.ROOT, "bayesian-teacher: fraction %s, %s: accuracy %.4f, ECE %.4f, NLL %.4f, "
                    + "curve noise %.4f (%.1f s)", Numbers.brief(s.fraction()), m.teacher(), Descriptive.mean(cell.acc()),
                    Descriptive.mean(cell.ece()), Descriptive.mean(cell.nll()), Descriptive.mean(cell.noise()), (System.nanoTime() - t1) / 1e9));
        }
    }

    /** Fits the last-layer Laplace posterior for every prior precision and keeps the best by validation NLL. */
    private Teacher laplace(Config cfg, Model base, TabularData train, TabularData val, int c, String desc,
            Map<String, String> notes) {
        TeacherConfig tc = cfg.teacher();
        LaplaceTeacher best = null;
        double bestNll = Double.POSITIVE_INFINITY;
        double bestLambda = Double.NaN;
        StringBuilder tried = new StringBuilder();
        for (double lambda : tc.priorPrecisions()) {
            LastLayerLaplace post = LastLayerLaplace.fit(base, train.features(), LastLayerLaplace.Structure.KRON, lambda);
            LaplaceTeacher t = new LaplaceTeacher(base, post, tc.samples(), TeacherOutput.logits(), cfg.seed() + 31, desc);
            double nll = Metrics.nll(TeacherComparisons.predictive(TeacherComparisons.samples(t, val.features()), tc.samples(), c, 1), val.labels());
            tried.append(tried.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s: %.3f", Numbers.brief(lambda), nll));
            if (nll < bestNll) {
                bestNll = nll;
                best = t;
                bestLambda = lambda;
            }
        }
        notes.put("laplace", "prior precision " + Numbers.brief(bestLambda) + " (validation NLL " + tried + ")");
        return best;
    }

    // ---------------------------------------------------------------- report

    private Report report(Config cfg, ImageTask task, boolean quick, int poolSize, int valSize, List<Cell> cells,
            List<TeacherRow> teachers) {
        Report r = new Report("Bayesian teachers (Morad, Shlezinger & Eldar 2026)");
        StudentConfig sc = cfg.student();
        TeacherConfig tc = cfg.teacher();
        r.paragraph(task.note() + String.format(Locale.ROOT, " %d training images form the pool (%d more are held out for "
                + "validation); few-shot settings keep a fraction of every class of the pool, and the teachers train on that "
                + "same subset. Seed %d%s.", poolSize, valSize, cfg.seed(), quick ? " (quick variant)" : ""));
        r.paragraph(String.format(Locale.ROOT, """
                Teachers: MLP %s with dropout %s, trained on the hard labels (AdamW %s, batch %d). Deterministic: that \
                network in inference mode. MC dropout: S = %d passes with dropout active. Deep ensemble: it and %d more \
                networks from other seeds. Laplace: S = %d draws from a KFAC last-layer Laplace posterior around it, the \
                prior precision picked from %s by validation NLL. Students: %d MLPs %s (dropout %s, AdamW %s, batch %d), \
                trained at once from the same initialisations for every teacher (paired) by the pipeline (one stacked \
                distill4j run per teacher under runs/, on the teacher's draws sampled into its cache), on the registry's bayesian-kd \
                loss (1 - a) CE + a T_T T_S KL(p_T || softmax(z / T_S)) with p_T the registry's bayesian-mean of the \
                teacher's draws at T_T. Curve sd: the standard deviation of a student's validation accuracy over its last \
                %d of %d evenly spaced validations; curve noise: the same after removing their least-squares line (a curve \
                still rising is not noise); both averaged over students. ± in every table of students: %s.""", tc.hidden(), Numbers.brief(tc.dropout()), Numbers.brief(tc.learningRate()), tc.batchSize(),
                tc.samples(), tc.members() - 1, tc.samples(), tc.priorPrecisions(), sc.count(), sc.hidden(), Numbers.brief(sc.dropout()),
                Numbers.brief(sc.learningRate()), sc.batchSize(), sc.curveTail(), sc.curvePoints(),
                Summary.meaning(Summary.CONFIDENCE, sc.count(), "students")));

        List<List<String>> trows = new ArrayList<>();
        for (TeacherRow t : teachers) {
            trows.add(List.of(Numbers.brief(t.setting().fraction()), t.teacher(), Numbers.fixed(t.acc(), 4), Numbers.fixed(t.nll(), 4), Numbers.fixed(t.ece(), 4), Numbers.fixed(t.confidence(), 4),
                    Numbers.fixed(t.targetConfidence(), 4), t.note()));
        }
        r.paragraph("## Teachers");
        r.paragraph("Test accuracy, NLL, ECE and mean confidence of each teacher's predictive at T = 1 (mean of softmax over "
                + "its draws), and the mean confidence of the soft targets p_T the students see (on the training images, at "
                + "the method's T_T).");
        r.table(List.of("fraction", "teacher", "accuracy", "NLL", "ECE", "confidence", "target confidence (T_T)", "note"), trows);

        r.paragraph("## Students");
        List<List<String>> rows = new ArrayList<>();
        List<Map<String, Object>> json = new ArrayList<>();
        for (Cell c : cells) {
            rows.add(List.of(Numbers.brief(c.setting().fraction()), Integer.toString(c.items()), c.method().teacher(), c.method().settings(),
                    Summary.of(c.acc()).format(4), Summary.of(c.ece()).format(4), Summary.of(c.nll()).format(4), Summary.of(c.sd()).format(4),
                    Summary.of(c.noise()).format(4)));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fraction", c.setting().fraction());
            m.put("trainingImages", c.items());
            m.put("teacher", c.method().teacher());
            m.put("alpha", c.method().alpha());
            m.put("teacherTemperature", c.method().teacherTemperature());
            m.put("studentTemperature", c.method().studentTemperature());
            m.put("accuracy", c.acc());
            m.put("ece", c.ece());
            m.put("nll", c.nll());
            m.put("curveSd", c.sd());
            m.put("curveNoise", c.noise());
            m.put("accuracyMean", Descriptive.mean(c.acc()));
            m.put("eceMean", Descriptive.mean(c.ece()));
            m.put("nllMean", Descriptive.mean(c.nll()));
            m.put("curveSdMean", Descriptive.mean(c.sd()));
            m.put("curveNoiseMean", Descriptive.mean(c.noise()));
            m.put("validationCurve", c.curve());
            json.add(m);
        }
        r.table(List.of("fraction", "training images", "teacher", "(a, T_T, T_S)", "accuracy", "ECE", "NLL", "curve sd",
                "curve noise"), rows);
        r.paragraph("""
                Reading the ECE column: with T_S = 1 < T_T the student's own softmax is fitted to the teacher's softened \
                p_T, so at T = 1 it is about as flat as the teacher at T_T: under-confident, and the more so the larger a \
                (ECE then mostly measures the distillation temperatures, not the teacher). With T_S = T_T (the Laplace \
                setting) the student at T = 1 matches the teacher at T = 1. Rows of the deterministic teacher with the \
                Bayesian teachers' (a, T_T, T_S), where configured, separate the teacher from the settings.""");
        r.data("config", cfg);
        r.data("dataset", task.name());
        r.data("teachers", teachers.stream().map(t -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fraction", t.setting().fraction());
            m.put("teacher", t.teacher());
            m.put("accuracy", t.acc());
            m.put("nll", t.nll());
            m.put("ece", t.ece());
            m.put("confidence", t.confidence());
            m.put("targetConfidence", t.targetConfidence());
            m.put("note", t.note());
            return m;
        }).toList());
        r.data("students", json);

        plots(cfg, cells, r);
        checks(cfg, cells, teachers, r);
        return r;
    }

    private static void plots(Config cfg, List<Cell> cells, Report r) {
        if (cfg.settings().size() > 1) {
            String interval = " (mean, 95% t interval over " + cfg.student().count() + " students)";
            XYChart acc = Plots.lines("Student test accuracy vs share of the training set", "fraction of each class",
                    "accuracy" + interval, true, false);
            XYChart ece = Plots.lines("Student test ECE vs share of the training set", "fraction of each class",
                    "ECE" + interval, true, false);
            int n = cfg.methods().size();
            for (int i = 0; i < n; i++) {
                Method m = cfg.methods().get(i);
                List<Cell> mine = cells.stream().filter(c -> c.method() == m).sorted(java.util.Comparator.comparingDouble(
                        c -> c.setting().fraction())).toList();
                double[] x = Plots.dodge(mine.stream().mapToDouble(c -> c.setting().fraction()).toArray(), i, n, 0.025, true);
                addWithIntervals(acc, m.label(), x, mine.stream().map(c -> Summary.of(c.acc())).toList());
                addWithIntervals(ece, m.label(), x, mine.stream().map(c -> Summary.of(c.ece())).toList());
            }
            r.plot("bayesian-teacher-accuracy", acc);
            r.plot("bayesian-teacher-ece", ece);
        }
        Setting few = fewShot(cfg);
        XYChart curves = Plots.lines("Validation accuracy during training (fraction " + Numbers.brief(few.fraction())
                + ", mean of the students)", "update", "validation accuracy", false, false);
        curves.getStyler().setXAxisDecimalPattern("0");
        for (Cell c : cells) {
            if (c.setting() == few) {
                Plots.addSeries(curves, c.method().label(), c.curveSteps(), c.curve(), null, null)
                        .setMarker(SeriesMarkers.NONE);
            }
        }
        r.plot("bayesian-teacher-curves", curves);
    }

    private static void addWithIntervals(XYChart chart, String name, double[] x, List<Summary> s) {
        Plots.addSeries(chart, name, x, s.stream().mapToDouble(Summary::mean).toArray(),
                s.stream().mapToDouble(Summary::low).toArray(), s.stream().mapToDouble(Summary::high).toArray());
    }

    /** @return the setting with the smallest fraction (the first such) */
    static Setting fewShot(Config cfg) {
        Setting few = cfg.settings().get(0);
        for (Setting s : cfg.settings()) {
            if (s.fraction() < few.fraction()) {
                few = s;
            }
        }
        return few;
    }

    private static void checks(Config cfg, List<Cell> cells, List<TeacherRow> teachers, Report r) {
        if (cells.stream().anyMatch(c -> c.method().teacher().equals("deterministic"))) {
            r.paragraph("## Students against the deterministic teacher");
            r.paragraph("Paired differences: this teacher's student minus the deterministic teacher's student from the same "
                    + "initialisation and data order, the deterministic teacher distilled with the same (a, T_T, T_S) where the "
                    + "configuration has it, else with its own (the first listed). ±: "
                    + Summary.meaning(Summary.CONFIDENCE, cfg.student().count(), "students")
                    + " (paired differences); an interval that excludes 0 marks a difference this run resolves.");
            List<List<String>> rows = new ArrayList<>();
            List<String> summary = new ArrayList<>();
            for (Cell c : cells) {
                Cell d = reference(cells, c);
                if (d == null || c == d) {
                    continue;
                }
                double[] da = minus(c.acc(), d.acc());
                double[] de = minus(c.ece(), d.ece());
                double[] dn = minus(c.nll(), d.nll());
                double[] dq = minus(c.noise(), d.noise());
                rows.add(List.of(Numbers.brief(c.setting().fraction()), c.method().teacher(), c.method().settings(), d.method().settings(),
                        Summary.of(da).format(4), Summary.of(de).format(4), Summary.of(dn).format(4), Summary.of(dq).format(4)));
                List<String> said = new ArrayList<>();
                resolved(said, "accuracy", da);
                resolved(said, "ECE", de);
                resolved(said, "curve noise", dq);
                summary.add("fraction " + Numbers.brief(c.setting().fraction()) + ", " + c.method().teacher() + " " + c.method().settings()
                        + " against deterministic " + d.method().settings() + ": " + (said.isEmpty()
                        ? "no resolved difference in accuracy, ECE or curve noise" : String.join(", ", said)));
            }
            r.table(List.of("fraction", "teacher", "(a, T_T, T_S)", "against", "Δ accuracy", "Δ ECE", "Δ NLL", "Δ curve noise"),
                    rows);
            r.paragraph("What this run resolves (not asserted; the paper reports more accurate students and less noisy "
                    + "training with Bayesian teachers):\n\n- " + String.join("\n- ", summary));
        }
        r.paragraph("## The paper's claims at this size");
        Setting few = fewShot(cfg);
        TeacherRow det = teachers.stream().filter(t -> t.setting() == few && t.teacher().equals("deterministic")).findFirst()
                .orElse(null);
        if (det == null) {
            r.paragraph("No deterministic teacher in the configuration: nothing to compare against.");
            return;
        }
        for (TeacherRow t : teachers) {
            if (t.setting() != few || t.teacher().equals("deterministic")) {
                continue;
            }
            if (t.teacher().equals("deep-ensemble")) {
                r.check("the deep ensemble's class probabilities are better than the deterministic teacher's: lower test NLL "
                        + "(fraction " + Numbers.brief(few.fraction()) + ")", t.nll() < det.nll(),
                        String.format(Locale.ROOT, "NLL %.4f vs %.4f", t.nll(), det.nll()));
            } else {
                r.check("averaging over posterior draws (" + t.teacher() + ") makes the teacher less confident than the "
                        + "deterministic teacher on test images (fraction " + Numbers.brief(few.fraction()) + ")",
                        t.confidence() < det.confidence(),
                        String.format(Locale.ROOT, "mean confidence %.4f vs %.4f", t.confidence(), det.confidence()));
            }
        }
    }

    /** The deterministic cell a cell is compared with: same setting, same (a, T_T, T_S) if any, else the first. */
    private static Cell reference(List<Cell> cells, Cell c) {
        Cell first = null;
        for (Cell d : cells) {
            if (d.setting() != c.setting() || !d.method().teacher().equals("deterministic")) {
                continue;
            }
            if (first == null) {
                first = d;
            }
            Method a = d.method();
            Method b = c.method();
            if (a.alpha() == b.alpha() && a.teacherTemperature() == b.teacherTemperature()
                    && a.studentTemperature() == b.studentTemperature()) {
                return d;
            }
        }
        return first;
    }

    private static void resolved(List<String> said, String what, double[] diff) {
        Summary s = Summary.of(diff);
        if (s.excludes(0)) {
            said.add(String.format(Locale.ROOT, "%s %s (%s)", what, s.mean() > 0 ? "higher" : "lower", s.formatSigned(4)));
        }
    }

    private static double[] minus(double[] a, double[] b) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }
}

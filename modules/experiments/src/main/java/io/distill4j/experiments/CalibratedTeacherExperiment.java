package io.distill4j.experiments;



import io.distill4j.data.Numbers;
import io.distill4j.pipeline.Plots;
import io.distill4j.pipeline.RunInfo;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.RunResult;
import io.distill4j.trainer.stats.Summary;
import io.distill4j.trainer.stats.Descriptive;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.data.datasets.ImageTask;
import io.distill4j.models.Inference;
import ai.djl.Device;
import ai.djl.Model;
import io.distill4j.data.Rows;
import io.distill4j.data.TabularData;
import io.distill4j.loss.Registry;
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
import java.util.SplittableRandom;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * Kim et al. 2026, "Trust the Uncertain Teacher: Distilling Dark Knowledge via Calibrated Uncertainty" (CUD,
 * arXiv 2602.12687): plain knowledge distillation against wrong-mass clipping (W-Clip) of the teacher's
 * targets, an uncertainty-shaped teacher (DUS: fine-tuned with the focal loss and a gated entropy bonus),
 * and both, on an image task with optional symmetric label noise; students are scored on the clean test
 * images and under covariate shifts of them.
 *
 * <p>One MLP teacher is trained on the (possibly noisy) training labels with cross-entropy and its weights
 * are kept; the <b>plain</b> teacher continues from them for F more epochs of cross-entropy, the
 * <b>shaped</b> teacher for F epochs of the registry's {@code focal-entropy} loss, so both saw the same
 * number of updates. Each teacher's target is softmax(z_T / T); W-Clip is the registry's
 * {@code wrong-mass-clip} of that tempered target against the training label. R students (MLPs trained at
 * once as a {@link StackedMlp} by the pipeline, one stacked {@link io.distill4j.pipeline.Distillation} run per
 * method, the same initialisations and data orders for every method) minimise the
 * registry's {@code hinton-kd} loss (1 - a) CE + a T^2 KL(p_T || softmax(z_S / T)).
 */
public final class CalibratedTeacherExperiment implements Experiment {
    private static final Logger LOG = LogManager.getLogger(CalibratedTeacherExperiment.class);
    /** The methods a configuration may list. */
    static final List<String> METHODS = List.of("labels-only", "plain-kd", "w-clip", "dus", "dus+w-clip");

    /**
     * A covariate shift of the test images.
     *
     * @param kind {@code gaussian-noise} (add N(0, level^2) per pixel, clip to [0, 1]), {@code contrast}
     *     (blend with the image's mean grey: m + level (x - m), as torchvision's adjust_contrast) or
     *     {@code brightness} (scale: clip(level x), as torchvision's adjust_brightness)
     * @param level the shift's strength
     */
    public record Shift(String kind, double level) {
        /**
         * Validates the kind and level.
         *
         * @param kind {@code gaussian-noise} (add N(0, level^2) per pixel, clip to [0, 1]), {@code contrast} (blend with the image's mean grey: m + level (x - m), as torchvision's adjust_contrast) or {@code brightness} (scale: clip(level x), as torchvision's adjust_brightness)
         * @param level the shift's strength
         */
        public Shift {
            switch (kind) {
                case "gaussian-noise" -> {
                    if (!(level > 0) || Double.isInfinite(level)) {
                        throw new IllegalArgumentException("shifts: gaussian-noise level (the noise sd) must be positive, got "
                                + level);
                    }
                }
                case "contrast", "brightness" -> {
                    if (!(level >= 0) || Double.isInfinite(level)) {
                        throw new IllegalArgumentException("shifts: " + kind + " level (the factor) must be >= 0, got " + level);
                    }
                }
                default -> throw new IllegalArgumentException("shifts: kind must be gaussian-noise, contrast or brightness, "
                        + "got '" + kind + "'");
            }
        }

        /** @return a short label such as {@code gaussian-noise 0.2} */
        public String label() {
            return kind + " " + Numbers.brief(level);
        }

        /**
         * Applies the shift.
         *
         * @param x images, pixels in [0, 1]
         * @param seed seeds the noise
         * @return shifted copies, clipped to [0, 1]
         */
        public float[][] apply(float[][] x, long seed) {
            SplittableRandom rnd = new SplittableRandom(seed);
            float[][] out = new float[x.length][];
            for (int i = 0; i < x.length; i++) {
                float[] row = x[i].clone();
                double mean = 0;
                if (kind.equals("contrast")) {
                    for (float v : row) {
                        mean += v / (double) row.length;
                    }
                }
                for (int j = 0; j < row.length; j++) {
                    double v = switch (kind) {
                        case "gaussian-noise" -> row[j] + level * GaussianNoise.draw(rnd);
                        case "contrast" -> mean + level * (row[j] - mean);
                        default -> level * row[j];
                    };
                    row[j] = (float) Math.min(1, Math.max(0, v));
                }
                out[i] = row;
            }
            return out;
        }
    }

    /**
     * The teacher.
     *
     * @param hidden hidden widths of the MLP
     * @param dropout dropout after each hidden layer, in [0, 1)
     * @param epochs cross-entropy epochs before the two fine-tunings
     * @param fineTuneEpochs epochs of each fine-tuning (cross-entropy for the plain teacher, focal-entropy for
     *     the shaped one), positive
     * @param batchSize mini-batch size
     * @param learningRate AdamW's learning rate
     * @param weightDecay AdamW's decoupled weight decay
     * @param gamma the focal exponent
     * @param lambda the weight of the gated entropy bonus
     * @param maxWeight the clip W of the per-example difficulty weight
     * @param tau the confidence below which an example counts as hard
     */
    public record TeacherConfig(List<Integer> hidden, float dropout, int epochs, int fineTuneEpochs, int batchSize,
            float learningRate, float weightDecay, double gamma, double lambda, double maxWeight, double tau) {
        /**
         * Validates the settings.
         *
         * @param hidden hidden widths of the MLP
         * @param dropout dropout after each hidden layer, in [0, 1)
         * @param epochs cross-entropy epochs before the two fine-tunings
         * @param fineTuneEpochs epochs of each fine-tuning (cross-entropy for the plain teacher, focal-entropy for the shaped one), positive
         * @param batchSize mini-batch size
         * @param learningRate AdamW's learning rate
         * @param weightDecay AdamW's decoupled weight decay
         * @param gamma the focal exponent
         * @param lambda the weight of the gated entropy bonus
         * @param maxWeight the clip W of the per-example difficulty weight
         * @param tau the confidence below which an example counts as hard
         */
        public TeacherConfig {
            if (hidden.isEmpty() || hidden.stream().anyMatch(h -> h < 1)) {
                throw new IllegalArgumentException("teacher.hidden must list positive widths, got " + hidden);
            }
            if (epochs < 1 || fineTuneEpochs < 1) {
                throw new IllegalArgumentException("teacher.epochs and teacher.fineTuneEpochs must be positive, got " + epochs
                        + " and " + fineTuneEpochs);
            }
            hidden = List.copyOf(hidden);
        }
    }

    /**
     * The students and the distillation.
     *
     * @param count students R per method, at least 2
     * @param hidden hidden widths of the MLP
     * @param dropout dropout after each hidden layer, in [0, 1)
     * @param epochs epochs
     * @param batchSize mini-batch size per student
     * @param learningRate AdamW's learning rate
     * @param weightDecay AdamW's decoupled weight decay
     * @param temperature T of the tempered KL (teacher and student)
     * @param alpha a, the weight of the KL term against the label cross-entropy
     * @param clipBudget the most mass W-Clip moves per item, in [0, 1]
     */
    public record StudentConfig(int count, List<Integer> hidden, float dropout, int epochs, int batchSize, float learningRate,
            float weightDecay, double temperature, double alpha, double clipBudget) {
        /**
         * Validates the settings.
         *
         * @param count students R per method, at least 2
         * @param hidden hidden widths of the MLP
         * @param dropout dropout after each hidden layer, in [0, 1)
         * @param epochs epochs
         * @param batchSize mini-batch size per student
         * @param learningRate AdamW's learning rate
         * @param weightDecay AdamW's decoupled weight decay
         * @param temperature T of the tempered KL (teacher and student)
         * @param alpha a, the weight of the KL term against the label cross-entropy
         * @param clipBudget the most mass W-Clip moves per item, in [0, 1]
         */
        public StudentConfig {
            if (count < 2) {
                throw new IllegalArgumentException("student.count must be at least 2, got " + count);
            }
            if (hidden.stream().anyMatch(h -> h < 1)) {
                throw new IllegalArgumentException("student.hidden must list positive widths, got " + hidden);
            }
            if (!(temperature > 0) || !(alpha >= 0 && alpha <= 1) || !(clipBudget >= 0 && clipBudget <= 1)) {
                throw new IllegalArgumentException("student: temperature must be positive, alpha and clipBudget in [0, 1], "
                        + "got " + temperature + ", " + alpha + ", " + clipBudget);
            }
            hidden = List.copyOf(hidden);
        }
    }

    /**
     * The experiment's configuration.
     *
     * @param dataset {@code fashion-mnist} (falls back to digits when missing) or {@code digits}
     * @param maxTrain the most training images used, 0 for all
     * @param maxTest the most test images used, 0 for all
     * @param seed the seed of subsets, label noise, shifts, teachers and students
     * @param labelNoise the symmetric label-noise rates of the training labels, each in [0, 1)
     * @param methods labels-only, plain-kd, w-clip, dus, dus+w-clip
     * @param teacher the teacher
     * @param student the students
     * @param shifts the shifts of the test images
     */
    public record Config(String dataset, int maxTrain, int maxTest, long seed, List<Double> labelNoise, List<String> methods,
            TeacherConfig teacher, StudentConfig student, List<Shift> shifts) {
        /**
         * Validates the configuration.
         *
         * @param dataset {@code fashion-mnist} (falls back to digits when missing) or {@code digits}
         * @param maxTrain the most training images used, 0 for all
         * @param maxTest the most test images used, 0 for all
         * @param seed the seed of subsets, label noise, shifts, teachers and students
         * @param labelNoise the symmetric label-noise rates of the training labels, each in [0, 1)
         * @param methods labels-only, plain-kd, w-clip, dus, dus+w-clip
         * @param teacher the teacher
         * @param student the students
         * @param shifts the shifts of the test images
         */
        public Config {
            if (labelNoise.isEmpty() || labelNoise.stream().anyMatch(e -> !(e >= 0 && e < 1))) {
                throw new IllegalArgumentException("labelNoise must list rates in [0, 1), got " + labelNoise);
            }
            if (methods.isEmpty() || !METHODS.containsAll(methods)) {
                throw new IllegalArgumentException("methods must list some of " + METHODS + ", got " + methods);
            }
            labelNoise = List.copyOf(labelNoise);
            methods = List.copyOf(methods);
            shifts = List.copyOf(shifts);
        }
    }

    private final Path home;
    private final Device device = Device.cpu();

    /**
     * Creates the experiment.
     *
     * @param home the folder that dataset paths are relative to
     */
    public CalibratedTeacherExperiment(Path home) {
        this.home = home;
    }

    @Override
    public String name() {
        return "calibrated-teacher";
    }

    /** A test condition: the clean images or a shift of them. */
    private record Condition(String label, float[][] x) {
    }

    /** One teacher's measurements at one noise level. */
    private record TeacherRow(double noise, String teacher, List<double[]> test, int wrong, double entropyWrong,
            double entropyRight, double entropyOnPlainWrong, double labelMass, double labelMassClipped, double trueMass,
            double trueMassClipped) {
    }

    /** One method's students at one noise level: per condition {acc[], ece[], nll[]}. */
    /** A styled bar chart of one metric per test condition and method, with error bars in black. */
    private static CategoryChart bars(String title, String yTitle) {
        CategoryChart c = Plots.style(new CategoryChartBuilder().width(900).height(560).title(title)
                .xAxisTitle("test images").yAxisTitle(yTitle).build());
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
        c.getStyler().setErrorBarsColor(java.awt.Color.BLACK);
        c.getStyler().setYAxisDecimalPattern("0.0##");
        return c;
    }

    private record Cell(double noise, String method, List<double[][]> scores) {
    }

    @Override
    public Report run(ConfigFile config, boolean quick, Path outDir) throws IOException {
        Config cfg = ExperimentFile.bind(config, Config.class);
        RunInfo info = RunInfo.start(RunInfo.commandLine(), device);
        ImageTask task = ImageTask.load(home, cfg.dataset(), cfg.maxTrain(), cfg.maxTest(), cfg.seed(), name());
        TabularData train = task.train();
        TabularData test = task.test();
        List<Condition> conditions = new ArrayList<>();
        conditions.add(new Condition("clean", test.features()));
        for (int i = 0; i < cfg.shifts().size(); i++) {
            Shift s = cfg.shifts().get(i);
            conditions.add(new Condition(s.label(), s.apply(test.features(), cfg.seed() * 101 + i)));
        }
        List<TeacherRow> teacherRows = new ArrayList<>();
        List<Cell> cells = new ArrayList<>();
        for (double eta : cfg.labelNoise()) {
            runNoise(cfg, eta, train, test.labels(), conditions, teacherRows, cells, outDir.resolve("runs/noise-"
                    + Numbers.brief(eta)));
        }
        Report r = report(cfg, task, quick, conditions, teacherRows, cells);
        r.provenance(info.finish(), config.root()).seed("seed", cfg.seed()).dataset("train", train).dataset("test", test);
        r.write(outDir);
        return r;
    }

    private void runNoise(Config cfg, double eta, TabularData clean, int[] testLabels, List<Condition> conditions,
            List<TeacherRow> teacherRows, List<Cell> cells, Path runs) {
        int c = clean.numClasses();
        int[] y = ImageTask.flipLabels(clean.labels(), c, eta, cfg.seed() * 13 + Double.doubleToLongBits(eta));
        TabularData train = new TabularData(clean.name(), clean.features(), y, null, c);
        TeacherConfig tc = cfg.teacher();
        StudentConfig sc = cfg.student();
        int[] hidden = tc.hidden().stream().mapToInt(Integer::intValue).toArray();
        Map<String, float[][]> logits = new LinkedHashMap<>(); // teacher -> train logits followed by each condition's
        long t0 = System.nanoTime();
        TabularData testPart = new TabularData("test", conditions.get(0).x(), testLabels, null, c);
        TrainingSpec base = TrainingSpec.builder().setDevice(device).setSeed(cfg.seed() + 11).setEpochs(tc.epochs()).setBatchSize(tc.batchSize()).setLearningRate(tc.learningRate())
                .optWeightDecay(tc.weightDecay()).optLogEvery(0).build();
        TrainingSpec fine = TrainingSpec.builder().setDevice(device).setSeed(cfg.seed() + 12).setEpochs(tc.fineTuneEpochs()).setBatchSize(tc.batchSize()).setLearningRate(tc.learningRate())
                .optWeightDecay(tc.weightDecay()).optLogEvery(0).build();
        try (Model teacher = TeacherComparisons.trainTeacher("teacher", train, hidden, tc.dropout(), Registry.loss("ce", Map.of()), base)) {
            byte[] start = TeacherComparisons.snapshot(teacher);
            TeacherComparisons.fineTune(teacher, train.features(), y, Registry.loss("ce", Map.of()), fine);
            logits.put("plain", outputs(teacher, train, testPart, conditions, runs.resolve("cache-plain")));
            TeacherComparisons.restore(teacher, start);
            TeacherComparisons.fineTune(teacher, train.features(), y, Registry.loss("focal-entropy", Map.of("gamma", tc.gamma(),
                    "lambda", tc.lambda(), "max-weight", tc.maxWeight(), "tau", tc.tau())), fine);
            logits.put("shaped", outputs(teacher, train, testPart, conditions, runs.resolve("cache-shaped")));
        }
        LOG.info(String.format(Locale.ROOT, "calibrated-teacher: label noise %s: teachers ready in %.1f s", eta,
                (System.nanoTime() - t0) / 1e9));
        double t = sc.temperature();
        Map<String, Object> plainSpec = Map.of("name", "bayesian-mean", "input", "logits", "temperature", t);
        Map<String, Object> clipSpec = Map.of("name", "wrong-mass-clip", "base", plainSpec, "budget", sc.clipBudget());
        boolean[] plainWrong = null;
        for (String kind : List.of("plain", "shaped")) {
            float[][] z = logits.get(kind);
            float[] tt = TeacherComparisons.targets(plainSpec, z[0], 1, c, null);
            float[] clipped = TeacherComparisons.targets(clipSpec, z[0], 1, c, y);
            List<double[]> test = new ArrayList<>();
            for (int i = 0; i < conditions.size(); i++) {
                double[][] p = TeacherComparisons.predictive(z[i + 1], 1, c, 1);
                test.add(new double[] {Metrics.accuracy(p, testLabels), Metrics.ece(p, testLabels), Metrics.nll(p, testLabels)});
            }
            double[][] p1 = TeacherComparisons.predictive(z[0], 1, c, 1);
            boolean[] wrong = new boolean[y.length];
            for (int i = 0; i < y.length; i++) {
                wrong[i] = io.distill4j.data.Rows.argmax(p1[i]) != y[i];
            }
            if (plainWrong == null) {
                plainWrong = wrong;
            }
            double[] ent = new double[y.length];
            for (int i = 0; i < y.length; i++) {
                ent[i] = Metrics.entropy(p1[i]);
            }
            teacherRows.add(new TeacherRow(eta, kind, test, count(wrong, true), meanWhere(ent, wrong, true),
                    meanWhere(ent, wrong, false), meanWhere(ent, plainWrong, true), mass(tt, y, c), mass(clipped, y, c),
                    mass(tt, clean.labels(), c), mass(clipped, clean.labels(), c)));
        }
        int[] sh = sc.hidden().stream().mapToInt(Integer::intValue).toArray();
        for (String method : cfg.methods()) {
            String kind = method.startsWith("dus") ? "shaped" : "plain";
            Map<String, Object> target = method.endsWith("w-clip") ? clipSpec : plainSpec;
            double alpha = method.equals("labels-only") ? 0 : sc.alpha(); // labels-only: the teacher term weighs 0
            if (!List.of("labels-only", "plain-kd", "w-clip", "dus", "dus+w-clip").contains(method)) {
                throw new AssertionError(method);
            }
            TrainingSpec spec = TrainingSpec.builder().setDevice(device).setSeed(cfg.seed() + 7).setEpochs(sc.epochs())
                    .setBatchSize(sc.batchSize()).setLearningRate(sc.learningRate()).optWeightDecay(sc.weightDecay())
                    .optLogEvery(0).build();
            long t1 = System.nanoTime();
            Distillation.Builder b = TeacherComparisons.students(method, train, testPart, runs.resolve("cache-" + kind), sh,
                    sc.dropout(), sc.count(), spec);
            Map<String, Object> options = new LinkedHashMap<>(target);
            b.target((String) options.remove("name"), options).loss("hinton-kd", Map.of("temperature", t, "alpha", alpha));
            for (int i = 1; i < conditions.size(); i++) {
                b.test(conditions.get(i).label(), new TabularData(conditions.get(i).label(), conditions.get(i).x(), testLabels,
                        null, c));
            }
            RunResult run = b.build().fit(runs.resolve(method));
            List<double[][]> scores = new ArrayList<>();
            for (int i = 0; i < conditions.size(); i++) {
                scores.add(TeacherComparisons.scores(run, i == 0 ? "" : conditions.get(i).label() + "/"));
            }
            cells.add(new Cell(eta, method, scores));
            LOG.info(String.format(Locale.ROOT, "calibrated-teacher: label noise %s, %s: clean accuracy %.4f, ECE %.4f, NLL %.4f"
                    + " (%.1f s)", eta, method, Descriptive.mean(scores.get(0)[0]), Descriptive.mean(scores.get(0)[1]),
                    Descriptive.mean(scores.get(0)[2]), (System.nanoTime() - t1) / 1e9));
        }
    }

    /**
     * The teacher's logits on the training images, sampled into the cache the students distil (a deterministic
     * teacher, k = 1), then on every condition's test images, each flat (n, C).
     */
    private static float[][] outputs(Model teacher, TabularData train, TabularData test, List<Condition> conditions,
            Path cache) {
        float[][] out = new float[conditions.size() + 1][];
        int c = train.numClasses();
        out[0] = TeacherComparisons.sampleInto(new io.distill4j.teacher.DeterministicTeacher(teacher, 1, c,
                io.distill4j.teacher.TeacherOutput.logits(), "mlp teacher"), train, test, cache);
        for (int i = 0; i < conditions.size(); i++) {
            out[i + 1] = Rows.flatten(Inference.outputs(teacher, conditions.get(i).x(), false));
        }
        return out;
    }

    // ---------------------------------------------------------------- report

    private Report report(Config cfg, ImageTask task, boolean quick, List<Condition> conditions, List<TeacherRow> teachers,
            List<Cell> cells) {
        Report r = new Report("Calibrated uncertainty distillation (Kim et al. 2026)");
        TeacherConfig tc = cfg.teacher();
        StudentConfig sc = cfg.student();
        r.paragraph(task.note() + String.format(Locale.ROOT, " Label noise: each training label is replaced with probability "
                + "%s by another class drawn uniformly (test labels stay clean). Seed %d%s.", cfg.labelNoise(), cfg.seed(),
                quick ? " (quick variant)" : ""));
        r.paragraph(String.format(Locale.ROOT, """
                Teacher: MLP %s (dropout %s, AdamW %s, batch %d), %d epochs of cross-entropy on the training labels; then \
                the **plain** teacher trains %d more epochs of cross-entropy and the **shaped** (DUS) teacher %d epochs of \
                the registry's focal-entropy loss (gamma %s, lambda %s, weight clip W %s, tau %s) from the same weights. \
                Students: %d MLPs %s (dropout %s, AdamW %s, batch %d, %d epochs), the same initialisations for every \
                method, trained by the pipeline (one stacked distill4j run per method under runs/, on the teacher's \
                logits sampled into its cache, the shifted test images as further test sets), on the registry's hinton-kd loss (1 - a) CE + a T^2 KL(p_T || softmax(z / T)) with T = %s, a = %s; \
                p_T = softmax(z_T / T); W-Clip is the registry's wrong-mass-clip of p_T against the training label (budget \
                %s). labels-only is the same students on the labels alone (a = 0). Test conditions: the clean test images \
                and %s. ± in every table of students: %s.""", tc.hidden(),
                Numbers.brief(tc.dropout()), Numbers.brief(tc.learningRate()), tc.batchSize(), tc.epochs(), tc.fineTuneEpochs(),
                tc.fineTuneEpochs(), Numbers.brief(tc.gamma()), Numbers.brief(tc.lambda()), Numbers.brief(tc.maxWeight()), Numbers.brief(tc.tau()), sc.count(),
                sc.hidden(), Numbers.brief(sc.dropout()), Numbers.brief(sc.learningRate()), sc.batchSize(), sc.epochs(), Numbers.brief(sc.temperature()),
                Numbers.brief(sc.alpha()), Numbers.brief(sc.clipBudget()), cfg.shifts().isEmpty() ? "no shift"
                        : String.join(", ", cfg.shifts().stream().map(Shift::label).toList()),
                Summary.meaning(Summary.CONFIDENCE, sc.count(), "students")));

        r.paragraph("## Teachers");
        List<List<String>> rows = new ArrayList<>();
        for (TeacherRow t : teachers) {
            for (int i = 0; i < conditions.size(); i++) {
                double[] m = t.test().get(i);
                rows.add(List.of(Numbers.brief(t.noise()), t.teacher(), conditions.get(i).label(), Numbers.fixed(m[0], 4), Numbers.fixed(m[1], 4), Numbers.fixed(m[2], 4)));
            }
        }
        r.table(List.of("label noise", "teacher", "test images", "accuracy", "ECE", "NLL"), rows);
        r.paragraph("On the training images (T = 1 for entropies; target masses at the distillation temperature T): items "
                + "the teacher gets wrong against the training label, its mean entropy on them and on the rest, the shaped "
                + "teacher's entropy on the items the plain teacher gets wrong, and the mean target mass on the training "
                + "label and on the true (clean) label, before and after W-Clip.");
        List<List<String>> trows = new ArrayList<>();
        for (TeacherRow t : teachers) {
            trows.add(List.of(Numbers.brief(t.noise()), t.teacher(), Integer.toString(t.wrong()), Numbers.fixed(t.entropyWrong(), 4), Numbers.fixed(t.entropyRight(), 4),
                    Numbers.fixed(t.entropyOnPlainWrong(), 4), Numbers.fixed(t.labelMass(), 4) + " → " + Numbers.fixed(t.labelMassClipped(), 4),
                    Numbers.fixed(t.trueMass(), 4) + " → " + Numbers.fixed(t.trueMassClipped(), 4)));
        }
        r.table(List.of("label noise", "teacher", "wrong", "entropy (wrong)", "entropy (right)", "entropy on plain's wrong",
                "mass on training label → W-Clip", "mass on true label → W-Clip"), trows);
        List<String> shaping = new ArrayList<>();
        for (double eta : cfg.labelNoise()) {
            TeacherRow plain = find(teachers, eta, "plain");
            TeacherRow shaped = find(teachers, eta, "shaped");
            for (int i = 0; i < conditions.size(); i++) {
                shaping.add(String.format(Locale.ROOT, "label noise %s, %s images: ECE %.4f → %.4f, NLL %.4f → %.4f, "
                        + "accuracy %.4f → %.4f", Numbers.brief(eta), conditions.get(i).label(), plain.test().get(i)[1],
                        shaped.test().get(i)[1], plain.test().get(i)[2], shaped.test().get(i)[2], plain.test().get(i)[0],
                        shaped.test().get(i)[0]));
            }
        }
        r.paragraph("Shaping the teacher (plain → shaped):\n\n- " + String.join("\n- ", shaping));

        r.paragraph("## Students");
        List<List<String>> srows = new ArrayList<>();
        List<Map<String, Object>> json = new ArrayList<>();
        for (Cell cell : cells) {
            for (int i = 0; i < conditions.size(); i++) {
                double[][] s = cell.scores().get(i);
                srows.add(List.of(Numbers.brief(cell.noise()), cell.method(), conditions.get(i).label(), Summary.of(s[0]).format(4),
                        Summary.of(s[1]).format(4), Summary.of(s[2]).format(4)));
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("labelNoise", cell.noise());
                m.put("method", cell.method());
                m.put("testImages", conditions.get(i).label());
                m.put("accuracy", s[0]);
                m.put("ece", s[1]);
                m.put("nll", s[2]);
                m.put("accuracyMean", Descriptive.mean(s[0]));
                m.put("eceMean", Descriptive.mean(s[1]));
                m.put("nllMean", Descriptive.mean(s[2]));
                json.add(m);
            }
        }
        r.table(List.of("label noise", "method", "test images", "accuracy", "ECE", "NLL"), srows);
        if (cfg.methods().contains("plain-kd")) {
            r.paragraph("Paired differences against plain KD (this method's student minus the plain-KD student from the same "
                    + "initialisation and data order). ±: " + Summary.meaning(Summary.CONFIDENCE, sc.count(), "students")
                    + " (paired differences); an interval that excludes 0 marks a difference this run resolves.");
            List<List<String>> drows = new ArrayList<>();
            List<String> summary = new ArrayList<>();
            for (Cell cell : cells) {
                Cell plain = cells.stream().filter(x -> x.noise() == cell.noise() && x.method().equals("plain-kd")).findFirst()
                        .orElseThrow();
                if (cell == plain) {
                    continue;
                }
                for (int i = 0; i < conditions.size(); i++) {
                    double[][] a = cell.scores().get(i);
                    double[][] b = plain.scores().get(i);
                    double[] da = minus(a[0], b[0]);
                    double[] de = minus(a[1], b[1]);
                    double[] dn = minus(a[2], b[2]);
                    drows.add(List.of(Numbers.brief(cell.noise()), cell.method(), conditions.get(i).label(), Summary.of(da).format(4),
                            Summary.of(de).format(4), Summary.of(dn).format(4)));
                    List<String> said = new ArrayList<>();
                    resolved(said, "accuracy", da);
                    resolved(said, "ECE", de);
                    resolved(said, "NLL", dn);
                    summary.add("label noise " + Numbers.brief(cell.noise()) + ", " + cell.method() + ", " + conditions.get(i).label()
                            + " images: " + (said.isEmpty() ? "no resolved difference" : String.join(", ", said)));
                }
            }
            r.table(List.of("label noise", "method", "test images", "Δ accuracy", "Δ ECE", "Δ NLL"), drows);
            r.paragraph("What this run resolves against plain KD (not asserted; the paper reports that W-Clip and DUS, and "
                    + "most of all both, give students that are more accurate and better calibrated, also under shift):\n\n- "
                    + String.join("\n- ", summary));
        }
        for (double eta : cfg.labelNoise()) {
            String tag = "noise-" + Numbers.brief(eta).replace('.', '-');
            String interval = " (mean; error bars: 95% t interval over " + cfg.student().count() + " students)";
            CategoryChart acc = bars("Student accuracy, label noise " + Numbers.brief(eta), "accuracy" + interval);
            CategoryChart ece = bars("Student ECE, label noise " + Numbers.brief(eta), "ECE" + interval);
            List<String> labels = conditions.stream().map(Condition::label).toList();
            for (Cell cell : cells) {
                if (cell.noise() != eta) {
                    continue;
                }
                for (int m = 0; m < 2; m++) {
                    int metric = m;
                    List<Summary> s = cell.scores().stream().map(x -> Summary.of(x[metric])).toList();
                    (m == 0 ? acc : ece).addSeries(cell.method(), labels, s.stream().map(Summary::mean).toList(),
                            s.stream().map(Summary::halfWidth).toList());
                }
            }
            r.plot("calibrated-teacher-accuracy-" + tag, acc);
            r.plot("calibrated-teacher-ece-" + tag, ece);
        }
        r.data("config", cfg);
        r.data("dataset", task.name());
        r.data("teachers", teachers.stream().map(t -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("labelNoise", t.noise());
            m.put("teacher", t.teacher());
            Map<String, Object> test = new LinkedHashMap<>();
            for (int i = 0; i < conditions.size(); i++) {
                double[] v = t.test().get(i);
                test.put(conditions.get(i).label(), Map.of("accuracy", v[0], "ece", v[1], "nll", v[2]));
            }
            m.put("test", test);
            m.put("wrongOnTraining", t.wrong());
            m.put("entropyWrong", t.entropyWrong());
            m.put("entropyRight", t.entropyRight());
            m.put("entropyOnPlainWrong", t.entropyOnPlainWrong());
            m.put("labelMass", t.labelMass());
            m.put("labelMassClipped", t.labelMassClipped());
            m.put("trueLabelMass", t.trueMass());
            m.put("trueLabelMassClipped", t.trueMassClipped());
            return m;
        }).toList());
        r.data("students", json);
        checks(cfg, teachers, r);
        return r;
    }

    private static void checks(Config cfg, List<TeacherRow> teachers, Report r) {
        r.paragraph("## The paper's claims at this size");
        for (TeacherRow t : teachers) {
            r.check("W-Clip makes the " + t.teacher() + " teacher's targets put more mass on the training label (label noise "
                    + Numbers.brief(t.noise()) + ")", t.labelMassClipped() > t.labelMass(), String.format(Locale.ROOT,
                    "mean mass %.4f after vs %.4f before, %d items moved", t.labelMassClipped(), t.labelMass(), t.wrong()));
        }
        for (double eta : cfg.labelNoise()) {
            TeacherRow plain = find(teachers, eta, "plain");
            TeacherRow shaped = find(teachers, eta, "shaped");
            r.check("the shaped (DUS) teacher has higher entropy than the plain teacher on the training items they misclassify"
                    + " (label noise " + Numbers.brief(eta) + ")", shaped.entropyWrong() > plain.entropyWrong(),
                    String.format(Locale.ROOT, "mean entropy %.4f vs %.4f", shaped.entropyWrong(), plain.entropyWrong()));
        }
    }

    // ---------------------------------------------------------------- helpers

    private static TeacherRow find(List<TeacherRow> teachers, double eta, String kind) {
        return teachers.stream().filter(t -> t.noise() == eta && t.teacher().equals(kind)).findFirst().orElseThrow();
    }

    private static double mass(float[] p, int[] labels, int c) {
        double s = 0;
        for (int i = 0; i < labels.length; i++) {
            s += p[i * c + labels[i]];
        }
        return s / labels.length;
    }

    private static int count(boolean[] b, boolean v) {
        int n = 0;
        for (boolean x : b) {
            n += x == v ? 1 : 0;
        }
        return n;
    }

    private static double meanWhere(double[] v, boolean[] mask, boolean want) {
        double s = 0;
        int n = 0;
        for (int i = 0; i < v.length; i++) {
            if (mask[i] == want) {
                s += v[i];
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
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

package io.distill4j.experiments;

import io.distill4j.data.Numbers;
import io.distill4j.pipeline.Plots;
import io.distill4j.pipeline.RunInfo;
import io.distill4j.pipeline.Draws;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.Teachers;
import io.distill4j.models.Inference;
import io.distill4j.teacher.McDropoutTeacher;
import io.distill4j.teacher.Teacher;
import io.distill4j.teacher.TeacherOutput;
import io.distill4j.trainer.stats.Regression;
import io.distill4j.trainer.stats.Bootstrap;
import io.distill4j.trainer.stats.BootstrapInterval;
import io.distill4j.trainer.stats.Summary;
import io.distill4j.trainer.stats.Descriptive;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.data.HeaderCsv;
import io.distill4j.data.Rows;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.datasets.Mnist;
import io.distill4j.data.Standardizer;
import io.distill4j.data.TabularData;
import io.distill4j.loss.EmaStudentEstimate;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.StudentEstimates;
import io.distill4j.teacher.OutputNoiseTeacher;
import io.distill4j.trainer.Metrics;
import io.distill4j.models.StackedMlp;
import io.distill4j.trainer.StackedStudents;
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

/**
 * Cui &amp; Pei 2026 (arXiv 2601.18909) with neural networks: MLP teachers and MLP students.
 *
 * <p>Regression (Boston housing, diabetes): an MLP teacher (one hidden layer of 16 ReLU units, Adam 0.01,
 * full-batch) gives mu_T; an additive-noise teacher around it ({@link OutputNoiseTeacher}, y = mu_T(x) + eps,
 * eps ~ N(0, a Var(y))) is sampled into one cache per (a, k) under {@code runs/regression-<dataset>/}, and each
 * student distils its own k draws per row as an MLP(16) trained full-batch on the {@code mean} target or on the
 * practical {@code inverse-variance} target (the mean fused with an exponential moving average of the student's own
 * predictions per row, {@link StudentEstimates#ema}, weighted by the inverse of the EMA spread against the teacher
 * side's ddof-1 variance / k); each (a, k, target) is one stacked pipeline run.
 *
 * <p>Classification (digits, breast cancer, wine, MNIST): an MLP(128) teacher with dropout 0.3 gives k MC-dropout
 * samples per training input, drawn afresh for every student; students MLP(64) with dropout 0.1 learn from
 * {@code single} (one sample), {@code mean} (mean of k), {@code inverse-variance} (practical, the student's
 * MC-dropout estimate, 4 passes) or {@code multi-sample} (the k samples' arg-max labels, i.e. their vote
 * histogram), each a target of the registry. The teacher's draws are sampled into a cache ({@link Teachers#of})
 * and each target is one stacked pipeline run ({@link io.distill4j.pipeline.Distillation}, per-student draws)
 * under {@code runs/classification-<dataset>/}.
 *
 * <p>All R students of a setting train at once as a {@link StackedMlp} on {@link StackedStudents} (the project's
 * training engine and AdamW) inside the pipeline's stacked runs; only the teachers are trained directly.
 */
public final class FfnExperiment implements Experiment {
    private static final Logger LOG = LogManager.getLogger(FfnExperiment.class);
    /** Each regression student's objective: mean squared error. */
    private static final ai.djl.training.loss.Loss MSE = TeacherComparisons.loss("mse", Map.of());

    /**
     * Regression settings.
     *
     * @param datasets {@code boston} and/or {@code diabetes}
     * @param noise noise levels a
     * @param k sample counts
     * @param students students per setting
     * @param hidden hidden width of teacher and students
     * @param epochs full-batch epochs of teacher and students
     * @param learningRate Adam's learning rate
     * @param methods {@code mean}, {@code inverse-variance}
     */
    public record RegressionConfig(List<String> datasets, List<Double> noise, List<Integer> k, int students, int hidden,
            int epochs, float learningRate, List<String> methods) {
    }

    /**
     * Classification settings.
     *
     * @param datasets scikit-learn dataset names ({@code digits}, {@code breast_cancer}, {@code wine}, {@code iris})
     *     or {@code mnist} (the official training and test sets from {@code datasets/mnist/raw}, fetched by
     *     {@code datasets/mnist/fetch.sh}, subsampled as below)
     * @param mnistTrain MNIST training images used (a seeded random subset of the 60,000; 0 = all)
     * @param mnistTest MNIST test images used (a seeded random subset of the 10,000; 0 = all)
     * @param k MC-dropout samples per input
     * @param students students per method
     * @param teacherHidden teacher hidden width
     * @param studentHidden student hidden width
     * @param teacherEpochs teacher epochs
     * @param studentEpochs student epochs
     * @param batchSize mini-batch size
     * @param learningRate Adam's learning rate
     * @param methods {@code single}, {@code mean}, {@code inverse-variance}, {@code multi-sample}
     */
    public record ClassificationConfig(List<String> datasets, int mnistTrain, int mnistTest, int k, int students,
            int teacherHidden, int studentHidden, int teacherEpochs, int studentEpochs, int batchSize, float learningRate,
            List<String> methods) {
    }

    /**
     * The experiment's configuration.
     *
     * @param testFraction test share of each split
     * @param seed the seed
     * @param regression regression settings (an empty dataset list skips this part)
     * @param classification classification settings (an empty dataset list skips this part)
     */
    public record Config(double testFraction, long seed, RegressionConfig regression, ClassificationConfig classification) {
    }

    private final Path home;
    private final Device device = Device.cpu();

    /**
     * Creates the experiment.
     *
     * @param home the folder that dataset paths are relative to
     */
    public FfnExperiment(Path home) {
        this.home = home;
    }

    @Override
    public String name() {
        return "ffn";
    }

    @Override
    public Report run(ConfigFile config, boolean quick, Path outDir) throws IOException {
        Config cfg = ExperimentFile.bind(config, Config.class);
        check(cfg);
        RunInfo info = RunInfo.start(RunInfo.commandLine(), device);
        Report r = new Report("Feed-forward teachers and students (Cui & Pei 2026)");
        r.paragraph(String.format(Locale.ROOT, "Seed %d, test fraction %s%s.", cfg.seed(), cfg.testFraction(),
                quick ? " (quick variant)" : ""));
        r.data("config", cfg);
        if (!cfg.regression().datasets().isEmpty()) {
            regression(cfg, cfg.regression(), r, outDir.resolve("runs"));
        }
        if (!cfg.classification().datasets().isEmpty()) {
            classification(cfg, cfg.classification(), r, outDir.resolve("runs"));
        }
        r.provenance(info.finish(), config.root()).seed("seed", cfg.seed());
        r.write(outDir);
        return r;
    }

    // ---------------------------------------------------------------- regression

    /** Refuses unknown targets and absent MNIST files before any work (the regression part takes minutes). */
    private void check(Config cfg) {
        for (String method : cfg.regression().methods()) {
            if (!REGRESSION_TARGETS.contains(method)) {
                throw new io.distill4j.data.BadInputException("experiment ffn: regression.methods: unknown '" + method
                        + "' (" + String.join(", ", REGRESSION_TARGETS) + ")");
            }
        }
        for (String method : cfg.classification().methods()) {
            if (!CLASSIFICATION_TARGETS.contains(method)) {
                throw new io.distill4j.data.BadInputException("experiment ffn: classification.methods: unknown '"
                        + method + "' (" + String.join(", ", CLASSIFICATION_TARGETS) + ")");
            }
        }
        if (cfg.classification().datasets().contains("mnist")) {
            mnistDir();
        }
    }

    /** @return MNIST's IDX folder, checked to hold both sets */
    private Path mnistDir() {
        Path dir = home.resolve("datasets/mnist/raw");
        if (!Mnist.present(dir, Mnist.Split.TRAIN) || !Mnist.present(dir, Mnist.Split.TEST)) {
            throw new io.distill4j.data.BadInputException("experiment ffn: classification.datasets: 'mnist' needs the IDX "
                    + "files in " + dir + "; run datasets/mnist/fetch.sh, or remove mnist from the list");
        }
        return dir;
    }

    private void regression(Config cfg, RegressionConfig rc, Report r, Path runs) {
        r.paragraph("## Regression: MLP(" + rc.hidden() + ") teacher, MLP(" + rc.hidden() + ") students\n\nTest MSE: "
                + Summary.meaning(Summary.CONFIDENCE, rc.students(), "students") + ".");
        List<List<String>> rows = new ArrayList<>();
        List<List<String>> fits = new ArrayList<>();
        List<Map<String, Object>> cells = new ArrayList<>();
        double[] ks = rc.k().stream().mapToDouble(Integer::doubleValue).toArray();
        for (String ds : rc.datasets()) {
            TabularData data = switch (ds) {
                case "boston" -> HeaderCsv.readRegression(home.resolve("datasets/boston/boston.csv"), "boston", "medv");
                case "diabetes" -> SklearnCsv.load("diabetes", home.resolve("datasets/sklearn"));
                default -> throw new io.distill4j.data.BadInputException("experiment ffn: regression.datasets: unknown '"
                        + ds + "' (boston, diabetes)");
            };
            TabularData.Split s = Standardizer.standardise(data.split(cfg.testFraction(), cfg.seed()));
            r.dataset(ds + " train (standardised)", s.train()).dataset(ds + " test (standardised)", s.test());
            float[][] yTrain = column(s.train().targets());
            double teacherMse;
            int n = yTrain.length;
            Path dsRuns = runs.resolve("regression-" + ds);
            // the teacher as the students are made (a one-student stack), taken out as an MLP of its own: the mean of
            // an additive-noise teacher sampled into one cache per (a, k), each student's own k draws per row
            try (NDManager dm = NDManager.newBaseManager(device);
                    Model stack = StackedStudents.train(StackedMlp.builder().setStudents(1).setInputs(s.train().width())
                            .setHidden(rc.hidden()).setOutputs(1).build(), s.train().features(),
                            StackedStudents.perStudentRows(dm.create(Rows.flatten(yTrain), new Shape(1, n, 1))), MSE,
                            spec(rc.epochs(), n, rc.learningRate(), 0f, cfg.seed()), n, null);
                    Model t = StackedStudents.student(stack, 0, "teacher")) {
                teacherMse = mse(StackedStudents.predict(stack, s.test().features(), false)[0], s.test().targets());
                for (double a : rc.noise()) {
                    for (int k : rc.k()) {
                        Teacher noisy = OutputNoiseTeacher.absolute(t, rc.students() * k, new double[] {a},
                                cfg.seed() ^ Double.doubleToLongBits(a) * 31 ^ k * 1_000_003L, "mlp " + s.train().width()
                                        + "-" + rc.hidden() + "-1");
                        Teachers.of(noisy).fill(s, noisy.k(), regressionCache(dsRuns, a, k), device, LOG::debug);
                    }
                }
            }
            LOG.info("ffn regression {}: teacher test MSE {}", ds, teacherMse);
            XYChart chart = LinearRegressionExperiment.logLog(ds + ": inter-student variance of predictions vs k",
                    "k (teacher samples)", "variance across students");
            for (double a : rc.noise()) {
                for (String method : rc.methods()) {
                    double[] predVar = new double[ks.length];
                    for (int ki = 0; ki < ks.length; ki++) {
                        int k = rc.k().get(ki);
                        Map<String, Object> cell = regressionCell(cfg, rc, s, dsRuns, a, k, method);
                        cell.put("dataset", ds);
                        cell.put("teacherTestMse", teacherMse);
                        cells.add(cell);
                        predVar[ki] = (double) cell.get("predVar");
                        double[] m = (double[]) cell.remove("mse");
                        rows.add(List.of(ds, Numbers.plain(a), Integer.toString(k), method,
                                Summary.of(m).format(4),
                                Numbers.sci(Descriptive.variance(m)), Numbers.sci(predVar[ki])));
                    }
                    double slope = Regression.logLogSlope(ks, predVar);
                    double[] fit = Regression.fitFloorPlusInverse(ks, predVar);
                    Plots.addSeries(chart, String.format(Locale.ROOT, "noise a = %s, %s target (log-log slope %.2f)", Numbers.plain(a),
                            method, slope), ks, predVar, null, null);
                    r.data("slope " + ds + " a=" + Numbers.plain(a) + " " + method, slope);
                    fits.add(List.of(ds, Numbers.plain(a), method, String.format(Locale.ROOT, "%.3f", slope), Numbers.sci(fit[0]), Numbers.sci(fit[1]),
                            Numbers.sci(a * 1.0)));
                    if (method.equals("mean")) {
                        r.check("averaging lowers the inter-student variance of an MLP student as k grows (" + ds + ", a = "
                                + Numbers.plain(a) + ")", slope < 0 && predVar[predVar.length - 1] < predVar[0],
                                String.format(Locale.ROOT, "log-log slope %.3f; variance %.3e at k=%d, %.3e at k=%d", slope,
                                        predVar[0], rc.k().get(0), predVar[predVar.length - 1], rc.k().get(ks.length - 1)));
                    }
                }
            }
            r.plot("ffn-regression-" + ds, chart);
        }
        r.table(List.of("dataset", "a", "k", "target", "test MSE (mean ± 95% t)", "inter-student var of test MSE",
                "inter-student var of predictions"), rows);
        r.paragraph("""
                Unlike OLS students, MLP students disagree even when their targets agree: initialisation and
                optimisation add a floor. The table fits the inter-student variance of predictions as
                floor + noise / k by least squares in 1/k: the floor is what averaging cannot remove; the noise
                term is the part of the teacher's noise (variance a in standardised units) that reaches the
                students. At low teacher noise the floor dominates, so the variance falls much more slowly than
                1/k.
                """);
        r.table(List.of("dataset", "a", "target", "log-log slope", "floor", "noise term", "teacher noise variance a"), fits);
        r.data("regression", cells);
    }

    /** The regression targets: registry names, each a stacked pipeline run on per-student draws. */
    static final List<String> REGRESSION_TARGETS = List.of("mean", "inverse-variance");

    /** The EMA of a regression student's own predictions per row that the inverse-variance target fuses with. */
    static final StudentEstimates REGRESSION_ESTIMATE = StudentEstimates.ema(0.1, EmaStudentEstimate.Variance.SPREAD, 1);

    private static Path regressionCache(Path dsRuns, double a, int k) {
        return dsRuns.resolve("a-" + Numbers.plain(a) + "-k-" + k + "/cache");
    }

    /**
     * One regression setting's students: a stacked pipeline run ({@link TeacherComparisons#students}) on the cache of
     * (a, k), each student distilling its own k draws per row, full-batch, with the {@code mean} target or the
     * practical {@code inverse-variance} one fused with an EMA (rate 0.1) of the student's own predictions, whose
     * variance is the EMA spread started at 1, the standardised target's variance ({@link #REGRESSION_ESTIMATE}).
     */
    private Map<String, Object> regressionCell(Config cfg, RegressionConfig rc, TabularData.Split s, Path dsRuns, double a,
            int k, String method) {
        int n = s.train().size();
        Distillation.Builder b = TeacherComparisons.students(method, s.train(), s.test(), regressionCache(dsRuns, a, k),
                new int[] {rc.hidden()}, 0f, rc.students(), spec(rc.epochs(), n, rc.learningRate(), 0f, cfg.seed() + 17 * k))
                .draws(Draws.PER_STUDENT).samples(k).loss("mse");
        if (method.equals("mean")) {
            b.target("mean");
        } else {
            b.target("inverse-variance", Map.of("renormalise", false)).studentEstimate(REGRESSION_ESTIMATE);
        }
        RunResult run = b.build().fit(dsRuns.resolve("a-" + Numbers.plain(a) + "-k-" + k + "/" + method));
        double[] mse = run.result().students().stream().mapToDouble(st -> st.metrics().get("mse")).toArray();
        Map<String, Object> cell = new LinkedHashMap<>();
        cell.put("a", a);
        cell.put("k", k);
        cell.put("method", method);
        cell.put("mseMean", Descriptive.mean(mse));
        cell.put("mseCi95", Summary.of(mse).halfWidth());
        cell.put("mseVar", Descriptive.variance(mse));
        cell.put("predVar", run.result().predictionVariance());
        cell.put("mse", mse);
        return cell;
    }

    /**
     * The train/test split of a classification dataset: a seeded split of a scikit-learn table, or MNIST's
     * official sets, each a seeded random subset of the configured size.
     */
    private TabularData.Split classificationSplit(String ds, Config cfg, ClassificationConfig cc) {
        if (!"mnist".equals(ds)) {
            return SklearnCsv.load(ds, home.resolve("datasets/sklearn")).split(cfg.testFraction(), cfg.seed());
        }
        Path dir = mnistDir();
        TabularData train = subset(Mnist.load(dir, Mnist.Split.TRAIN, "mnist"), cc.mnistTrain(), cfg.seed());
        TabularData test = subset(Mnist.load(dir, Mnist.Split.TEST, "mnist"), cc.mnistTest(), cfg.seed() + 1);
        LOG.info("ffn classification mnist: {} training and {} test images", train.size(), test.size());
        return new TabularData.Split(train, test);
    }

    /** A seeded random subset of n rows (all rows when n is 0 or at least the table's size). */
    private static TabularData subset(TabularData t, int n, long seed) {
        if (n < 0) {
            throw new io.distill4j.data.BadInputException("experiment ffn: classification.mnistTrain/mnistTest must be >= 0, got "
                    + n);
        }
        if (n == 0 || n >= t.size()) {
            return t;
        }
        return t.select(java.util.Arrays.copyOf(TabularData.permutation(t.size(), seed), n));
    }

    // ---------------------------------------------------------------- classification

    /** The classification targets: registry names, each a stacked pipeline run on per-student draws. */
    static final List<String> CLASSIFICATION_TARGETS = List.of("single", "mean", "inverse-variance", "multi-sample");

    private void classification(Config cfg, ClassificationConfig cc, Report r, Path runs) {
        r.paragraph(String.format(Locale.ROOT, "## Classification: MLP(%d) teacher with MC dropout (k = %d), MLP(%d) students"
                + "%n%nAccuracy: %s.", cc.teacherHidden(), cc.k(), cc.studentHidden(),
                Summary.meaning(Summary.CONFIDENCE, cc.students(), "students")));
        List<List<String>> rows = new ArrayList<>();
        List<Map<String, Object>> cells = new ArrayList<>();
        List<List<String>> diffRows = new ArrayList<>();
        List<Map<String, Object>> diffs = new ArrayList<>();
        for (String ds : cc.datasets()) {
            TabularData.Split split = classificationSplit(ds, cfg, cc);
            TabularData.Split s = Standardizer.standardise(split);
            r.dataset(ds + " train (standardised)", s.train()).dataset(ds + " test (standardised)", s.test());
            int c = split.train().numClasses();
            int n = s.train().features().length;
            int students = cc.students();
            int[] yTest = s.test().labels();
            double teacherAcc;
            Path dsRuns = runs.resolve("classification-" + ds);
            // the teacher as the students are made (a one-student stack: PyTorch's uniform initialisation), then taken
            // out as an MLP of its own for MC-dropout sampling
            try (NDManager dm = NDManager.newBaseManager(device);
                    Model stack = StackedStudents.train(StackedMlp.builder().setStudents(1).setInputs(s.train().width())
                            .setHidden(cc.teacherHidden()).setOutputs(c).optDropout(0.3f).build(), s.train().features(),
                            StackedStudents.perStudentRows(dm.create(Rows.flatten(Rows.oneHot(s.train().labels(), c)),
                                    new Shape(1, n, c))), TeacherComparisons.loss("soft-ce", Map.of()),
                            spec(cc.teacherEpochs(), cc.batchSize(), cc.learningRate(), 1e-4f, cfg.seed()), cc.batchSize(),
                            null);
                    Model t = StackedStudents.student(stack, 0, "teacher")) {
                teacherAcc = Metrics.accuracy(Metrics.toDouble(Inference.probabilities(t, s.test().features(), false)), yTest);
                // every student gets its own k MC-dropout draws: students * k per row in the cache
                Teacher mc = McDropoutTeacher.builder(t).setSamples(students * cc.k()).setWidth(c)
                        .optOutput(TeacherOutput.probabilities(1f)).optSeed(cfg.seed() + 101)
                        .setDescription("mlp " + s.train().width() + "-" + cc.teacherHidden() + "-" + c + " dropout 0.3")
                        .build();
                Teachers.of(mc).fill(s, mc.k(), dsRuns.resolve("cache"), device, LOG::debug);
            }
            LOG.info("ffn classification {}: teacher test accuracy {}", ds, teacherAcc);
            List<Double> variances = new ArrayList<>();
            List<Double> lows = new ArrayList<>();
            List<Double> highs = new ArrayList<>();
            Map<String, double[][][]> byMethod = new LinkedHashMap<>();
            for (String method : cc.methods()) {
                RunResult run = TeacherComparisons.students(method, s.train(), s.test(), dsRuns.resolve("cache"),
                        new int[] {cc.studentHidden()}, 0.1f, students, spec(cc.studentEpochs(), cc.batchSize(),
                                cc.learningRate(), 1e-4f, cfg.seed() + 1))
                        .draws(Draws.PER_STUDENT).samples(cc.k()).target(method).loss("soft-ce").studentPasses(4)
                        .build().fit(dsRuns.resolve(method));
                double[][][] probs = run.result().predictions().toArray(new double[0][][]);
                double[] acc = new double[students];
                double[] ece = new double[students];
                double[] nll = new double[students];
                double hRight = 0;
                double hWrong = 0;
                int nRight = 0;
                int nWrong = 0;
                for (int st = 0; st < students; st++) {
                    acc[st] = Metrics.accuracy(probs[st], yTest);
                    ece[st] = Metrics.ece(probs[st], yTest);
                    nll[st] = Metrics.nll(probs[st], yTest);
                    for (int i = 0; i < yTest.length; i++) {
                        double h = Metrics.entropy(probs[st][i]);
                        if (Rows.argmax(probs[st][i]) == yTest[i]) {
                            hRight += h;
                            nRight++;
                        } else {
                            hWrong += h;
                            nWrong++;
                        }
                    }
                }
                // over test items: resampling students with replacement repeats students and biases a variance low
                double[] items = Metrics.itemVariances(probs);
                BootstrapInterval interval = Bootstrap.percentile(items.length, idx -> Bootstrap.mean(items, idx),
                        Bootstrap.RESAMPLES, Summary.CONFIDENCE, cfg.seed(), "test items");
                double inter = interval.estimate();
                lows.add(interval.low());
                highs.add(interval.high());
                byMethod.put(method, probs);
                double entRight = nRight == 0 ? Double.NaN : hRight / nRight;
                double entWrong = nWrong == 0 ? Double.NaN : hWrong / nWrong;
                variances.add(inter);
                Map<String, Object> cell = new LinkedHashMap<>();
                cell.put("dataset", ds);
                cell.put("method", method);
                cell.put("teacherTestAccuracy", teacherAcc);
                cell.put("accuracyMean", Descriptive.mean(acc));
                cell.put("accuracyCi95", Summary.of(acc).halfWidth());
                cell.put("accuracyStd", Summary.of(acc).std());
                cell.put("eceMean", Descriptive.mean(ece));
                cell.put("nllMean", Descriptive.mean(nll));
                cell.put("interStudentVariance", inter);
                cell.put("interStudentVarianceLow", interval.low());
                cell.put("interStudentVarianceHigh", interval.high());
                cell.put("entropyCorrect", entRight);
                cell.put("entropyWrong", entWrong);
                cells.add(cell);
                rows.add(List.of(ds, method, Summary.of(acc).format(4),
                        String.format(Locale.ROOT, "%.4f", Descriptive.mean(ece)), String.format(Locale.ROOT, "%.4f", Descriptive.mean(nll)),
                        interval.format(), String.format(Locale.ROOT, "%.4f", entRight), String.format(Locale.ROOT, "%.4f", entWrong)));
                if (nWrong > 0 && nRight > 0) {
                    r.check("students are less certain on the inputs they get wrong (" + ds + ", " + method + ")",
                            entWrong > entRight, String.format(Locale.ROOT, "entropy %.3f on wrong vs %.3f on correct", entWrong,
                                    entRight));
                }
            }
            XYChart chart = Plots.intervals(ds + ": inter-student variance of test predictions by target", "target",
                    "inter-student variance (95% bootstrap)", cc.methods(),
                    variances.stream().mapToDouble(Double::doubleValue).toArray(),
                    lows.stream().mapToDouble(Double::doubleValue).toArray(),
                    highs.stream().mapToDouble(Double::doubleValue).toArray());
            double[][][] single = byMethod.get("single");
            for (Map.Entry<String, double[][][]> e : byMethod.entrySet()) {
                if (single == null || e.getKey().equals("single")) {
                    continue;
                }
                double[] other = Metrics.itemVariances(e.getValue());
                double[] base = Metrics.itemVariances(single);
                // paired: the same resampled test items for both targets
                BootstrapInterval d = Bootstrap.percentile(other.length, idx -> Bootstrap.mean(other, idx)
                        - Bootstrap.mean(base, idx), Bootstrap.RESAMPLES, Summary.CONFIDENCE, cfg.seed(), "test items");
                double ratio = Metrics.interStudentVariance(e.getValue()) / Metrics.interStudentVariance(single);
                diffRows.add(List.of(ds, e.getKey(), String.format(Locale.ROOT, "%+.2e [%+.2e, %+.2e]", d.estimate(), d.low(),
                        d.high()), String.format(Locale.ROOT, "%.2f", ratio), d.excludes(0)
                                ? (d.estimate() < 0 ? "lower" : "higher") : "not resolved"));
                Map<String, Object> dj = new LinkedHashMap<>();
                dj.put("dataset", ds);
                dj.put("method", e.getKey());
                dj.put("difference", d.estimate());
                dj.put("low", d.low());
                dj.put("high", d.high());
                dj.put("ratio", ratio);
                diffs.add(dj);
            }
            r.plot("ffn-classification-" + ds.replace('_', '-'), chart);
        }
        r.paragraph("Inter-student variance over " + cc.students() + " students: estimate [" + Summary.percent(Summary.CONFIDENCE)
                + "% percentile-bootstrap interval, " + Bootstrap.RESAMPLES + " resamples of the test items]; it measures how"
                + " much the number depends on which test inputs were drawn, not which seeds.");
        r.table(List.of("dataset", "target", "accuracy (mean ± 95% t)", "ECE", "NLL", "inter-student variance [95% bootstrap]",
                "entropy (correct)", "entropy (wrong)"), rows);
        r.data("classification", cells);
        if (!diffRows.isEmpty()) {
            r.paragraph("Inter-student variance against the `single` target: this target's minus single's, estimate ["
                    + Summary.percent(Summary.CONFIDENCE) + "% percentile-bootstrap interval, " + Bootstrap.RESAMPLES
                    + " resamples of the test items], the same items resampled for both targets (paired); ratio = this"
                    + " target's variance / single's.");
            r.table(List.of("dataset", "target", "difference [95% bootstrap]", "ratio", "verdict"), diffRows);
            r.data("interStudentVarianceAgainstSingle", diffs);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** The engine settings of a stack: AdamW at a constant rate, no clipping, fp32. */
    private TrainingSpec spec(int epochs, int batchSize, float lr, float weightDecay, long seed) {
        return TrainingSpec.builder().setDevice(device).setSeed(seed).setEpochs(epochs).setBatchSize(batchSize).setLearningRate(lr)
                .optWeightDecay(weightDecay).optLogEvery(0).build();
    }

    private static float[][] column(double[] y) {
        float[][] c = new float[y.length][1];
        for (int i = 0; i < y.length; i++) {
            c[i][0] = (float) y[i];
        }
        return c;
    }

    private static double mse(float[][] pred, double[] y) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += (pred[i][0] - y[i]) * (pred[i][0] - y[i]);
        }
        return s / y.length;
    }


}

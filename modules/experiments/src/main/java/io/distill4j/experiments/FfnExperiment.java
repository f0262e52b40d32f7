package io.distill4j.experiments;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.distill4j.data.HeaderCsv;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.datasets.Mnist;
import io.distill4j.data.Standardizer;
import io.distill4j.data.TabularData;
import io.distill4j.loss.Registry;
import io.distill4j.loss.StudentEstimate;
import io.distill4j.loss.TargetBuilder;
import io.distill4j.trainer.Metrics;
import io.distill4j.models.StackedMlp;
import io.distill4j.trainer.StackedTraining;
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
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Cui &amp; Pei 2026 (arXiv 2601.18909) with neural networks: MLP teachers and MLP students.
 *
 * <p>Regression (Boston housing, diabetes): an MLP teacher (one hidden layer of 16 ReLU units, Adam 0.01,
 * full-batch) gives mu_T; each student sees its own k noisy samples y = mu_T(x) + eps, eps ~ N(0, a Var(y))
 * and is an MLP(16) trained full-batch on the {@code mean} target or on the practical
 * {@code inverse-variance} target (the mean fused with the student's own exponential moving average of its
 * predictions, weighted by the inverse of the EMA variance against the teacher side's ddof-1 variance / k).
 *
 * <p>Classification (digits, breast cancer, wine, MNIST): an MLP(128) teacher with dropout 0.3 gives k MC-dropout
 * samples per training input, drawn afresh for every student; students MLP(64) with dropout 0.1 learn from
 * {@code single} (one sample), {@code mean} (mean of k), {@code inverse-variance} (practical, the student's
 * MC-dropout estimate) or {@code multi-sample} (the k samples' arg-max labels, i.e. their vote histogram).
 * All R students of a setting train at once as a {@link StackedMlp}.
 */
public final class FfnExperiment implements Experiment {
    private static final Logger LOG = LogManager.getLogger(FfnExperiment.class);

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
    public Report run(JsonNode json, boolean quick, Path outDir) throws IOException {
        Config cfg = Configs.read(json, Config.class, name());
        Report r = new Report("Feed-forward teachers and students (Cui & Pei 2026)");
        r.paragraph(String.format(Locale.ROOT, "Seed %d, test fraction %s%s. Intervals are 95%% normal-approximation "
                + "confidence intervals over students.", cfg.seed(), cfg.testFraction(), quick ? " (quick variant)" : ""));
        r.data("config", cfg);
        if (!cfg.regression().datasets().isEmpty()) {
            regression(cfg, cfg.regression(), r);
        }
        if (!cfg.classification().datasets().isEmpty()) {
            classification(cfg, cfg.classification(), r);
        }
        r.write(outDir);
        return r;
    }

    // ---------------------------------------------------------------- regression

    private void regression(Config cfg, RegressionConfig rc, Report r) {
        r.paragraph("## Regression: MLP(" + rc.hidden() + ") teacher, MLP(" + rc.hidden() + ") students");
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
            float[][] yTrain = column(s.train().targets());
            float[] mu;
            double teacherMse;
            try (Model t = StackedTraining.train(new StackedMlp(1, s.train().width(), new int[] {rc.hidden()}, 1, 0f), s.train().features(),
                    fixedTargets(new float[][][] {yTrain}), full(rc.epochs(), s.train().features().length, rc.learningRate(), cfg.seed(),
                            StackedTraining.Objective.MSE))) {
                mu = flatten(StackedTraining.predict(t, s.train().features(), false)[0]);
                teacherMse = mse(StackedTraining.predict(t, s.test().features(), false)[0], s.test().targets());
            }
            LOG.info("ffn regression {}: teacher test MSE {}", ds, teacherMse);
            XYChart chart = LinearRegressionExperiment.logLog(ds + ": inter-student variance of predictions vs k", "k",
                    "variance across students");
            for (double a : rc.noise()) {
                for (String method : rc.methods()) {
                    double[] predVar = new double[ks.length];
                    for (int ki = 0; ki < ks.length; ki++) {
                        int k = rc.k().get(ki);
                        Map<String, Object> cell = regressionCell(cfg, rc, s, mu, a, k, method);
                        cell.put("dataset", ds);
                        cell.put("teacherTestMse", teacherMse);
                        cells.add(cell);
                        predVar[ki] = (double) cell.get("predVar");
                        double[] m = (double[]) cell.remove("mse");
                        rows.add(List.of(ds, fmt(a), Integer.toString(k), method,
                                String.format(Locale.ROOT, "%.4f ± %.4f", Stats.mean(m), Stats.ci95(m)),
                                sci(Stats.variance(m)), sci(predVar[ki])));
                    }
                    double slope = Stats.logLogSlope(ks, predVar);
                    double[] fit = Stats.fitFloorPlusInverse(ks, predVar);
                    chart.addSeries(String.format(Locale.ROOT, "a=%s %s (slope %.2f)", fmt(a), method, slope), ks, predVar)
                            .setMarker(SeriesMarkers.CIRCLE);
                    r.data("slope " + ds + " a=" + fmt(a) + " " + method, slope);
                    fits.add(List.of(ds, fmt(a), method, String.format(Locale.ROOT, "%.3f", slope), sci(fit[0]), sci(fit[1]),
                            sci(a * 1.0)));
                    if (method.equals("mean")) {
                        r.check("averaging lowers the inter-student variance of an MLP student as k grows (" + ds + ", a = "
                                + fmt(a) + ")", slope < 0 && predVar[predVar.length - 1] < predVar[0],
                                String.format(Locale.ROOT, "log-log slope %.3f; variance %.3e at k=%d, %.3e at k=%d", slope,
                                        predVar[0], rc.k().get(0), predVar[predVar.length - 1], rc.k().get(ks.length - 1)));
                    }
                }
            }
            r.plot("ffn-regression-" + ds, chart);
        }
        r.table(List.of("dataset", "a", "k", "target", "test MSE (95% CI)", "inter-student var of test MSE",
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

    private Map<String, Object> regressionCell(Config cfg, RegressionConfig rc, TabularData.Split s, float[] mu, double a, int k,
            String method) {
        int n = mu.length;
        int students = rc.students();
        double sd = Math.sqrt(a);
        float[][][] ybar = new float[students][n][1];
        float[][][] varMean = new float[students][n][1];
        SplittableRandom root = new SplittableRandom(cfg.seed() ^ Double.doubleToLongBits(a) * 31 ^ k * 1_000_003L);
        for (int st = 0; st < students; st++) {
            SplittableRandom rnd = root.split();
            for (int i = 0; i < n; i++) {
                double sum = 0;
                double sq = 0;
                for (int j = 0; j < k; j++) {
                    double y = mu[i] + sd * Stats.gaussian(rnd);
                    sum += y;
                    sq += y * y;
                }
                double mean = sum / k;
                ybar[st][i][0] = (float) mean;
                varMean[st][i][0] = k > 1 ? (float) (Math.max(0, sq - k * mean * mean) / (k - 1) / k) : 0f;
            }
        }
        StackedTraining.Targets targets = switch (method) {
            case "mean" -> fixedTargets(ybar);
            case "inverse-variance" -> emaFusion(ybar, varMean, k);
            default -> throw new io.distill4j.data.BadInputException("experiment ffn: regression.methods: unknown '" + method
                    + "' (mean, inverse-variance)");
        };
        float[][][] preds;
        try (Model m = StackedTraining.train(new StackedMlp(students, s.train().width(), new int[] {rc.hidden()}, 1, 0f), s.train().features(),
                targets, full(rc.epochs(), n, rc.learningRate(), cfg.seed() + 17 * k, StackedTraining.Objective.MSE))) {
            preds = StackedTraining.predict(m, s.test().features(), false);
        }
        double[] mse = new double[students];
        double[][] p = new double[students][];
        for (int st = 0; st < students; st++) {
            mse[st] = mse(preds[st], s.test().targets());
            p[st] = new double[s.test().targets().length];
            for (int i = 0; i < p[st].length; i++) {
                p[st][i] = preds[st][i][0];
            }
        }
        Map<String, Object> cell = new LinkedHashMap<>();
        cell.put("a", a);
        cell.put("k", k);
        cell.put("method", method);
        cell.put("mseMean", Stats.mean(mse));
        cell.put("mseCi95", Stats.ci95(mse));
        cell.put("mseVar", Stats.variance(mse));
        cell.put("predVar", LinearRegressionExperiment.meanColumnVariance(p));
        cell.put("mse", mse);
        return cell;
    }

    /**
     * Practical inverse-variance fusion for full-batch regression students: the student's own estimate is
     * an exponential moving average (rate 0.1) of its predictions, its variance the EMA variance (starting
     * at Var(y) = 1, the standardised target's variance); the teacher side is the k-sample mean with
     * variance (ddof-1 variance) / k. With k = 1 there is no variance estimate and the target is the sample.
     */
    private static StackedTraining.Targets emaFusion(float[][][] ybar, float[][][] varMean, int k) {
        float[] meanFlat = flatten3(ybar);
        float[] varFlat = flatten3(varMean);
        Shape shape = new Shape(ybar.length, ybar[0].length, 1);
        return new StackedTraining.Targets() {
            // The EMA state lives between steps detached from any manager; at each step it is attached to the
            // step's manager (so the old state is freed with it) and the new state is detached again.
            private NDArray emaMean;
            private NDArray emaVar;

            @Override
            public NDArray targets(NDManager m, NDArray rows, NDArray x, StackedTraining.Probe probe) {
                NDArray mean = m.create(meanFlat, shape);
                if (k == 1) {
                    return mean;
                }
                NDArray varT = m.create(varFlat, shape);
                NDArray pred = probe.passes(x, 1).get(0);
                NDArray newMean;
                NDArray newVar;
                if (emaMean == null) {
                    newMean = pred.duplicate();
                    newVar = pred.onesLike();
                } else {
                    emaMean.attach(m);
                    emaVar.attach(m);
                    NDArray d = pred.sub(emaMean);
                    newMean = d.mul(0.1f).add(emaMean);
                    newVar = d.square().mul(0.1f).add(emaVar).mul(0.9f);
                }
                NDArray wT = varT.add(1e-8f).pow(-1);
                NDArray wS = newVar.add(1e-8f).pow(-1);
                NDArray aT = wT.div(wT.add(wS));
                NDArray target = aT.mul(mean).add(aT.neg().add(1).mul(newMean));
                newMean.detach();
                newVar.detach();
                emaMean = newMean;
                emaVar = newVar;
                return target;
            }
        };
    }

    /**
     * The train/test split of a classification dataset: a seeded split of a scikit-learn table, or MNIST's
     * official sets, each a seeded random subset of the configured size.
     */
    private TabularData.Split classificationSplit(String ds, Config cfg, ClassificationConfig cc) {
        if (!"mnist".equals(ds)) {
            return SklearnCsv.load(ds, home.resolve("datasets/sklearn")).split(cfg.testFraction(), cfg.seed());
        }
        Path dir = home.resolve("datasets/mnist/raw");
        if (!Mnist.present(dir, Mnist.Split.TRAIN) || !Mnist.present(dir, Mnist.Split.TEST)) {
            throw new io.distill4j.data.BadInputException("experiment ffn: classification.datasets: 'mnist' needs the IDX "
                    + "files in " + dir + "; run datasets/mnist/fetch.sh, or remove mnist from the list");
        }
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

    private void classification(Config cfg, ClassificationConfig cc, Report r) {
        r.paragraph(String.format(Locale.ROOT, "## Classification: MLP(%d) teacher with MC dropout (k = %d), MLP(%d) students",
                cc.teacherHidden(), cc.k(), cc.studentHidden()));
        List<List<String>> rows = new ArrayList<>();
        List<Map<String, Object>> cells = new ArrayList<>();
        for (String ds : cc.datasets()) {
            TabularData.Split split = classificationSplit(ds, cfg, cc);
            TabularData.Split s = Standardizer.standardise(split);
            int c = split.train().numClasses();
            int n = s.train().features().length;
            int students = cc.students();
            int[] yTest = s.test().labels();
            float[][][] teacherSamples;
            double teacherAcc;
            try (Model t = StackedTraining.train(new StackedMlp(1, s.train().width(), new int[] {cc.teacherHidden()}, c, 0.3f), s.train().features(),
                    fixedTargets(new float[][][] {oneHot(s.train().labels(), c)}), new StackedTraining.Settings(cc.teacherEpochs(),
                            cc.batchSize(), cc.learningRate(), 1e-4f, cfg.seed(), device, StackedTraining.Objective.SOFT_CE))) {
                teacherAcc = Metrics.accuracy(softmax(StackedTraining.predict(t, s.test().features(), false)[0]), yTest);
                // Every student gets its own k MC-dropout draws: (students * k) passes over the training inputs.
                teacherSamples = new float[students * cc.k()][][];
                ai.djl.engine.Engine.getInstance().setRandomSeed((int) cfg.seed() + 101);
                for (int p = 0; p < teacherSamples.length; p++) {
                    teacherSamples[p] = toFloat(softmax(StackedTraining.predict(t, s.train().features(), true)[0]));
                }
            }
            LOG.info("ffn classification {}: teacher test accuracy {}", ds, teacherAcc);
            // samples[st][i][j][c]
            float[] flat = new float[students * n * cc.k() * c];
            for (int st = 0; st < students; st++) {
                for (int j = 0; j < cc.k(); j++) {
                    float[][] pass = teacherSamples[st * cc.k() + j];
                    for (int i = 0; i < n; i++) {
                        System.arraycopy(pass[i], 0, flat, ((st * n + i) * cc.k() + j) * c, c);
                    }
                }
            }
            CategoryChart chart = new CategoryChartBuilder().width(800).height(500)
                    .title(ds + ": inter-student variance of test predictions by target").xAxisTitle("target")
                    .yAxisTitle("variance across students").build();
            List<Double> variances = new ArrayList<>();
            for (String method : cc.methods()) {
                float[][][] out;
                try (NDManager dm = NDManager.newBaseManager(device)) {
                    NDArray samples = dm.create(flat, new Shape(students, n, cc.k(), c));
                    StackedTraining.Targets targets = classificationTargets(method, samples, cc.k(), c);
                    try (Model m = StackedTraining.train(new StackedMlp(students, s.train().width(), new int[] {cc.studentHidden()}, c,
                            0.1f), s.train().features(), targets, new StackedTraining.Settings(cc.studentEpochs(), cc.batchSize(),
                            cc.learningRate(), 1e-4f, cfg.seed() + 1, device, StackedTraining.Objective.SOFT_CE))) {
                        out = StackedTraining.predict(m, s.test().features(), false);
                    }
                }
                double[][][] probs = new double[students][][];
                double[] acc = new double[students];
                double[] ece = new double[students];
                double[] nll = new double[students];
                double hRight = 0;
                double hWrong = 0;
                int nRight = 0;
                int nWrong = 0;
                for (int st = 0; st < students; st++) {
                    probs[st] = softmax(out[st]);
                    acc[st] = Metrics.accuracy(probs[st], yTest);
                    ece[st] = Metrics.ece(probs[st], yTest);
                    nll[st] = Metrics.nll(probs[st], yTest);
                    for (int i = 0; i < yTest.length; i++) {
                        double h = Metrics.entropy(probs[st][i]);
                        if (argmax(probs[st][i]) == yTest[i]) {
                            hRight += h;
                            nRight++;
                        } else {
                            hWrong += h;
                            nWrong++;
                        }
                    }
                }
                double inter = Metrics.interStudentVariance(probs);
                double entRight = nRight == 0 ? Double.NaN : hRight / nRight;
                double entWrong = nWrong == 0 ? Double.NaN : hWrong / nWrong;
                variances.add(inter);
                Map<String, Object> cell = new LinkedHashMap<>();
                cell.put("dataset", ds);
                cell.put("method", method);
                cell.put("teacherTestAccuracy", teacherAcc);
                cell.put("accuracyMean", Stats.mean(acc));
                cell.put("accuracyCi95", Stats.ci95(acc));
                cell.put("eceMean", Stats.mean(ece));
                cell.put("nllMean", Stats.mean(nll));
                cell.put("interStudentVariance", inter);
                cell.put("entropyCorrect", entRight);
                cell.put("entropyWrong", entWrong);
                cells.add(cell);
                rows.add(List.of(ds, method, String.format(Locale.ROOT, "%.4f ± %.4f", Stats.mean(acc), Stats.ci95(acc)),
                        String.format(Locale.ROOT, "%.4f", Stats.mean(ece)), String.format(Locale.ROOT, "%.4f", Stats.mean(nll)),
                        sci(inter), String.format(Locale.ROOT, "%.4f", entRight), String.format(Locale.ROOT, "%.4f", entWrong)));
                if (nWrong > 0 && nRight > 0) {
                    r.check("students are less certain on the inputs they get wrong (" + ds + ", " + method + ")",
                            entWrong > entRight, String.format(Locale.ROOT, "entropy %.3f on wrong vs %.3f on correct", entWrong,
                                    entRight));
                }
            }
            chart.addSeries("inter-student variance", cc.methods(), variances);
            r.plot("ffn-classification-" + ds.replace('_', '-'), chart);
        }
        r.table(List.of("dataset", "target", "accuracy (95% CI)", "ECE", "NLL", "inter-student variance",
                "entropy (correct)", "entropy (wrong)"), rows);
        r.data("classification", cells);
    }

    private static StackedTraining.Targets classificationTargets(String method, NDArray samples, int k, int c) {
        return switch (method) {
            case "single", "mean" -> {
                TargetBuilder b = Registry.target(method, Map.of());
                yield (m, rows, x, probe) -> perStudent(samples, rows, k, c, (flat, unused) -> b.build(flat, null), null);
            }
            case "multi-sample" -> (m, rows, x, probe) -> {
                NDArray g = gatherRows(samples, rows, k, c);
                return g.argMax(3).oneHot(c).toType(DataType.FLOAT32, false).sum(new int[] {2}).div(k);
            };
            case "inverse-variance" -> {
                TargetBuilder b = Registry.target("inverse-variance", Map.of());
                yield (m, rows, x, probe) -> {
                    // (S, R, B, C) passes -> (R * B, S, C): the variance of the student's S-pass mean per item.
                    NDArray passes = probe.passes(x, 4).softmax(3);
                    long r = passes.getShape().get(1);
                    long bsz = passes.getShape().get(2);
                    StudentEstimate est = StudentEstimate.fromPasses(passes.transpose(1, 2, 0, 3).reshape(r * bsz, 4, c));
                    return perStudent(samples, rows, k, c, b::build, est);
                };
            }
            default -> throw new io.distill4j.data.BadInputException("experiment ffn: classification.methods: unknown '"
                    + method + "' (single, mean, inverse-variance, multi-sample)");
        };
    }

    /** Gathers each student's rows of its samples: (R, B, k, C). */
    private static NDArray gatherRows(NDArray samples, NDArray rows, int k, int c) {
        Shape rs = rows.getShape();
        NDArray idx = rows.reshape(rs.get(0), rs.get(1), 1, 1).broadcast(new Shape(rs.get(0), rs.get(1), k, c));
        NDArray g = samples.gather(idx, 1);
        g.attach(rows.getManager()); // the step's rows belong to the step, not to the run's sample manager
        return g;
    }

    /**
     * Applies a (B', k, C) target builder to every student's rows at once by folding R into the batch; the
     * student estimate, when given, is already folded to (R * B, C).
     */
    private static NDArray perStudent(NDArray samples, NDArray rows, int k, int c,
            java.util.function.BiFunction<NDArray, StudentEstimate, NDArray> build, StudentEstimate est) {
        NDArray g = gatherRows(samples, rows, k, c);
        long r = g.getShape().get(0);
        long b = g.getShape().get(1);
        return build.apply(g.reshape(r * b, k, c), est).reshape(r, b, c);
    }

    // ---------------------------------------------------------------- helpers

    private StackedTraining.Settings full(int epochs, int n, float lr, long seed, StackedTraining.Objective o) {
        return new StackedTraining.Settings(epochs, n, lr, 0f, seed, device, o);
    }

    /** Fixed per-student targets {@code t[student][row][output]}, gathered by the step's rows. */
    static StackedTraining.Targets fixedTargets(float[][][] t) {
        float[] flat = flatten3(t);
        Shape shape = new Shape(t.length, t[0].length, t[0][0].length);
        return (m, rows, x, probe) -> {
            NDArray all = m.create(flat, shape);
            Shape rs = rows.getShape();
            return all.gather(rows.reshape(rs.get(0), rs.get(1), 1).broadcast(new Shape(rs.get(0), rs.get(1), shape.get(2))), 1);
        };
    }

    private static float[] flatten3(float[][][] t) {
        int a = t.length;
        int b = t[0].length;
        int c = t[0][0].length;
        float[] flat = new float[a * b * c];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(t[i][j], 0, flat, (i * b + j) * c, c);
            }
        }
        return flat;
    }

    private static float[] flatten(float[][] rows) {
        float[] f = new float[rows.length];
        for (int i = 0; i < rows.length; i++) {
            f[i] = rows[i][0];
        }
        return f;
    }

    private static float[][] column(double[] y) {
        float[][] c = new float[y.length][1];
        for (int i = 0; i < y.length; i++) {
            c[i][0] = (float) y[i];
        }
        return c;
    }

    private static float[][] oneHot(int[] labels, int c) {
        float[][] t = new float[labels.length][c];
        for (int i = 0; i < labels.length; i++) {
            t[i][labels[i]] = 1;
        }
        return t;
    }

    private static double mse(float[][] pred, double[] y) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += (pred[i][0] - y[i]) * (pred[i][0] - y[i]);
        }
        return s / y.length;
    }

    static double[][] softmax(float[][] z) {
        double[][] p = new double[z.length][];
        for (int i = 0; i < z.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (float v : z[i]) {
                max = Math.max(max, v);
            }
            double sum = 0;
            p[i] = new double[z[i].length];
            for (int c = 0; c < z[i].length; c++) {
                p[i][c] = Math.exp(z[i][c] - max);
                sum += p[i][c];
            }
            for (int c = 0; c < z[i].length; c++) {
                p[i][c] /= sum;
            }
        }
        return p;
    }

    private static float[][] toFloat(double[][] p) {
        float[][] f = new float[p.length][];
        for (int i = 0; i < p.length; i++) {
            f[i] = new float[p[i].length];
            for (int c = 0; c < p[i].length; c++) {
                f[i][c] = (float) p[i][c];
            }
        }
        return f;
    }

    private static int argmax(double[] p) {
        int b = 0;
        for (int c = 1; c < p.length; c++) {
            if (p[c] > p[b]) {
                b = c;
            }
        }
        return b;
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%s", v);
    }

    private static String sci(double v) {
        return String.format(Locale.ROOT, "%.3e", v);
    }
}

package io.distill4j.experiments;

import io.distill4j.data.Numbers;
import ai.djl.Device;
import ai.djl.Model;
import io.distill4j.models.LeastSquares;
import io.distill4j.models.Linalg;
import io.distill4j.models.OlsPreset;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.Draws;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.StudentEstimates;
import io.distill4j.pipeline.Teachers;
import io.distill4j.teacher.OutputNoiseTeacher;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.pipeline.Plots;
import io.distill4j.pipeline.RunInfo;
import io.distill4j.trainer.stats.Regression;
import io.distill4j.trainer.stats.Summary;
import io.distill4j.trainer.stats.Descriptive;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.data.HeaderCsv;
import io.distill4j.data.Standardizer;
import io.distill4j.data.TabularData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.XYChart;

/**
 * Cui &amp; Pei 2026 (arXiv 2601.18909), linear regression: an OLS teacher on Boston housing, additive
 * teacher noise y_ij = mu_T(x_i) + eps_ij with eps ~ N(0, a Var(y_train)), k samples per input, and many
 * OLS students fitted to targets built from the samples.
 *
 * <p>Targets: {@code mean} (the k-sample mean); {@code inverse-variance-paper} (the paper's code: a_T from
 * the per-item ddof-0 sample variance, not divided by k, against the true noise variance, fused with the
 * oracle mu_T); {@code inverse-variance-practical} (no oracle: the student's own pilot fit to the mean
 * target, whose per-point variance is the mean estimated noise of the mean times the point's leverage,
 * fused with the mean target whose variance is the ddof-1 sample variance / k; k = 1 falls back to the
 * mean).
 *
 * <p>Every student goes through the pipeline: per (a, k) the teacher ({@link OutputNoiseTeacher} around the OLS fit,
 * noise seeded per row) is sampled once into a cache of M x k draws per row under {@code runs/a-<a>-k-<k>/}, and each
 * target is one {@link Distillation} run there of M {@code ols} students ({@link OlsPreset}: targets from the
 * registry's builder over each student's own k draws, then least squares in closed form); the tables are computed
 * from those runs' per-student metrics and variances.
 *
 * <p>Closed form for the mean target: an OLS student on ybar = mu_T + noise with noise ~ N(0, s^2/k I) has
 * coefficients beta_T + delta, delta ~ N(0, Sigma), Sigma = (s^2/k) (X'X)^-1. Hence the inter-student
 * variance of a test prediction is (s^2/k) x'(X'X)^-1 x, the expected test MSE is the teacher's plus its
 * mean over test points, and the test MSE c - 2 b'delta + delta' M delta (M = X_t'X_t/n, b = X_t'e/n) has
 * variance 4 b'Sigma b + 2 tr(M Sigma M Sigma).
 */
public final class LinearRegressionExperiment implements Experiment {
    private static final org.apache.logging.log4j.Logger LOG = org.apache.logging.log4j.LogManager.getLogger(
            LinearRegressionExperiment.class);

    static final List<String> METHODS = List.of("mean", "inverse-variance-paper", "inverse-variance-practical");

    /**
     * The experiment's configuration.
     *
     * @param dataset path of the CSV, relative to the experiment file's folder
     * @param target the target column
     * @param testFraction the test share of the split
     * @param noise the noise levels a (noise variance a * Var(y_train))
     * @param k the numbers of teacher samples per input
     * @param students students per (a, k, method)
     * @param seed the seed of the split and of all noise draws
     */
    public record Config(String dataset, String target, double testFraction, List<Double> noise, List<Integer> k,
            int students, long seed) {
        /**
         * Validates the settings.
         *
         * @param dataset path of the CSV, relative to the distill4j home
         * @param target the target column
         * @param testFraction the test share of the split
         * @param noise the noise levels a (noise variance a * Var(y_train))
         * @param k the numbers of teacher samples per input
         * @param students students per (a, k, method)
         * @param seed the seed of the split and of all noise draws
         */
        public Config {
            if (students < 2) {
                throw new IllegalArgumentException("students must be at least 2, got " + students);
            }
            if (noise.isEmpty() || noise.stream().anyMatch(a -> !(a > 0))) {
                throw new IllegalArgumentException("noise must list positive levels, got " + noise);
            }
            if (k.size() < 2 || k.stream().anyMatch(v -> v < 1)) {
                throw new IllegalArgumentException("k must list at least two values >= 1, got " + k);
            }
            noise = List.copyOf(noise);
            k = List.copyOf(k);
        }
    }

    /** One setting's measurements over the students. */
    record Cell(double a, int k, String method, double mseMean, double mseCi, double mseVar, double predVar,
            double paramVar) {
    }


    /**
     * Creates the experiment.
     *
     * @param home the distill4j home (unused: paths in the file are relative to the file; kept so that every
     *     experiment is made the same way)
     */
    public LinearRegressionExperiment(Path home) {
    }

    @Override
    public String name() {
        return "linear-regression";
    }

    @Override
    public Report run(ConfigFile config, boolean quick, Path outDir) throws IOException {
        Config cfg = ExperimentFile.bind(config, Config.class);
        RunInfo info = RunInfo.start(RunInfo.commandLine(), Device.cpu());
        TabularData data = HeaderCsv.readRegression(config.resolve(cfg.dataset()), "boston", cfg.target());
        TabularData.Split split = data.split(cfg.testFraction(), cfg.seed());
        TabularData.Split st = Standardizer.standardise(split);
        Problem p = Problem.of(st);
        List<Cell> cells = new ArrayList<>();
        List<Map<String, Object>> closed = new ArrayList<>();
        try (Model teacherMean = p.teacherModel()) {
            for (double a : cfg.noise()) {
                double s2 = a * p.varY;
                for (int k : cfg.k()) {
                    cells.addAll(simulate(p, st, teacherMean, a, s2, k, cfg.students(), cfg.seed(), outDir.resolve("runs")));
                    Map<String, Object> cf = new LinkedHashMap<>();
                    cf.put("a", a);
                    cf.put("k", k);
                    cf.put("predVar", p.meanLeverageTest * s2 / k);
                    cf.put("mseMean", p.teacherTestMse + p.meanLeverageTest * s2 / k);
                    cf.put("mseVar", p.mseVariance(s2 / k));
                    closed.add(cf);
                }
            }
        }
        return report(cfg, quick, p, cells, closed, r -> r.provenance(info.finish(), config.root())
                .seed("seed", cfg.seed()).dataset("train", split.train()).dataset("test", split.test()), outDir);
    }

    /** Standardised design matrices, the OLS teacher and the pieces of the closed-form analysis. */
    static final class Problem {
        double[][] xTrain;
        double[][] xTest;
        double[] yTest;
        double[] muTrain;
        double[][] betaT;
        double meanLeverageTest;
        double teacherTestMse;
        double varY;
        double[][] gram;
        double[] b;
        double[][] m;

        /** @param st the standardised split */
        static Problem of(TabularData.Split st) {
            Problem p = new Problem();
            p.xTrain = design(st.train().features());
            p.xTest = design(st.test().features());
            double[] yTrain = st.train().targets();
            p.yTest = st.test().targets();
            p.varY = 1.0;
            LeastSquares ols = LeastSquares.of(st.train().features(), true);
            p.gram = ols.gramInverse();
            double[][] y = new double[yTrain.length][1];
            for (int i = 0; i < y.length; i++) {
                y[i][0] = yTrain[i];
            }
            p.betaT = ols.coefficients(y);
            double[] betaT = new double[p.betaT.length];
            for (int j = 0; j < betaT.length; j++) {
                betaT[j] = p.betaT[j][0];
            }
            p.muTrain = Linalg.mul(p.xTrain, betaT);
            double lev = 0;
            for (double[] x : p.xTest) {
                lev += quad(p.gram, x) / p.xTest.length;
            }
            p.meanLeverageTest = lev;
            double[] predT = Linalg.mul(p.xTest, betaT);
            double[] e = new double[p.yTest.length];
            double mse = 0;
            for (int i = 0; i < e.length; i++) {
                e[i] = p.yTest[i] - predT[i];
                mse += e[i] * e[i] / e.length;
            }
            p.teacherTestMse = mse;
            int n = p.xTest.length;
            double[][] xtt = Linalg.transpose(p.xTest);
            p.m = Linalg.mul(xtt, p.xTest);
            for (double[] row : p.m) {
                for (int j = 0; j < row.length; j++) {
                    row[j] /= n;
                }
            }
            p.b = Linalg.mul(xtt, e);
            for (int j = 0; j < p.b.length; j++) {
                p.b[j] /= n;
            }
            return p;
        }

        /** @return the OLS teacher as a model (an {@code ols} block holding beta_T), the mean of the noisy teacher */
        Model teacherModel() {
            OlsPreset preset = OlsPreset.withIntercept().complete(xTrain[0].length - 1, 1);
            Model m = Model.newInstance("ols-teacher", Device.cpu());
            m.setBlock(preset.build(preset.inputs(), 1));
            m.getBlock().initialize(m.getNDManager(), ai.djl.ndarray.types.DataType.FLOAT32,
                    new ai.djl.ndarray.types.Shape(1, preset.inputs()));
            preset.setCoefficients(m.getBlock(), betaT);
            return m;
        }

        /** Closed-form variance of one student's test MSE when its target noise has variance v per item. */
        double mseVariance(double v) {
            int q = gram.length;
            double[][] sigma = new double[q][q];
            for (int i = 0; i < q; i++) {
                for (int j = 0; j < q; j++) {
                    sigma[i][j] = v * gram[i][j];
                }
            }
            double[][] ms = Linalg.mul(m, sigma);
            double[][] msms = Linalg.mul(ms, ms);
            double tr = 0;
            for (int i = 0; i < q; i++) {
                tr += msms[i][i];
            }
            return 4 * quad(sigma, b) + 2 * tr;
        }

        /** Prepends an intercept column. */
        private static double[][] design(float[][] x) {
            double[][] d = new double[x.length][x[0].length + 1];
            for (int i = 0; i < x.length; i++) {
                d[i][0] = 1;
                for (int j = 0; j < x[i].length; j++) {
                    d[i][j + 1] = x[i][j];
                }
            }
            return d;
        }

        private static double quad(double[][] a, double[] v) {
            double s = 0;
            for (int i = 0; i < v.length; i++) {
                for (int j = 0; j < v.length; j++) {
                    s += v[i] * a[i][j] * v[j];
                }
            }
            return s;
        }
    }

    /**
     * The students of one (a, k), through the pipeline: the OLS teacher with additive noise sampled into one cache of
     * M x k draws per row (per-student draws), then one {@link Distillation} run per target, each fitting M
     * {@code ols} students in closed form on the targets the registry's builder makes from each student's own k
     * draws: {@code mean}; {@code inverse-variance-paper} with the oracle estimate (mu_T, s^2) given; the practical
     * {@code inverse-variance} with the student's own pilot fit ({@link StudentEstimates#pilot}).
     */
    private static List<Cell> simulate(Problem p, TabularData.Split st, Model teacherMean, double a, double s2, int k,
            int students, long seed, Path runs) {
        Path dir = runs.resolve("a-" + Numbers.plain(a) + "-k-" + k);
        OutputNoiseTeacher teacher = OutputNoiseTeacher.absolute(teacherMean, students * k, new double[] {s2},
                seed ^ Double.doubleToLongBits(a) * 31 ^ k * 1_000_003L, "ols teacher " + st.train().width() + "-1");
        int n = p.xTrain.length;
        float[][] oracleMean = new float[n][1];
        float[][] oracleVariance = new float[n][1];
        for (int i = 0; i < n; i++) {
            oracleMean[i][0] = (float) p.muTrain[i];
            oracleVariance[i][0] = (float) s2;
        }
        List<Cell> out = new ArrayList<>();
        for (String method : METHODS) {
            Distillation.Builder b = Distillation.builder().name(method).data(st).teacher(Teachers.of(teacher))
                    .cacheDir(dir.resolve("teacher-cache")).draws(Draws.PER_STUDENT).samples(k)
                    .student(OlsPreset.withIntercept()).students(students).loss("mse")
                    .training(TrainingSpec.builder().setDevice(Device.cpu()).optLogEvery(0).build())
                    .evaluationPasses(0).saveStudents(false).log(LOG::debug);
            switch (method) {
                case "mean" -> b.target("mean");
                case "inverse-variance-paper" -> b.target("inverse-variance-paper")
                        .studentEstimate(StudentEstimates.given(oracleMean, oracleVariance));
                case "inverse-variance-practical" -> b.target("inverse-variance", Map.of("renormalise", false))
                        .studentEstimate(StudentEstimates.pilot());
                default -> throw new IllegalStateException(method);
            }
            RunResult run = b.build().fit(dir.resolve(method));
            double[] mse = run.result().students().stream().mapToDouble(r -> r.metrics().get("mse")).toArray();
            out.add(new Cell(a, k, method, Descriptive.mean(mse), Summary.of(mse).halfWidth(), Descriptive.variance(mse),
                    run.result().predictionVariance(), run.result().parameterVariance()));
        }
        return out;
    }

    private Report report(Config cfg, boolean quick, Problem p, List<Cell> cells, List<Map<String, Object>> closed,
            java.util.function.Consumer<Report> provenance,
            Path outDir) throws IOException {
        Report r = new Report("Linear regression: OLS teacher, noisy samples, OLS students (Cui & Pei 2026)");
        r.paragraph(String.format(Locale.ROOT, "Boston housing (%s, target `%s`), standardised, %d train / %d test; "
                + "OLS teacher test MSE %.4f (standardised units). Teacher noise variance a * Var(y_train) with a in %s; "
                + "k in %s; %d OLS students per (a, k, target); seed %d%s. Test MSE: %s.", cfg.dataset(), cfg.target(), p.xTrain.length,
                p.xTest.length, p.teacherTestMse, cfg.noise(), cfg.k(), cfg.students(), cfg.seed(), quick ? " (quick variant)" : "",
                Summary.meaning(Summary.CONFIDENCE, cfg.students(), "students")));
        r.data("config", cfg);
        r.data("teacherTestMse", p.teacherTestMse);
        r.data("cells", cells);
        r.data("closedForm", closed);

        List<List<String>> rows = new ArrayList<>();
        for (Cell c : cells) {
            rows.add(List.of(Numbers.plain(c.a()), Integer.toString(c.k()), c.method(),
                    String.format(Locale.ROOT, "%.5f ± %.5f", c.mseMean(), c.mseCi()), Numbers.sci(c.mseVar()), Numbers.sci(c.predVar()),
                    Numbers.sci(c.paramVar())));
        }
        r.paragraph("## Students per setting");
        r.table(List.of("a", "k", "target", "test MSE (mean ± 95% t)", "inter-student var of test MSE",
                "inter-student var of predictions", "inter-student var of parameters"), rows);

        r.paragraph("## Measured against the closed form (mean target)");
        List<List<String>> cfRows = new ArrayList<>();
        int idx = 0;
        for (double a : cfg.noise()) {
            for (int k : cfg.k()) {
                Map<String, Object> cf = closed.get(idx++);
                Cell c = find(cells, a, k, "mean");
                double pv = (double) cf.get("predVar");
                double mv = (double) cf.get("mseVar");
                double mm = (double) cf.get("mseMean");
                cfRows.add(List.of(Numbers.plain(a), Integer.toString(k), Numbers.sci(c.predVar()), Numbers.sci(pv), Numbers.fixed(c.predVar() / pv, 3),
                        Numbers.sci(c.mseVar()), Numbers.sci(mv), Numbers.fixed(c.mseVar() / mv, 3), String.format(Locale.ROOT, "%.5f", c.mseMean()),
                        String.format(Locale.ROOT, "%.5f", mm)));
            }
        }
        r.table(List.of("a", "k", "pred var (measured)", "pred var (closed form)", "ratio", "var test MSE (measured)",
                "var test MSE (closed form)", "ratio", "test MSE (measured)", "test MSE (closed form)"), cfRows);

        r.paragraph("## Slopes of log(inter-student variance of predictions) against log(k)");
        List<List<String>> slopeRows = new ArrayList<>();
        Map<String, Double> slopes = new LinkedHashMap<>();
        double[] ks = cfg.k().stream().mapToDouble(Integer::doubleValue).toArray();
        for (double a : cfg.noise()) {
            List<String> row = new ArrayList<>(List.of(Numbers.plain(a)));
            for (String m : METHODS) {
                double s = Regression.logLogSlope(ks, series(cells, cfg, a, m, Cell::predVar));
                slopes.put(m + "@a=" + Numbers.plain(a), s);
                row.add(Numbers.fixed(s, 3));
            }
            slopeRows.add(row);
        }
        List<String> header = new ArrayList<>(List.of("a"));
        header.addAll(METHODS);
        r.table(header, slopeRows);
        r.data("slopes", slopes);

        r.plot("excess-mse-vs-k", chart("Excess test MSE over the teacher vs k (mean target)", "k (teacher samples)",
                "test MSE - teacher test MSE (mean, 95% t interval over students)", cfg, cells, "mean",
                c -> c.mseMean() - p.teacherTestMse, Cell::mseCi));
        r.plot("prediction-variance-vs-k", chart("Inter-student variance of predictions vs k (mean target)",
                "k (teacher samples)", "variance across students", cfg, cells, "mean", Cell::predVar, null));
        r.plot("mse-variance-vs-k", chart("Inter-student variance of test MSE vs k (mean target)", "k (teacher samples)",
                "variance of test MSE across students", cfg, cells, "mean", Cell::mseVar, null));
        double aMax = cfg.noise().get(cfg.noise().size() - 1);
        XYChart methods = logLog("Inter-student variance of predictions vs k by target (noise a = " + Numbers.plain(aMax) + ")",
                "k (teacher samples)", "variance across students");
        for (String m : METHODS) {
            double[] y = series(cells, cfg, aMax, m, Cell::predVar);
            Plots.addSeries(methods, String.format(Locale.ROOT, "%s target (log-log slope %.2f)", m,
                    Regression.logLogSlope(ks, y)), ks, y, null, null);
        }
        r.plot("targets-vs-k", methods);

        r.paragraph("""
                ## Reading

                Averaging follows the closed form: every inter-student variance falls as 1/k (slope -1) and the excess
                test MSE over the teacher with it. The paper-faithful inverse-variance target falls faster (slope
                about -1.3 to -1.4) for a reason that is not available in practice: it fuses the sample mean with the
                *oracle* noise-free teacher mean, and its teacher weight uses the ddof-0 sample variance without
                dividing by k, so a_T goes from 1 at k = 1 (zero sample variance) towards 1/2 for large k, halving the
                noise that reaches the student on top of averaging. The practical form, which replaces the oracle by
                the student's own pilot fit, gives an OLS student almost nothing beyond averaging: the pilot is the
                projection of the mean target onto the student's own column space, which the student would reach
                anyway (slopes within 0.02 of the mean target's).
                """);
        r.paragraph("## The paper's qualitative claims, checked");
        for (double a : cfg.noise()) {
            double s = slopes.get("mean@a=" + Numbers.plain(a));
            r.check("averaging k samples divides the inter-student variance by k (log-log slope near -1) at a = " + Numbers.plain(a),
                    s > -1.2 && s < -0.8, String.format(Locale.ROOT, "slope %.3f", s));
        }
        double worst = 1;
        idx = 0;
        for (double a : cfg.noise()) {
            for (int k : cfg.k()) {
                double ratio = find(cells, a, k, "mean").predVar() / (double) closed.get(idx++).get("predVar");
                worst = Math.abs(Math.log(ratio)) > Math.abs(Math.log(worst)) ? ratio : worst;
            }
        }
        r.check("the measured prediction variance matches the closed form (s^2/k) x'(X'X)^-1 x within sampling error",
                worst > 0.7 && worst < 1.4, String.format(Locale.ROOT, "worst measured/closed-form ratio %.3f", worst));
        boolean ivBelow = true;
        StringBuilder ev = new StringBuilder();
        for (double a : cfg.noise()) {
            for (int k : cfg.k()) {
                if (k < 2) {
                    continue;
                }
                double iv = find(cells, a, k, "inverse-variance-paper").predVar();
                double mean = find(cells, a, k, "mean").predVar();
                if (!(iv < mean)) {
                    ivBelow = false;
                    ev.append(String.format(Locale.ROOT, "a=%s k=%d: %.3e >= %.3e; ", Numbers.plain(a), k, iv, mean));
                }
            }
        }
        r.check("paper-faithful inverse-variance weighting (with its oracle student estimate) lowers the inter-student "
                + "variance below averaging for every k >= 2", ivBelow, ev.length() == 0 ? "all settings" : ev.toString());
        provenance.accept(r);
        r.write(outDir);
        return r;
    }

    /** A log-log chart of one statistic per noise level, with its 95% intervals when {@code halfWidth} is given. */
    private static XYChart chart(String title, String x, String y, Config cfg, List<Cell> cells, String method,
            java.util.function.ToDoubleFunction<Cell> f, java.util.function.ToDoubleFunction<Cell> halfWidth) {
        XYChart c = logLog(title, x, y);
        double[] ks = cfg.k().stream().mapToDouble(Integer::doubleValue).toArray();
        int noises = cfg.noise().size();
        for (int i = 0; i < noises; i++) {
            double a = cfg.noise().get(i);
            double[] ys = series(cells, cfg, a, method, f);
            boolean positive = java.util.Arrays.stream(ys).allMatch(v -> v > 0);
            String label = positive ? String.format(Locale.ROOT, "noise a = %s (log-log slope %.2f)", Numbers.plain(a),
                    Regression.logLogSlope(ks, ys)) : "noise a = " + Numbers.plain(a);
            double[] safe = java.util.Arrays.stream(ys).map(v -> Math.max(v, 1e-12)).toArray();
            double[] low = null;
            double[] high = null;
            if (halfWidth != null) {
                double[] hw = series(cells, cfg, a, method, halfWidth);
                low = new double[ks.length];
                high = new double[ks.length];
                for (int j = 0; j < ks.length; j++) {
                    low[j] = ys[j] - hw[j];
                    high[j] = Math.max(ys[j] + hw[j], 1e-12);
                }
            }
            Plots.addSeries(c, label, halfWidth == null ? ks : Plots.dodge(ks, i, noises, 0.03, true), safe, low, high);
        }
        return c;
    }

    /**
     * A styled log-log chart.
     *
     * @param title the title
     * @param x the x axis's title
     * @param y the y axis's title
     * @return the chart
     */
    static XYChart logLog(String title, String x, String y) {
        return Plots.lines(title, x, y, true, true);
    }

    private static double[] series(List<Cell> cells, Config cfg, double a, String method,
            java.util.function.ToDoubleFunction<Cell> f) {
        return cfg.k().stream().mapToDouble(k -> f.applyAsDouble(find(cells, a, k, method))).toArray();
    }

    private static Cell find(List<Cell> cells, double a, int k, String method) {
        return cells.stream().filter(c -> c.a() == a && c.k() == k && c.method().equals(method)).findFirst().orElseThrow();
    }

}

package io.distill4j.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.distill4j.loss.EmaStudentEstimate;
import io.distill4j.loss.StudentEstimate;
import io.distill4j.models.LeastSquares;
import io.distill4j.trainer.StudentProbe;
import java.util.Objects;

/**
 * Where a target that fuses the teacher with the student's own estimate ({@code inverse-variance},
 * {@code inverse-variance-paper}: {@link io.distill4j.loss.TargetBuilder#needsStudentEstimate}) gets that estimate
 * of each row: its mean mu_S and variance var_S.
 * <ul>
 *   <li>{@link #mcDropout()} (the default): the student's MC-dropout passes over the batch
 *       ({@link Distillation.Builder#studentPasses}), as probabilities: classification caches only;</li>
 *   <li>{@link #ema}: an exponential moving average of the student's own raw outputs of each row, updated at every
 *       step from the student as it trains, the table kept across steps ({@link EmaStudentEstimate}, one per
 *       student): for regression caches;</li>
 *   <li>{@link #given}: a fixed estimate per training row, for example Cui &amp; Pei's paper-faithful oracle (the
 *       teacher's noise-free mean with the true noise variance);</li>
 *   <li>{@link #pilot()}: for students fitted in closed form ({@code ols}): the student's own least-squares fit to
 *       the mean of its draws, with the fit's variance s^2 h_ii, where s^2 is the mean over rows of the ddof-1
 *       variance of the draws divided by k (the noise of the mean target) and h_ii the row's leverage.</li>
 * </ul>
 * {@link Distillation.Builder#build} refuses a source that does not fit the run (before any work).
 */
public final class StudentEstimates {

    /** The kinds of source. */
    public enum Kind {
        /** MC-dropout passes of the student being trained. */
        MC_DROPOUT,
        /** An EMA of the student's own outputs per row, kept across steps. */
        EMA,
        /** A fixed estimate per row. */
        GIVEN,
        /** A closed-form student's fit to the mean target. */
        PILOT
    }

    private final Kind kind;
    private final float[][] mean;
    private final float[][] variance;
    private final double alpha;
    private final EmaStudentEstimate.Variance emaVariance;
    private final double initialSpread;

    private StudentEstimates(Kind kind, float[][] mean, float[][] variance) {
        this(kind, mean, variance, 0, null, 0);
    }

    private StudentEstimates(Kind kind, float[][] mean, float[][] variance, double alpha,
            EmaStudentEstimate.Variance emaVariance, double initialSpread) {
        this.kind = kind;
        this.mean = mean;
        this.variance = variance;
        this.alpha = alpha;
        this.emaVariance = emaVariance;
        this.initialSpread = initialSpread;
    }

    /**
     * An EMA of the student's own raw outputs of each row ({@link EmaStudentEstimate}), folded in at every step before
     * the target is built, reporting the variance of the weighted mean ({@link EmaStudentEstimate.Variance#OF_MEAN}).
     *
     * @param alpha the weight of a new prediction, in (0, 1]
     * @return the source
     */
    public static StudentEstimates ema(double alpha) {
        return ema(alpha, EmaStudentEstimate.Variance.OF_MEAN, 0);
    }

    /**
     * An EMA of the student's own raw outputs of each row, with the variance it reports and the spread it starts
     * from chosen ({@link EmaStudentEstimate}).
     *
     * @param alpha the weight of a new prediction, in (0, 1]
     * @param variance what var_S is
     * @param initialSpread S at a row's first prediction, finite and non-negative
     * @return the source
     * @throws IllegalArgumentException for a bad alpha or spread
     */
    public static StudentEstimates ema(double alpha, EmaStudentEstimate.Variance variance, double initialSpread) {
        new EmaStudentEstimate(1, 1, alpha, variance, initialSpread); // checks the settings now, not at the first step
        return new StudentEstimates(Kind.EMA, null, null, alpha, variance, initialSpread);
    }

    /** @return the student's MC-dropout passes (probabilities; the default) */
    public static StudentEstimates mcDropout() {
        return new StudentEstimates(Kind.MC_DROPOUT, null, null);
    }

    /**
     * A fixed estimate per training row (in the rows' order), the same for every student.
     *
     * @param mean mu_S, one row of the cache's width per training row
     * @param variance var_S, of the same shape, each value finite and non-negative
     * @return the source
     * @throws IllegalArgumentException for ragged or mismatched arrays or a bad variance
     */
    public static StudentEstimates given(float[][] mean, float[][] variance) {
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(variance, "variance");
        if (mean.length == 0 || mean.length != variance.length) {
            throw new IllegalArgumentException("a given student estimate needs as many variance rows as mean rows, at"
                    + " least one; got " + mean.length + " and " + variance.length);
        }
        int w = mean[0].length;
        float[][] m = new float[mean.length][];
        float[][] v = new float[mean.length][];
        for (int i = 0; i < mean.length; i++) {
            if (mean[i].length != w || variance[i].length != w) {
                throw new IllegalArgumentException("a given student estimate has rows of one width; row " + i + " has "
                        + mean[i].length + " means and " + variance[i].length + " variances, row 0 " + w);
            }
            for (float x : variance[i]) {
                if (!(x >= 0) || Float.isInfinite(x)) {
                    throw new IllegalArgumentException("a given student variance must be finite and >= 0, got " + x
                            + " in row " + i);
                }
            }
            m[i] = mean[i].clone();
            v[i] = variance[i].clone();
        }
        return new StudentEstimates(Kind.GIVEN, m, v);
    }

    /** @return a closed-form student's own fit to the mean of its draws, with the fit's variance */
    public static StudentEstimates pilot() {
        return new StudentEstimates(Kind.PILOT, null, null);
    }

    /**
     * The options of {@code ema} in a config.
     *
     * @param alpha the weight of a new prediction (absent: 0.1)
     * @param variance {@code of-mean} (absent) or {@code spread}
     * @param initialSpread S at a row's first prediction (absent: 0)
     */
    public record EmaOptions(Double alpha, EmaStudentEstimate.Variance variance, Double initialSpread) {
    }

    /**
     * A source named in a config ({@code studentEstimate} of a train config): {@code mc-dropout}, {@code pilot},
     * {@code ema}, or a mapping with {@code name} and, for {@code ema}, its options ({@link EmaOptions}), e.g.
     * {@code {name: ema, alpha: 0.1, variance: spread, initialSpread: 1.0}}. A {@code given} estimate holds arrays
     * and is made in Java ({@link #given}).
     *
     * @param spec a name or a mapping
     * @return the source
     * @throws IllegalArgumentException naming the unknown name or the bad option
     */
    public static StudentEstimates fromSpec(Object spec) {
        String name;
        java.util.Map<String, Object> options = new java.util.LinkedHashMap<>();
        if (spec instanceof String n) {
            name = n;
        } else if (spec instanceof java.util.Map<?, ?> m && m.get("name") instanceof String n) {
            name = n;
            m.forEach((k, v) -> {
                if (!"name".equals(k)) {
                    options.put(String.valueOf(k), v);
                }
            });
        } else {
            throw new IllegalArgumentException("a student estimate is a name (mc-dropout, pilot, ema) or a mapping with"
                    + " a name, got '" + spec + "'");
        }
        if (!"ema".equals(name) && !options.isEmpty()) {
            throw new IllegalArgumentException("student estimate '" + name + "' takes no options, got " + options.keySet());
        }
        return switch (name) {
            case "mc-dropout" -> mcDropout();
            case "pilot" -> pilot();
            case "ema" -> {
                EmaOptions o = io.distill4j.data.config.ConfigReader.convert(options, EmaOptions.class,
                        "student estimate 'ema'");
                yield ema(o.alpha() == null ? 0.1 : o.alpha(), o.variance() == null ? EmaStudentEstimate.Variance.OF_MEAN
                        : o.variance(), o.initialSpread() == null ? 0 : o.initialSpread());
            }
            case "given" -> throw new IllegalArgumentException("student estimate 'given' holds an estimate per row: make it"
                    + " in Java (StudentEstimates.given)");
            default -> throw new IllegalArgumentException("unknown student estimate '" + name + "': known are mc-dropout,"
                    + " pilot, ema");
        };
    }

    /** @return the kind */
    public Kind kind() {
        return kind;
    }

    /** @return a short description for the model card */
    public String describe() {
        return switch (kind) {
            case MC_DROPOUT -> "mc-dropout";
            case EMA -> String.format(java.util.Locale.ROOT, "ema (alpha %s, variance %s, initial spread %s)", alpha,
                    emaVariance.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), initialSpread);
            case GIVEN -> "given";
            case PILOT -> "pilot";
        };
    }

    /**
     * Why this source cannot serve a run, or null.
     *
     * @param closedForm whether the student is fitted in closed form
     * @param signal the cache's signal
     * @param rows the training rows
     * @param width the cache's width
     * @return the reason, or null
     */
    String misfit(boolean closedForm, String signal, int rows, int width) {
        return switch (kind) {
            case MC_DROPOUT -> closedForm ? "a student fitted in closed form has no dropout passes (use studentEstimate"
                    + " pilot, or given)" : "probabilities".equals(signal) ? null
                    : "the student's MC-dropout passes are probabilities, and this cache holds " + signal
                            + " (use studentEstimate given)";
            case EMA -> closedForm ? "a student fitted in closed form takes no steps to average over (use studentEstimate"
                    + " pilot, or given)" : "values".equals(signal) ? null : "an EMA of the student's raw outputs fuses"
                    + " with regression values, and this cache holds " + signal;
            case GIVEN -> mean.length != rows || mean[0].length != width ? "the given estimate has " + mean.length
                    + " rows of " + mean[0].length + ", the training part " + rows + " rows and the cache width " + width
                    : null;
            case PILOT -> closedForm ? null : "a pilot fit needs a student fitted in closed form (model_type ols)";
        };
    }

    /**
     * Starts one student's estimator (a pilot needs the student's least-squares problem; an EMA starts an empty table).
     *
     * @param passes MC-dropout passes
     * @param problem the closed-form student's problem, or null
     * @param items the training rows' count
     * @param width the cache's width
     * @return the estimator
     */
    Estimator start(int passes, LeastSquares problem, int items, int width) {
        return switch (kind) {
            case MC_DROPOUT -> (m, rows, inputs, samples, probe) -> StudentEstimate.fromPasses(
                    probe.mcDropoutProbabilities(inputs, passes).transpose(1, 0, 2));
            case EMA -> {
                EmaStudentEstimate table = new EmaStudentEstimate(items, width, alpha, emaVariance, initialSpread);
                yield (m, batch, inputs, samples, probe) -> {
                    long[] ids = new long[batch.length];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = batch[i];
                    }
                    table.update(ids, probe.outputs(inputs));
                    return table.estimate(ids, m);
                };
            }
            case GIVEN -> (m, rows, inputs, samples, probe) -> {
                int w = mean[0].length;
                float[] mu = new float[rows.length * w];
                float[] var = new float[mu.length];
                for (int i = 0; i < rows.length; i++) {
                    System.arraycopy(mean[rows[i]], 0, mu, i * w, w);
                    System.arraycopy(variance[rows[i]], 0, var, i * w, w);
                }
                Shape s = new Shape(rows.length, w);
                return new StudentEstimate(m.create(mu, s), m.create(var, s));
            };
            case PILOT -> (m, rows, inputs, samples, probe) -> pilot(m, rows, samples, problem);
        };
    }

    /** The least-squares fit to the draws' mean, with variance s^2 h_ii; rows must be all the problem's rows. */
    private static StudentEstimate pilot(NDManager m, int[] rows, NDArray samples, LeastSquares problem) {
        int n = problem.rows();
        if (rows.length != n) {
            throw new IllegalStateException("a pilot fit needs all " + n + " training rows at once, got " + rows.length);
        }
        Shape shape = samples.getShape();
        int k = (int) shape.get(1);
        int w = (int) shape.get(2);
        float[] x = samples.toType(DataType.FLOAT32, false).toFloatArray();
        double[][] mean = new double[n][w];
        double noise = 0;
        for (int i = 0; i < n; i++) {
            int r = rows[i];
            for (int d = 0; d < w; d++) {
                double sum = 0;
                double sq = 0;
                for (int j = 0; j < k; j++) {
                    double y = x[(i * k + j) * w + d];
                    sum += y;
                    sq += y * y;
                }
                double ybar = sum / k;
                mean[r][d] = ybar;
                double ss = Math.max(0, sq - k * ybar * ybar);
                noise += (k > 1 ? ss / (k - 1) : 0) / k / ((double) n * w);
            }
        }
        double[][] fit = problem.fitted(mean);
        double[] lev = problem.leverage();
        float[] mu = new float[n * w];
        float[] var = new float[n * w];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < w; d++) {
                mu[i * w + d] = (float) fit[rows[i]][d];
                var[i * w + d] = (float) (noise * lev[rows[i]]);
            }
        }
        Shape s = new Shape(n, w);
        return new StudentEstimate(m.create(mu, s), m.create(var, s));
    }

    /** One student's estimate of a batch's rows. */
    @FunctionalInterface
    interface Estimator {
        /**
         * Estimates a batch.
         *
         * @param manager where to create the arrays
         * @param rows the batch's training rows
         * @param inputs their features
         * @param samples their teacher draws (B, k, C)
         * @param probe the student being trained (null for a closed-form fit)
         * @return mu_S and var_S, (B, C) each
         */
        StudentEstimate estimate(NDManager manager, int[] rows, NDArray inputs, NDArray samples, StudentProbe probe);
    }
}

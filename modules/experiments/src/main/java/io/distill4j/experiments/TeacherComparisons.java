package io.distill4j.experiments;

import io.distill4j.trainer.stats.Descriptive;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;
import io.distill4j.data.TabularData;
import io.distill4j.loss.Registry;
import io.distill4j.loss.TargetBuilder;
import io.distill4j.teacher.Teacher;
import io.distill4j.trainer.MultiStudentRun;
import io.distill4j.data.TeacherCache;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.Draws;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.Teachers;
import java.nio.file.Path;
import io.distill4j.models.Mlp;
import io.distill4j.trainer.StackedStudents;
import io.distill4j.trainer.StudentTrainer;
import io.distill4j.trainer.TabularBatchSource;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.TrainingEngine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Shared pieces of the teacher-comparison experiments (bayesian-teacher, calibrated-teacher): MLP teachers
 * trained with a registry loss, their k samples per input sampled into a cache, and R MLP students per condition
 * trained through the pipeline ({@link Distillation}, stacked students, shared draws) with any target and
 * distillation loss of the registry, with a validation curve per student.
 */
final class TeacherComparisons {

    private static final org.apache.logging.log4j.Logger LOG = org.apache.logging.log4j.LogManager.getLogger(
            TeacherComparisons.class);

    private TeacherComparisons() {
    }

    // ---------------------------------------------------------------- teachers

    /**
     * Trains an MLP teacher (Linear, ReLU, Dropout per hidden layer, then Linear) on hard labels.
     *
     * @param name the model's name
     * @param data the training rows and labels
     * @param hidden the hidden widths
     * @param dropout the dropout rate
     * @param loss a loss whose labels are {@code [y]} (e.g. {@code ce}, {@code focal-entropy})
     * @param config epochs, batch size, optimiser, seed, device
     * @return the trained teacher; the caller closes it
     */
    static Model trainTeacher(String name, TabularData data, int[] hidden, float dropout, Loss loss, TrainingSpec config) {
        return StudentTrainer.train(name, Mlp.builder().setInputs(data.width()).setHidden(hidden).setOutputs(data.numClasses())
                .optDropout(dropout).build(), data.features(), labelTargets(data.labels()), loss, config);
    }

    /**
     * Continues training a trained model on hard labels with another loss (fine-tuning), with a fresh AdamW.
     *
     * @param model the trained model
     * @param x the rows
     * @param y their labels
     * @param loss a loss whose labels are {@code [y]}
     * @param config epochs, batch size, optimiser, seed, device
     */
    static void fineTune(Model model, float[][] x, int[] y, Loss loss, TrainingSpec config) {
        try (TabularBatchSource source = new TabularBatchSource(x, labelTargets(y), config.batchSize(), config.device())) {
            TrainingEngine.fit(model, source, loss, config);
        }
    }

    private static io.distill4j.trainer.BatchTargets labelTargets(int[] y) {
        return (m, rows, in, probe) -> {
            int[] b = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                b[i] = y[rows[i]];
            }
            return new NDList(m.create(b));
        };
    }

    /**
     * A model's parameters as bytes (DJL's parameter format), to restore them later.
     *
     * @param model an initialised model
     * @return the bytes
     */
    static byte[] snapshot(Model model) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            model.getBlock().saveParameters(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot snapshot the parameters of " + model.getName(), e);
        }
        return bytes.toByteArray();
    }

    /**
     * Restores parameters saved by {@link #snapshot}.
     *
     * @param model the model they were taken from
     * @param bytes the snapshot
     */
    static void restore(Model model, byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            model.getBlock().loadParameters(model.getNDManager(), in);
        } catch (IOException | ai.djl.MalformedModelException e) {
            throw new IllegalStateException("cannot restore the parameters of " + model.getName(), e);
        }
    }

    /**
     * Draws a teacher's k samples for every row.
     *
     * @param teacher the teacher
     * @param x the rows
     * @return samples, flat (n, k, width) row-major
     */
    static float[] samples(Teacher teacher, float[][] x) {
        int n = x.length;
        int d = x[0].length;
        int kw = teacher.k() * teacher.width();
        float[] out = new float[n * kw];
        float[] flat = new float[Math.min(StackedStudents.CHUNK, n) * d];
        try (NDManager root = NDManager.newBaseManager(teacher.device())) {
            for (int start = 0; start < n; start += StackedStudents.CHUNK) {
                int b = Math.min(StackedStudents.CHUNK, n - start);
                io.distill4j.data.Rows.flatten(x, start, start + b, flat);
                try (NDManager sub = root.newSubManager()) {
                    NDArray in = sub.create(FloatBuffer.wrap(flat, 0, b * d), new Shape(b, d));
                    NDArray s = teacher.sample(sub, in, start);
                    float[] v = s.toType(DataType.FLOAT32, false).toFloatArray();
                    System.arraycopy(v, 0, out, start * kw, b * kw);
                }
            }
        }
        return out;
    }

    /**
     * The posterior-predictive mean of logit samples at a temperature, in plain double precision:
     * {@code (1/k) sum_j softmax(z_j / T)}.
     *
     * @param logits flat (n, k, C)
     * @param k samples per row
     * @param c classes
     * @param temperature T
     * @return probabilities {@code [n][C]}
     */
    static double[][] predictive(float[] logits, int k, int c, double temperature) {
        int n = logits.length / (k * c);
        double[][] p = new double[n][c];
        double[] e = new double[c];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                int base = (i * k + j) * c;
                double max = Double.NEGATIVE_INFINITY;
                for (int cc = 0; cc < c; cc++) {
                    max = Math.max(max, logits[base + cc] / temperature);
                }
                double sum = 0;
                for (int cc = 0; cc < c; cc++) {
                    e[cc] = Math.exp(logits[base + cc] / temperature - max);
                    sum += e[cc];
                }
                for (int cc = 0; cc < c; cc++) {
                    p[i][cc] += e[cc] / sum / k;
                }
            }
        }
        return p;
    }

    /**
     * Builds targets from logit samples with a target builder of the registry, on the engine.
     *
     * @param spec the builder's spec (a name, or a map with {@code name} and its options)
     * @param logits flat (n, k, C)
     * @param k samples per row
     * @param c classes
     * @param labels the labels, for builders that need them (may be null otherwise)
     * @return targets, flat (n, C)
     */
    static float[] targets(Object spec, float[] logits, int k, int c, int[] labels) {
        TargetBuilder b = Registry.target(spec);
        int n = logits.length / (k * c);
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray s = m.create(logits, new Shape(n, k, c));
            NDArray y = labels == null ? null : m.create(labels).toType(DataType.INT64, false);
            return b.build(s, null, y).toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    // ---------------------------------------------------------------- students

    /**
     * A loss of the registry for the stacked students.
     *
     * @param name the loss name
     * @param options its options
     * @return the loss, with value checks off (the targets are built here and are known to be valid)
     */
    static io.distill4j.loss.DistillationLoss loss(String name, Map<String, ?> options) {
        return Registry.loss(name, options).setValidate(false);
    }

    /**
     * The pipeline run of one condition's students: R MLP students trained at once ({@link Distillation.Builder#stacked})
     * on the k draws per row every student shares ({@link Draws#SHARED}) of a teacher already sampled into a cache,
     * seeds {@code spec.seed()} to {@code spec.seed() + R - 1} (the stack starts from the first), scored on the test
     * rows without MC-dropout passes; students are not saved. The caller adds the target, the loss and any
     * validation rows or further test sets, and calls {@code build().fit(runDir)}.
     *
     * @param name the run's name
     * @param train the training rows (the cache's items)
     * @param test the test rows
     * @param cache the teacher's cache over {@code train}
     * @param hidden the students' hidden widths
     * @param dropout their dropout
     * @param count R
     * @param spec the engine settings (batch size per student, seed, validation interval)
     * @return the builder
     */
    static Distillation.Builder students(String name, TabularData train, TabularData test, Path cache, int[] hidden,
            float dropout, int count, TrainingSpec spec) {
        List<Long> seeds = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            seeds.add(spec.seed() + s);
        }
        return Distillation.builder().name(name).data(new TabularData.Split(train, test)).teacher(Teachers.cache(cache))
                .draws(Draws.SHARED).student(Mlp.builder().setHidden(hidden).optDropout(dropout)).seeds(seeds)
                .stacked(true).training(spec).evaluationPasses(0).saveStudents(false).log(LOG::debug);
    }

    /**
     * Samples a teacher into a cache over the training rows (the pipeline's {@link Teachers#of}).
     *
     * @param teacher the teacher
     * @param train the rows
     * @param test the test rows (the split the runs use)
     * @param dir the cache folder
     * @return the cache's draws, flat (n, k, width), for the teacher's own summaries
     */
    static float[] sampleInto(Teacher teacher, TabularData train, TabularData test, Path dir) {
        TeacherCache cache = Teachers.of(teacher).fill(new TabularData.Split(train, test), teacher.k(), dir,
                teacher.device(), LOG::debug);
        return io.distill4j.data.Rows.flatten(cache.readAll());
    }

    /**
     * Per-student accuracy, ECE and NLL of a run, as the pipeline scored them.
     *
     * @param run the run
     * @param prefix {@code ""} for the test part, {@code name/} for a further test set
     * @return {accuracy[], ece[], nll[]}
     */
    static double[][] scores(RunResult run, String prefix) {
        List<MultiStudentRun.StudentResult> st = run.result().students();
        double[][] out = new double[3][st.size()];
        for (int s = 0; s < st.size(); s++) {
            out[0][s] = st.get(s).metrics().get(prefix + "accuracy");
            out[1][s] = st.get(s).metrics().get(prefix + "ece");
            out[2][s] = st.get(s).metrics().get(prefix + "nll");
        }
        return out;
    }

    /** Each student's validation curve of a run (one point per validation, each the students' values). */
    static final class Curve {
        private final List<double[]> points = new ArrayList<>();

        /**
         * Reads the curves of a run's students.
         *
         * @param run a run made with validation rows
         */
        Curve(RunResult run) {
            List<MultiStudentRun.StudentResult> st = run.result().students();
            int n = st.get(0).training().validations().size();
            for (int i = 0; i < n; i++) {
                double[] p = new double[st.size()];
                for (int s = 0; s < p.length; s++) {
                    p[s] = st.get(s).training().validations().get(i);
                }
                points.add(p);
            }
        }

        /** @return the recorded points, each the students' accuracies */
        List<double[]> points() {
            return points;
        }

        /**
         * Each student's spread of its last {@code tail} validation accuracies: the standard deviation (ddof 1),
         * or, detrended, the residual standard deviation about the least-squares line through them (ddof 2), so
         * that a curve still rising does not count as noise.
         *
         * @param tail points, at least 3 and at most the number recorded
         * @param detrend whether to remove the linear trend first
         * @return one value per student
         */
        double[] tailNoise(int tail, boolean detrend) {
            if (tail < 3 || tail > points.size()) {
                throw new IllegalArgumentException("curve tail must be in [3, " + points.size() + "], got " + tail);
            }
            int r = points.get(0).length;
            double[] out = new double[r];
            for (int s = 0; s < r; s++) {
                double[] v = new double[tail];
                for (int i = 0; i < tail; i++) {
                    v[i] = points.get(points.size() - tail + i)[s];
                }
                out[s] = detrend ? residualSd(v) : Math.sqrt(Descriptive.variance(v));
            }
            return out;
        }

        /** Residual standard deviation (ddof 2) of equally spaced values about their least-squares line. */
        static double residualSd(double[] v) {
            int n = v.length;
            double mx = (n - 1) / 2.0;
            double my = Descriptive.mean(v);
            double sxy = 0;
            double sxx = 0;
            for (int i = 0; i < n; i++) {
                sxy += (i - mx) * (v[i] - my);
                sxx += (i - mx) * (i - mx);
            }
            double slope = sxy / sxx;
            double ss = 0;
            for (int i = 0; i < n; i++) {
                double e = v[i] - my - slope * (i - mx);
                ss += e * e;
            }
            return Math.sqrt(ss / (n - 2));
        }

        /** @return the mean over students of each recorded point */
        double[] meanCurve() {
            return points.stream().mapToDouble(Descriptive::mean).toArray();
        }
    }

    // ---------------------------------------------------------------- summaries

    /**
     * Mean of the largest probability per row (the confidence).
     *
     * @param p probabilities
     * @return the mean confidence
     */
    static double meanConfidence(double[][] p) {
        double s = 0;
        for (double[] row : p) {
            double m = 0;
            for (double v : row) {
                m = Math.max(m, v);
            }
            s += m;
        }
        return s / p.length;
    }

    /**
     * Converts probabilities to a flat float array.
     *
     * @param p {@code [n][C]}
     * @return flat (n, C)
     */
    static float[] flat(double[][] p) {
        int c = p[0].length;
        float[] f = new float[p.length * c];
        for (int i = 0; i < p.length; i++) {
            for (int j = 0; j < c; j++) {
                f[i * c + j] = (float) p[i][j];
            }
        }
        return f;
    }
}

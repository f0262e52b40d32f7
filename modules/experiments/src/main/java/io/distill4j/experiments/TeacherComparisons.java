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
import io.distill4j.trainer.Metrics;
import io.distill4j.models.Mlp;
import io.distill4j.models.StackedMlp;
import io.distill4j.trainer.StackedStudents;
import io.distill4j.trainer.StudentTrainer;
import io.distill4j.trainer.TabularBatchSource;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.TrainingEngine;
import io.distill4j.trainer.Validator;
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
 * trained with a registry loss, their k samples per input, and R MLP students trained at once on
 * {@link StackedStudents} with any distillation loss of the registry, with a validation-accuracy curve per
 * student.
 */
final class TeacherComparisons {

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
     * Trains R students at once on {@link StackedStudents}, all on the same teacher targets.
     *
     * @param block the uninitialised stack (R students)
     * @param x the training rows
     * @param y their labels
     * @param teacher the teacher targets, flat (n, C), shared by all students (read by the loss as labels[1])
     * @param classes C
     * @param loss a distillation loss whose labels are {@code [y, teacher]} (e.g. {@code hinton-kd},
     *     {@code bayesian-kd}); each student's objective is its own mean loss
     * @param spec the engine settings (validation interval included)
     * @param batchSize rows per student per step
     * @param curve records the validation curve, or null
     * @return the trained stack; the caller closes it
     */
    static Model trainStudents(StackedMlp block, float[][] x, int[] y, float[] teacher, int classes, Loss loss,
            TrainingSpec spec, int batchSize, Curve curve) {
        if (teacher.length != x.length * classes) {
            throw new IllegalArgumentException("teacher targets hold " + teacher.length + " values, expected " + x.length
                    + " x " + classes);
        }
        try (NDManager m = NDManager.newBaseManager(spec.device())) {
            NDArray labels = m.create(y).toType(DataType.INT64, false);
            NDArray targets = m.create(teacher, new Shape(x.length, classes));
            return StackedStudents.train(block, x, StackedStudents.sharedRows(labels, targets), loss, spec, batchSize, curve);
        }
    }

    /** Records each student's validation accuracy whenever the engine validates; returns their mean. */
    static final class Curve implements Validator {
        private final float[][] x;
        private final int[] y;
        private final List<double[]> points = new ArrayList<>();

        Curve(float[][] x, int[] y) {
            this.x = x;
            this.y = y;
        }

        @Override
        public double evaluate(Model model) {
            double[][][] p = StackedStudents.probabilities(model, x, false);
            double[] acc = new double[p.length];
            for (int s = 0; s < p.length; s++) {
                acc[s] = Metrics.accuracy(p[s], y);
            }
            points.add(acc);
            return Descriptive.mean(acc);
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
     * Per-student accuracy, ECE and NLL.
     *
     * @param probs {@code [student][row][class]}
     * @param labels the labels
     * @return {accuracy[], ece[], nll[]}
     */
    static double[][] scores(double[][][] probs, int[] labels) {
        double[][] out = new double[3][probs.length];
        for (int s = 0; s < probs.length; s++) {
            out[0][s] = Metrics.accuracy(probs[s], labels);
            out[1][s] = Metrics.ece(probs[s], labels);
            out[2][s] = Metrics.nll(probs[s], labels);
        }
        return out;
    }

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

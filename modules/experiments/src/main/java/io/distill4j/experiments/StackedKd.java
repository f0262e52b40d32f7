package io.distill4j.experiments;

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
import io.distill4j.trainer.MicroBatch;
import io.distill4j.trainer.BatchSource;
import io.distill4j.trainer.Metrics;
import io.distill4j.models.Mlp;
import io.distill4j.models.StackedMlp;
import io.distill4j.trainer.StackedTraining;
import io.distill4j.trainer.StudentProbe;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import io.distill4j.loss.Scalars;

/**
 * Shared pieces of the teacher-comparison experiments: MLP teachers trained with a registry loss, their k
 * samples per input, and R MLP students trained at once as a {@link StackedMlp} with any distillation loss
 * of the registry through the {@link TrainingEngine}, with a validation-accuracy curve per student.
 */
final class StackedKd {
    /** Rows per forward pass when predicting. */
    static final int CHUNK = 2048;

    private StackedKd() {
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
        float[] flat = new float[Math.min(CHUNK, n) * d];
        try (NDManager root = NDManager.newBaseManager(teacher.device())) {
            for (int start = 0; start < n; start += CHUNK) {
                int b = Math.min(CHUNK, n - start);
                for (int i = 0; i < b; i++) {
                    System.arraycopy(x[start + i], 0, flat, i * d, d);
                }
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
     * Trains R students at once.
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
        Model model = Model.newInstance("students", spec.device());
        model.setBlock(block);
        try (StackedSource source = new StackedSource(x, y, teacher, classes, block.students(), batchSize, spec.device())) {
            TrainingEngine.fit(model, source, new PerStudent(loss, block.students()), spec, curve);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /**
     * Every student's class probabilities (dropout off).
     *
     * @param model a trained stack
     * @param x the rows
     * @return {@code [student][row][class]}
     */
    static double[][][] probabilities(Model model, float[][] x) {
        int r = ((StackedMlp) model.getBlock()).students();
        double[][][] out = new double[r][x.length][];
        for (int start = 0; start < x.length; start += CHUNK) {
            int end = Math.min(x.length, start + CHUNK);
            float[][][] z = StackedTraining.predict(model, Arrays.copyOfRange(x, start, end), false);
            for (int s = 0; s < r; s++) {
                double[][] p = FfnExperiment.softmax(z[s]);
                System.arraycopy(p, 0, out[s], start, end - start);
            }
        }
        return out;
    }

    /** Each student's loss summed over students, so each student's gradient is that of its own mean loss. */
    static final class PerStudent extends Loss {
        private final Loss base;
        private final int students;

        PerStudent(Loss base, int students) {
            super(base.getName() + "-per-student");
            this.base = base;
            this.students = students;
        }

        @Override
        public NDArray evaluate(NDList labels, NDList predictions) {
            NDArray z = predictions.head();
            Shape s = z.getShape();
            if (s.dimension() != 3 || s.get(0) != students) {
                throw new IllegalArgumentException("stacked predictions must be (" + students + ", B, C), got " + s);
            }
            return Scalars.mul(base.evaluate(labels, new NDList(z.reshape(s.get(0) * s.get(1), s.get(2)))), students);
        }
    }

    /**
     * Mini-batches for R stacked students: each student visits the rows in its own per-epoch order
     * (the permutation of StackedTraining: seed * 1_000_003 + student * 7_919 + epoch). Inputs (R, B, D); labels
     * {@code [y (R B), teacher (R B, C)]}, the students folded into the batch axis.
     */
    static final class StackedSource implements BatchSource, AutoCloseable {
        private final NDManager manager;
        private final NDArray x;
        private final NDArray y;
        private final NDArray t;
        private final int n;
        private final int d;
        private final int c;
        private final int r;
        private final int batch;
        private int cachedEpoch = -1;
        private long cachedSeed;
        private int[][] perms;

        StackedSource(float[][] features, int[] labels, float[] teacher, int classes, int students, int batchSize,
                Device device) {
            this.n = features.length;
            this.d = features[0].length;
            this.c = classes;
            this.r = students;
            this.batch = Math.min(batchSize, n);
            if (teacher.length != n * classes) {
                throw new IllegalArgumentException("teacher targets hold " + teacher.length + " values, expected " + n + " x "
                        + classes);
            }
            manager = NDManager.newBaseManager(device);
            x = manager.create(flatten(features), new Shape(n, d));
            y = manager.create(labels).toType(DataType.INT64, false);
            t = manager.create(teacher, new Shape(n, c));
        }

        @Override
        public int batchesPerEpoch() {
            return (n + batch - 1) / batch;
        }

        @Override
        public Shape[] inputShapes() {
            return new Shape[] {new Shape(r, batch, d)};
        }

        @Override
        public synchronized MicroBatch batch(NDManager m, long seed, int epoch, int index, StudentProbe student) {
            if (epoch != cachedEpoch || seed != cachedSeed || perms == null) {
                perms = new int[r][];
                for (int s = 0; s < r; s++) {
                    perms[s] = TabularData.permutation(n, seed * 1_000_003L + s * 7_919L + epoch);
                }
                cachedEpoch = epoch;
                cachedSeed = seed;
            }
            int start = index * batch;
            int b = Math.min(batch, n - start);
            long[] idx = new long[r * b];
            for (int s = 0; s < r; s++) {
                for (int i = 0; i < b; i++) {
                    idx[s * b + i] = perms[s][start + i];
                }
            }
            NDArray rows = m.create(idx, new Shape((long) r * b));
            // get() makes its result in the source's manager: attach each to the step's manager before anything
            // else is derived from it, or every step's copy stays alive until the source closes
            NDArray xr = x.get(rows);
            NDArray yb = y.get(rows);
            NDArray tb = t.get(rows);
            xr.attach(m);
            yb.attach(m);
            tb.attach(m);
            return new MicroBatch(new NDList(xr.reshape(r, b, d)), new NDList(yb, tb), r * b);
        }

        /** @return the arrays the source itself holds (its rows, labels and targets, and nothing per step) */
        int heldArrays() {
            return ((ai.djl.ndarray.BaseNDManager) manager).getManagedArrays().size();
        }

        @Override
        public void close() {
            manager.close();
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
            double[][][] p = probabilities(model, x);
            double[] acc = new double[p.length];
            for (int s = 0; s < p.length; s++) {
                acc[s] = Metrics.accuracy(p[s], y);
            }
            points.add(acc);
            return Stats.mean(acc);
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
                out[s] = detrend ? residualSd(v) : Math.sqrt(Stats.variance(v));
            }
            return out;
        }

        /** Residual standard deviation (ddof 2) of equally spaced values about their least-squares line. */
        static double residualSd(double[] v) {
            int n = v.length;
            double mx = (n - 1) / 2.0;
            double my = Stats.mean(v);
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
            return points.stream().mapToDouble(Stats::mean).toArray();
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
     * Formats a mean with its 95% interval over students.
     *
     * @param v per-student values
     * @param digits decimals
     * @return {@code mean ± half-width}
     */
    static String ci(double[] v, int digits) {
        String f = "%." + digits + "f";
        return String.format(java.util.Locale.ROOT, f + " ± " + f, Stats.mean(v), v.length > 1 ? Stats.ci95(v) : 0.0);
    }

    /**
     * Concatenates rows of equal width.
     *
     * @param rows the rows
     * @return flat (n, D)
     */
    static float[] flatten(float[][] rows) {
        int d = rows[0].length;
        float[] f = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, f, i * d, d);
        }
        return f;
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

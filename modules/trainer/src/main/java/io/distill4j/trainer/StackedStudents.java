package io.distill4j.trainer;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;
import io.distill4j.data.Rows;
import io.distill4j.data.TabularData;
import io.distill4j.loss.Scalars;
import io.distill4j.models.Inference;
import io.distill4j.models.StackedMlp;
import java.util.Arrays;

/**
 * Many students in one pass: the R students of a {@link StackedMlp} trained at once by the
 * {@link TrainingEngine} (the project's {@link AdamW}, schedules, clipping, validation, early stopping), each
 * on its own targets and its own data order, as if each were trained alone.
 *
 * <p>Each step, student s sees B rows of the shared features in its own order (a permutation per student and
 * epoch, drawn from {@code seed * 1_000_003 + s * 7_919 + epoch}): inputs (R, B, D). A {@link Labels} function
 * builds that step's labels, each of shape (R, B, ...), from the rows each student sees; it may read the
 * students themselves through a {@link Probe} (targets built from a student's own estimate). The objective is
 * {@link PerStudent}: any DJL loss (a registry loss) evaluated with the students folded into the batch axis,
 * times R, which is the sum over students of each student's own mean loss, so every student's gradient is
 * its own.
 */
public final class StackedStudents {

    /** Rows per forward pass when predicting. */
    public static final int CHUNK = 2048;

    private StackedStudents() {
    }

    /** Builds each step's labels for all students. */
    @FunctionalInterface
    public interface Labels {
        /**
         * Builds the labels of a step.
         *
         * @param manager the step's manager: arrays made here are freed when the step ends
         * @param rows the row each student sees, shape (R, B), int64
         * @param inputs those rows' features, shape (R, B, D)
         * @param students the students, for targets built from their own estimates
         * @return the loss's labels, each of shape (R, B, ...)
         */
        NDList labels(NDManager manager, NDArray rows, NDArray inputs, Probe students);
    }

    /** Runs the students being trained with dropout active and no gradient recording. */
    @FunctionalInterface
    public interface Probe {
        /**
         * Stochastic forward passes of every student.
         *
         * @param inputs shape (R, B, D)
         * @param passes the number of passes S, positive
         * @return raw outputs (logits or regression values), shape (S, R, B, C)
         */
        NDArray passes(NDArray inputs, int passes);
    }

    /**
     * Labels gathered by row from arrays that every student shares, e.g. class labels and teacher targets.
     *
     * @param perRow arrays of shape (n, ...), living as long as the training
     * @return labels (R, B, ...) each, in the order given
     */
    public static Labels sharedRows(NDArray... perRow) {
        NDArray[] arrays = perRow.clone();
        return (m, rows, x, probe) -> {
            NDList out = new NDList(arrays.length);
            Shape rs = rows.getShape();
            NDArray flat = rows.reshape(rs.get(0) * rs.get(1));
            for (NDArray a : arrays) {
                // get() makes its result in a's manager: attach it to the step before deriving anything from it
                NDArray g = a.get(flat);
                g.attach(m);
                out.add(g.reshape(rs.addAll(a.getShape().slice(1))));
            }
            return out;
        };
    }

    /**
     * Labels gathered from one array per student: student s reads row i of {@code perStudent[s]}.
     *
     * @param perStudent shape (R, n, C), living as long as the training
     * @return labels {@code [targets (R, B, C)]}
     */
    public static Labels perStudentRows(NDArray perStudent) {
        return (m, rows, x, probe) -> new NDList(gather(perStudent, rows));
    }

    /**
     * Each student's rows of an array held per student.
     *
     * @param perStudent shape (R, n, ...) (rank 3 or more)
     * @param rows the rows each student sees, (R, B) int64
     * @return shape (R, B, ...), attached to the rows' manager
     */
    public static NDArray gather(NDArray perStudent, NDArray rows) {
        Shape s = perStudent.getShape();
        Shape rs = rows.getShape();
        long[] idx = new long[s.dimension()];
        idx[0] = rs.get(0);
        idx[1] = rs.get(1);
        for (int a = 2; a < idx.length; a++) {
            idx[a] = s.get(a);
        }
        long[] expand = Arrays.copyOf(new long[] {rs.get(0), rs.get(1)}, s.dimension());
        Arrays.fill(expand, 2, expand.length, 1);
        NDArray g = perStudent.gather(rows.reshape(new Shape(expand)).broadcast(new Shape(idx)), 1);
        g.attach(rows.getManager());
        return g;
    }

    /**
     * Trains the R students of a stack.
     *
     * @param block the uninitialised stack
     * @param features the training rows, n of width D, shared by all students
     * @param labels each step's labels
     * @param loss the per-student loss (for example a registry loss); its labels are those of {@code labels} with the
     *     students folded into the batch axis
     * @param spec the engine settings (epochs, optimiser, seed, device, validation, ...)
     * @param batchSize rows per student per step (n or more for full-batch training)
     * @param validator scores the stack during training, or null
     * @param listeners told after every update (items = R x B)
     * @return the trained stack; the caller closes it
     */
    public static Model train(StackedMlp block, float[][] features, Labels labels, Loss loss, TrainingSpec spec,
            int batchSize, Validator validator, FitListener... listeners) {
        Model model = Model.newInstance("stacked-students", spec.device());
        try {
            fit(model, block, features, labels, loss, spec, batchSize, validator, listeners);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /**
     * Trains the R students of a stack in a model the caller holds, as {@link #train} does.
     *
     * @param model an empty model; it gets the block
     * @param block the uninitialised stack
     * @param features the training rows, shared by all students
     * @param labels each step's labels
     * @param loss the per-student loss
     * @param spec the engine settings
     * @param batchSize rows per student per step
     * @param validator scores the stack during training, or null
     * @param listeners told after every update
     * @return what the training did
     */
    public static FitResult fit(Model model, StackedMlp block, float[][] features, Labels labels, Loss loss,
            TrainingSpec spec, int batchSize, Validator validator, FitListener... listeners) {
        model.setBlock(block);
        try (Source source = new Source(features, labels, block, batchSize, spec.device())) {
            return TrainingEngine.fit(model, source, new PerStudent(loss, block.students()), spec, validator, listeners);
        }
    }

    /**
     * One student of a trained stack as a model of its own: an {@link io.distill4j.models.Mlp} of the stack's
     * widths and dropout holding student s's parameters (each Linear's weight is the transpose of the stack's
     * (in, out) slice), so that everything written for single students (evaluation, saving, parameter variance)
     * applies to it. Its outputs equal the stack's outputs of student s.
     *
     * @param stack a trained stack
     * @param student s, in [0, R)
     * @param name the new model's name
     * @return the student; the caller closes it
     */
    public static Model student(Model stack, int student, String name) {
        StackedMlp block = (StackedMlp) stack.getBlock();
        if (student < 0 || student >= block.students()) {
            throw new IllegalArgumentException("student must be in [0, " + block.students() + "), got " + student);
        }
        int[] widths = block.widths();
        Model m = Model.newInstance(name, stack.getNDManager().getDevice());
        try {
            ai.djl.nn.Block mlp = io.distill4j.models.Mlp.builder().setInputs(widths[0])
                    .setHidden(Arrays.copyOfRange(widths, 1, widths.length - 1)).setOutputs(widths[widths.length - 1])
                    .optDropout(block.dropout()).build();
            m.setBlock(mlp);
            mlp.initialize(m.getNDManager(), ai.djl.ndarray.types.DataType.FLOAT32, new Shape(1, widths[0]));
            int layer = 0;
            for (ai.djl.nn.Block child : mlp.getChildren().values()) {
                if (!(child instanceof ai.djl.nn.core.Linear)) {
                    continue;
                }
                try (NDManager tmp = stack.getNDManager().newSubManager()) {
                    // get() makes its result in the parameter's manager: attach before deriving anything from it
                    NDArray w = block.weight(layer).get(student);
                    w.attach(tmp);
                    NDArray b = block.bias(layer).get(student);
                    b.attach(tmp);
                    child.getParameters().get("weight").getArray().set(w.transpose().toFloatArray());
                    child.getParameters().get("bias").getArray().set(b.toFloatArray());
                }
                layer++;
            }
            if (layer != widths.length - 1) {
                throw new IllegalStateException("the MLP of widths " + Arrays.toString(widths) + " has " + layer
                        + " linear layers");
            }
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Runs every student on the same rows, in chunks of {@link #CHUNK}.
     *
     * @param model a trained stack
     * @param features n rows
     * @param dropoutActive whether dropout stays on (one MC-dropout pass)
     * @return raw outputs {@code [student][row][output]}
     */
    public static float[][][] predict(Model model, float[][] features, boolean dropoutActive) {
        StackedMlp block = (StackedMlp) model.getBlock();
        int r = block.students();
        int n = features.length;
        float[][][] res = new float[r][n][];
        for (int start = 0; start < n; start += CHUNK) {
            int end = Math.min(n, start + CHUNK);
            int rows = end - start;
            try (NDManager m = model.getNDManager().newSubManager()) {
                NDArray x = m.create(Rows.flatten(Arrays.copyOfRange(features, start, end)),
                        new Shape(1, rows, features[0].length)).repeat(0, r);
                NDArray out = Inference.forward(block, x, dropoutActive);
                int c = (int) out.getShape().get(2);
                float[] flat = out.toFloatArray();
                for (int s = 0; s < r; s++) {
                    for (int i = 0; i < rows; i++) {
                        res[s][start + i] = Arrays.copyOfRange(flat, (s * rows + i) * c, (s * rows + i + 1) * c);
                    }
                }
            }
        }
        return res;
    }

    /**
     * Every student's class probabilities: the softmax of {@link #predict} in double precision.
     *
     * @param model a trained stack
     * @param features the rows
     * @param dropoutActive whether dropout stays on
     * @return {@code [student][row][class]}
     */
    public static double[][][] probabilities(Model model, float[][] features, boolean dropoutActive) {
        float[][][] z = predict(model, features, dropoutActive);
        double[][][] p = new double[z.length][][];
        for (int s = 0; s < z.length; s++) {
            p[s] = new double[z[s].length][];
            for (int i = 0; i < z[s].length; i++) {
                p[s][i] = softmax(z[s][i]);
            }
        }
        return p;
    }

    private static double[] softmax(float[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v);
        }
        double[] p = new double[z.length];
        double sum = 0;
        for (int c = 0; c < z.length; c++) {
            p[c] = Math.exp(z[c] - max);
            sum += p[c];
        }
        for (int c = 0; c < z.length; c++) {
            p[c] /= sum;
        }
        return p;
    }

    /**
     * Each student's loss summed over students: the base loss evaluated on predictions (R, B, ...) and labels
     * (R, B, ...) with the students folded into the batch axis (R B, ...), times R. For a base loss that is a
     * mean over items this is sum_s (mean loss of student s), so each student's gradient is that of its own
     * mean loss.
     */
    public static final class PerStudent extends Loss {
        private final Loss base;
        private final int students;

        /**
         * Wraps a loss.
         *
         * @param base a loss that averages over the batch axis
         * @param students R
         */
        public PerStudent(Loss base, int students) {
            super(base.getName() + "-per-student");
            this.base = base;
            this.students = students;
        }

        @Override
        public NDArray evaluate(NDList labels, NDList predictions) {
            NDArray z = predictions.head();
            Shape s = z.getShape();
            if (s.dimension() < 3 || s.get(0) != students) {
                throw new IllegalArgumentException("stacked predictions must be (" + students + ", B, ...), got " + s);
            }
            NDList folded = new NDList(labels.size());
            for (NDArray l : labels) {
                Shape ls = l.getShape();
                if (ls.dimension() < 2 || ls.get(0) != students || ls.get(1) != s.get(1)) {
                    throw new IllegalArgumentException("stacked labels must be (" + students + ", " + s.get(1)
                            + ", ...), got " + ls);
                }
                folded.add(fold(l));
            }
            return Scalars.mul(base.evaluate(folded, new NDList(fold(z))), students);
        }

        private static NDArray fold(NDArray a) {
            Shape s = a.getShape();
            long[] dims = new long[s.dimension() - 1];
            dims[0] = s.get(0) * s.get(1);
            for (int i = 2; i < s.dimension(); i++) {
                dims[i - 1] = s.get(i);
            }
            return a.reshape(new Shape(dims));
        }
    }

    /**
     * The stacked students' micro-batches: inputs (R, B, D), each student in its own per-epoch order, labels
     * from a {@link Labels} function.
     */
    static final class Source implements BatchSource, AutoCloseable {
        private final NDManager manager;
        private final NDArray x;
        private final Labels labels;
        private final Probe probe;
        private final int n;
        private final int d;
        private final int r;
        private final int batch;
        private int cachedEpoch = -1;
        private long cachedSeed;
        private int[][] perms;

        Source(float[][] features, Labels labels, StackedMlp block, int batchSize, Device device) {
            if (batchSize <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
            }
            this.n = features.length;
            this.d = features[0].length;
            this.r = block.students();
            this.batch = Math.min(batchSize, n);
            this.labels = labels;
            this.probe = (in, passes) -> {
                if (passes <= 0) {
                    throw new IllegalArgumentException("passes must be positive, got " + passes);
                }
                NDList out = new NDList(passes);
                for (int s = 0; s < passes; s++) {
                    out.add(Inference.forward(block, in, true));
                }
                return NDArrays.stack(out, 0);
            };
            manager = NDManager.newBaseManager(device);
            x = manager.create(Rows.flatten(features), new Shape(n, d));
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
            NDArray flat = m.create(idx, new Shape((long) r * b));
            // get() makes its result in the source's manager: attach it to the step's manager before anything
            // else is derived from it, or every step's copy stays alive until the source closes
            NDArray xr = x.get(flat);
            xr.attach(m);
            NDArray inputs = xr.reshape(r, b, d);
            return new MicroBatch(new NDList(inputs), labels.labels(m, flat.reshape(r, b), inputs, probe), r * b);
        }

        /** @return the arrays the source itself holds (its rows, and nothing per step) */
        int heldArrays() {
            return ((ai.djl.ndarray.BaseNDManager) manager).getManagedArrays().size();
        }

        @Override
        public void close() {
            manager.close();
        }
    }
}

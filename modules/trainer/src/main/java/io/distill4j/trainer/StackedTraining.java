package io.distill4j.trainer;



import io.distill4j.data.Rows;
import io.distill4j.models.StackedMlp;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.distill4j.data.TabularData;
import io.distill4j.loss.Scalars;

/**
 * Trains the R students of a {@link StackedMlp} at once, each on its own targets and its own data order.
 *
 * <p>The objective is the sum over students of each student's mean loss, so every student's gradient is
 * its own; AdamW then updates each student as if it were trained alone.
 */
public final class StackedTraining {

    private StackedTraining() {
    }

    /** What each student minimises. */
    public enum Objective {
        /** Mean squared error (1/(B C)) sum (z - t)^2: regression targets. */
        MSE,
        /** Soft-target cross-entropy (1/B) sum_i - sum_c t_ic log softmax(z_i)_c: probability targets. */
        SOFT_CE
    }

    /**
     * Training settings.
     *
     * @param epochs passes over the data, positive
     * @param batchSize rows per student per step, positive (the row count itself for full-batch training)
     * @param learningRate AdamW's learning rate, positive
     * @param weightDecay AdamW's decoupled weight decay, non-negative
     * @param seed seeds initialisation, dropout and each student's data order
     * @param device the device
     * @param objective the loss
     */
    public record Settings(int epochs, int batchSize, float learningRate, float weightDecay, long seed, Device device,
            Objective objective) {
        /** Validates the settings. */
        public Settings {
            TrainingSpec.builder().setDevice(device).setSeed(seed).setEpochs(epochs).setBatchSize(batchSize).setLearningRate(learningRate)
                .optWeightDecay(weightDecay).optLogEvery(0).build();
            java.util.Objects.requireNonNull(objective, "objective");
        }
    }

    /** Supplies each step's targets for all students. */
    @FunctionalInterface
    public interface Targets {
        /**
         * Builds the targets of a step.
         *
         * @param manager the step's manager
         * @param rows the rows each student sees, shape (R, B), int64
         * @param inputs those rows' inputs, shape (R, B, D)
         * @param probe the students, for targets built from their own estimates
         * @return targets of shape (R, B, C)
         */
        NDArray targets(NDManager manager, NDArray rows, NDArray inputs, Probe probe);
    }

    /** Runs the students with dropout active and no gradient recording. */
    @FunctionalInterface
    public interface Probe {
        /**
         * Stochastic passes of every student.
         *
         * @param inputs shape (R, B, D)
         * @param passes the number of passes S
         * @return raw outputs, shape (S, R, B, C)
         */
        NDArray passes(NDArray inputs, int passes);
    }

    /** The summed per-student objective as a DJL loss: labels (R, B, C) targets, predictions (R, B, C) outputs. */
    static final class StackedLoss extends Loss {
        private final Objective objective;

        StackedLoss(Objective objective) {
            super("stacked-" + objective.name().toLowerCase(java.util.Locale.ROOT));
            this.objective = objective;
        }

        @Override
        public NDArray evaluate(NDList labels, NDList predictions) {
            NDArray t = labels.head();
            NDArray z = predictions.head();
            if (!t.getShape().equals(z.getShape())) {
                throw new IllegalArgumentException("targets have shape " + t.getShape() + ", outputs " + z.getShape());
            }
            // PyTorch's DJL mean takes one axis at a time: sum over (B, C) and divide.
            long b = z.getShape().get(1);
            long c = z.getShape().get(2);
            NDArray perStudent = objective == Objective.MSE ? Scalars.div(z.sub(t).square().sum(new int[] {1, 2}), (double) b * c)
                    : Scalars.div(z.logSoftmax(2).mul(t).sum(new int[] {1, 2}).neg(), b);
            return perStudent.sum();
        }
    }

    /**
     * Trains the stack.
     *
     * @param block the uninitialised stack
     * @param features the training rows, n of width D (shared by all students)
     * @param targets each step's targets
     * @param settings the settings
     * @return the trained model; the caller closes it
     */
    public static Model train(StackedMlp block, float[][] features, Targets targets, Settings settings) {
        int n = features.length;
        int d = features[0].length;
        int r = block.students();
        int batch = Math.min(settings.batchSize(), n);
        Engine.getInstance().setRandomSeed((int) settings.seed());
        Model model = Model.newInstance("stacked-students", settings.device());
        model.setBlock(block);
        DefaultTrainingConfig tc = new DefaultTrainingConfig(new StackedLoss(settings.objective()))
                .optOptimizer(Optimizer.adamW().optLearningRateTracker(Tracker.fixed(settings.learningRate()))
                        .optWeightDecays(settings.weightDecay()).build())
                .optDevices(new Device[] {settings.device()});
        try (Trainer trainer = model.newTrainer(tc)) {
            trainer.initialize(new Shape(r, batch, d));
            NDManager manager = trainer.getManager();
            NDArray all = manager.create(Rows.flatten(features), new Shape(n, d));
            Probe probe = (x, passes) -> {
                ParameterStore ps = new ParameterStore(x.getManager(), false);
                NDList out = new NDList(passes);
                for (int s = 0; s < passes; s++) {
                    out.add(block.forward(ps, new NDList(x), true).head());
                }
                return NDArrays.stack(out, 0);
            };
            Loss loss = tc.getLossFunction();
            long step = 0;
            for (int epoch = 0; epoch < settings.epochs(); epoch++) {
                // Full-batch training keeps the rows in order (the order cannot matter), so targets may keep
                // per-row state across steps; mini-batches get a per-student, per-epoch permutation.
                int[][] perms = new int[r][];
                for (int s = 0; s < r; s++) {
                    perms[s] = batch >= n ? identity(n) : TabularData.permutation(n, settings.seed() * 1_000_003L + s * 7_919L + epoch);
                }
                for (int start = 0; start < n; start += batch) {
                    int b = Math.min(batch, n - start);
                    long[] idx = new long[r * b];
                    for (int s = 0; s < r; s++) {
                        for (int i = 0; i < b; i++) {
                            idx[s * b + i] = perms[s][start + i];
                        }
                    }
                    try (NDManager sub = manager.newSubManager()) {
                        NDArray rows = sub.create(idx, new Shape(r, b));
                        NDArray x = all.get(rows);
                        x.attach(sub); // results of `all` land in the trainer's manager: keep them per step
                        NDArray t = targets.targets(sub, rows, x, probe);
                        float value;
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDArray l = loss.evaluate(new NDList(t), trainer.forward(new NDList(x)));
                            value = l.getFloat();
                            if (!Float.isFinite(value)) {
                                throw new IllegalStateException("stacked students: loss is " + value + " at epoch " + epoch
                                        + ", step " + (step + 1) + "; check the targets for NaN or infinities");
                            }
                            gc.backward(l);
                        }
                        trainer.step();
                        step++;
                    }
                }
            }
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    private static int[] identity(int n) {
        int[] id = new int[n];
        for (int i = 0; i < n; i++) {
            id[i] = i;
        }
        return id;
    }

    /**
     * Runs every student on the same rows.
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
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDArray x = m.create(Rows.flatten(features), new Shape(1, n, features[0].length)).repeat(0, r);
            NDArray out = block.forward(new ParameterStore(m, false), new NDList(x), dropoutActive).head();
            int c = (int) out.getShape().get(2);
            float[] flat = out.toFloatArray();
            float[][][] res = new float[r][n][c];
            for (int s = 0; s < r; s++) {
                for (int i = 0; i < n; i++) {
                    System.arraycopy(flat, (s * n + i) * c, res[s][i], 0, c);
                }
            }
            return res;
        }
    }
}

package io.distill4j.trainer;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.distill4j.data.TabularData;

/**
 * Trains a student block on feature rows with per-batch targets and a DJL loss, using AdamW.
 *
 * <p>The run is reproducible from {@link TrainConfig#seed()}: it seeds the engine (parameter
 * initialisation, dropout) and the per-epoch data order. Each step's arrays live in a sub-manager that is
 * closed after the step, so memory stays flat. A non-finite loss stops the run with an exception naming
 * the epoch and step.
 */
public final class StudentTrainer {

    private StudentTrainer() {
    }

    /**
     * Trains a block.
     *
     * @param name the model's name (for logs)
     * @param block the uninitialised student block, mapping (B, D) inputs to (B, C) outputs
     * @param features the training inputs, n rows of width D
     * @param targets supplies each batch's labels NDList
     * @param loss the loss, reading {@code targets}' labels and the block's outputs
     * @param config epochs, batch size, optimiser settings, seed and device
     * @param listener told after every step
     * @return the trained model, holding the block and its parameters; the caller closes it
     */
    public static Model train(String name, Block block, float[][] features, BatchTargets targets, Loss loss,
            TrainConfig config, StepListener listener) {
        int n = features.length;
        if (n == 0) {
            throw new IllegalArgumentException("features must hold at least one row");
        }
        int width = features[0].length;
        Engine.getInstance().setRandomSeed((int) config.seed());
        Model model = Model.newInstance(name, config.device());
        model.setBlock(block);
        DefaultTrainingConfig tc = new DefaultTrainingConfig(loss)
                .optOptimizer(Optimizer.adamW()
                        .optLearningRateTracker(Tracker.fixed(config.learningRate()))
                        .optWeightDecays(config.weightDecay())
                        .build())
                .optDevices(new ai.djl.Device[] {config.device()});
        try (Trainer trainer = model.newTrainer(tc)) {
            trainer.initialize(new Shape(config.batchSize(), width));
            NDManager manager = trainer.getManager();
            NDArray all = manager.create(Arrays2.flatten(features), new Shape(n, width));
            StudentProbe probe = (x, passes) -> mcDropout(block, x, passes);
            long step = 0;
            for (int epoch = 0; epoch < config.epochs(); epoch++) {
                int[] perm = TabularData.permutation(n, config.seed() * 1_000_003L + epoch);
                for (int start = 0; start < n; start += config.batchSize()) {
                    int[] rows = java.util.Arrays.copyOfRange(perm, start, Math.min(n, start + config.batchSize()));
                    try (NDManager sub = manager.newSubManager()) {
                        NDArray x = all.get(sub.create(rows));
                        NDList labels = targets.labels(sub, rows, x, probe);
                        float value;
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDList preds = trainer.forward(new NDList(x));
                            NDArray l = loss.evaluate(labels, preds);
                            value = l.getFloat();
                            if (!Float.isFinite(value)) {
                                throw new IllegalStateException(name + ": loss is " + value + " at epoch " + epoch
                                        + ", step " + (step + 1) + "; check the targets for NaN or infinities");
                            }
                            gc.backward(l);
                        }
                        trainer.step();
                        step++;
                        listener.onStep(epoch, step, rows.length, value);
                    }
                }
            }
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /**
     * Runs a block several times with dropout active, recording no gradients.
     *
     * @param block the block
     * @param x inputs, shape (B, D)
     * @param passes the number of passes, positive
     * @return softmax probabilities, shape (passes, B, C), in {@code x}'s manager
     */
    public static NDArray mcDropout(Block block, NDArray x, int passes) {
        if (passes <= 0) {
            throw new IllegalArgumentException("passes must be positive, got " + passes);
        }
        ParameterStore ps = new ParameterStore(x.getManager(), false);
        NDList out = new NDList(passes);
        for (int s = 0; s < passes; s++) {
            out.add(block.forward(ps, new NDList(x), true).head().softmax(1));
        }
        return NDArrays.stack(out, 0);
    }

    /**
     * Predicts class probabilities for rows of features, in inference mode (dropout off) or with dropout
     * active (one MC-dropout pass).
     *
     * @param model the trained model
     * @param features the rows
     * @param dropoutActive whether to keep dropout on
     * @return softmax probabilities, n rows of C
     */
    public static float[][] probabilities(Model model, float[][] features, boolean dropoutActive) {
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDArray x = m.create(Arrays2.flatten(features), new Shape(features.length, features[0].length));
            ParameterStore ps = new ParameterStore(m, false);
            NDArray p = model.getBlock().forward(ps, new NDList(x), dropoutActive).head().softmax(1);
            return Arrays2.unflatten(p.toFloatArray(), features.length);
        }
    }
}

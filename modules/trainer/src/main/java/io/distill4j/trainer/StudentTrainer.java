package io.distill4j.trainer;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;

/**
 * Trains a student block on feature rows with per-batch targets and a DJL loss: a convenience front of the
 * {@link TrainingEngine} for tabular data, plus inference helpers (probabilities, MC dropout).
 *
 * <p>The run is reproducible from {@link TrainConfig#seed()}: it seeds the parameter initialisation, the
 * per-epoch data order and each step's dropout masks. A non-finite loss stops the run with an exception
 * naming the epoch and step.
 */
public final class StudentTrainer {

    /** Rows per forward pass in {@link #probabilities}. */
    static final int INFERENCE_BATCH = 1024;

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
        return train(name, block, features, targets, loss, config.toSpec(), config.batchSize(), null, listener);
    }

    /**
     * Trains a block with every setting of the engine.
     *
     * @param name the model's name (for logs)
     * @param block the student block, mapping (B, D) inputs to (B, C) outputs
     * @param features the training inputs, n rows of width D
     * @param targets supplies each batch's labels NDList
     * @param loss the loss
     * @param spec the engine settings
     * @param batchSize rows per micro-batch
     * @param validator scores the model for early stopping, or null
     * @param listener told after every step
     * @return the trained model; the caller closes it
     */
    public static Model train(String name, Block block, float[][] features, BatchTargets targets, Loss loss,
            TrainingSpec spec, int batchSize, Validator validator, StepListener listener) {
        if (features.length == 0) {
            throw new IllegalArgumentException("features must hold at least one row");
        }
        Model model = Model.newInstance(name, spec.device());
        model.setBlock(block);
        try (TabularBatchSource source = new TabularBatchSource(features, targets, batchSize, spec.device())) {
            TrainingEngine.fit(model, source, loss, spec, validator, listener);
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
        return forward(model, features, dropoutActive, true);
    }

    /**
     * Runs the block on rows of features and returns its raw outputs (logits, or regression values).
     *
     * @param model the trained model
     * @param features the rows
     * @param dropoutActive whether to keep dropout on
     * @return the outputs, n rows of D
     */
    public static float[][] outputs(Model model, float[][] features, boolean dropoutActive) {
        return forward(model, features, dropoutActive, false);
    }

    private static float[][] forward(Model model, float[][] features, boolean dropoutActive, boolean softmax) {
        int n = features.length;
        if (n == 0) {
            throw new IllegalArgumentException("features must hold at least one row");
        }
        float[][] out = new float[n][];
        for (int start = 0; start < n; start += INFERENCE_BATCH) {
            int end = Math.min(n, start + INFERENCE_BATCH);
            try (NDManager m = model.getNDManager().newSubManager()) {
                float[][] rows = java.util.Arrays.copyOfRange(features, start, end);
                NDArray x = m.create(Arrays2.flatten(rows), new Shape(end - start, features[0].length));
                ParameterStore ps = new ParameterStore(m, false);
                NDArray y = model.getBlock().forward(ps, new NDList(x), dropoutActive).head();
                if (softmax) {
                    y = y.softmax(1);
                }
                float[][] part = Arrays2.unflatten(y.toFloatArray(), end - start);
                System.arraycopy(part, 0, out, start, end - start);
            }
        }
        return out;
    }
}

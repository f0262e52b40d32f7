package io.distill4j.trainer;


import io.distill4j.data.Rows;
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
 * {@link TrainingEngine} for tabular data (inference helpers live in {@code io.distill4j.models.Inference}).
 *
 * <p>The run is reproducible from {@link TrainingSpec#seed()}: it seeds the parameter initialisation, the
 * per-epoch data order and each step's dropout masks. A non-finite loss stops the run with an exception
 * naming the epoch and step.
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
     * @param spec epochs, batch size, optimiser settings, seed and device
     * @param listeners told of every update (see {@link FitListener})
     * @return the trained model, holding the block and its parameters; the caller closes it
     */
    public static Model train(String name, Block block, float[][] features, BatchTargets targets, Loss loss,
            TrainingSpec spec, FitListener... listeners) {
        return train(name, block, features, targets, loss, spec, null, listeners);
    }

    /**
     * Trains a block with every setting of the engine.
     *
     * @param name the model's name (for logs)
     * @param block the student block, mapping (B, D) inputs to (B, C) outputs
     * @param features the training inputs, n rows of width D
     * @param targets supplies each batch's labels NDList
     * @param loss the loss
     * @param spec the engine settings (its batch size is the micro-batch's rows)
     * @param validator scores the model for early stopping, or null
     * @param listeners told of every update (see {@link FitListener})
     * @return the trained model; the caller closes it
     */
    public static Model train(String name, Block block, float[][] features, BatchTargets targets, Loss loss,
            TrainingSpec spec, Validator validator, FitListener... listeners) {
        if (features.length == 0) {
            throw new IllegalArgumentException("features must hold at least one row");
        }
        Model model = Model.newInstance(name, spec.device());
        model.setBlock(block);
        try (TabularBatchSource source = new TabularBatchSource(features, targets, spec.batchSize(), spec.device())) {
            TrainingEngine.fit(model, source, loss, spec, validator, listeners);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }
}

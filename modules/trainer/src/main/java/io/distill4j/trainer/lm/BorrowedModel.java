package io.distill4j.trainer.lm;


import io.distill4j.models.lm.CausalLm;
import ai.djl.BaseModel;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import java.nio.file.Path;
import java.util.Map;

/**
 * A DJL {@link ai.djl.Model} view of a block whose parameters live in a manager the caller owns, so that the
 * {@link io.distill4j.trainer.TrainingEngine} can train a {@link CausalLm} that was created and initialised
 * outside a Model. Closing (or collecting) the view frees nothing: the caller's manager keeps the weights,
 * including those a resumed run loads.
 */
final class BorrowedModel extends BaseModel {

    /**
     * Wraps a block.
     *
     * @param name the model's name (shown in logs and the progress bar)
     * @param manager the manager that holds the block's parameters
     * @param block the initialised block
     */
    BorrowedModel(String name, NDManager manager, Block block) {
        super(name);
        this.manager = manager;
        this.block = block;
        this.dataType = DataType.FLOAT32;
    }

    @Override
    public void load(Path modelPath, String prefix, Map<String, ?> options) {
        throw new UnsupportedOperationException("a borrowed model is not loaded from files");
    }

    /** Leaves the caller's manager open. */
    @Override
    public void close() {
        // the parameters belong to the caller's manager
    }

    /** Does not close the caller's manager, as BaseModel's finaliser would. */
    @Override
    @SuppressWarnings({"deprecation", "removal"})
    protected void finalize() {
        // nothing to free
    }
}

package io.distill4j.trainer;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import io.distill4j.loss.Scalars;

/**
 * The optimisation steps of one model: forward, loss and backward of micro-batches, then one update
 * (global-norm clipping, AdamW, zeroed gradients). The {@link TrainingEngine} drives it; benchmarks call it
 * directly to time one training step.
 *
 * <p>The block must be initialised. Inputs and labels may live in any manager: each micro-batch attaches
 * them to a private sub-manager for the duration of the step (and returns them), so that every activation
 * is freed when the step ends. Not thread-safe; PyTorch allows one gradient collector at a time per JVM.
 */
public final class TrainingSession implements AutoCloseable {

    /** The fp16 loss scale at the start (2^16, as torch.amp.GradScaler). */
    public static final float INITIAL_LOSS_SCALE = 65536f;
    /** Finite fp16 updates after which the loss scale doubles. */
    public static final int SCALE_GROWTH_INTERVAL = 2000;

    private final Model model;
    private final Block block;
    private final Loss loss;
    private final TrainingSpec spec;
    private final AdamW optimizer;
    private final boolean half;
    private float lossScale;
    private int goodSteps;
    private int pendingMicroBatches;
    private double lastNorm = Double.NaN;
    private boolean measureGradNorm;

    /**
     * Opens a session.
     *
     * @param model the model; its block must be initialised
     * @param loss the loss, {@code evaluate(labels, predictions)} returning a scalar
     * @param spec optimiser, clipping and precision settings
     */
    public TrainingSession(Model model, Loss loss, TrainingSpec spec) {
        this.model = model;
        this.block = model.getBlock();
        this.loss = loss;
        this.spec = spec;
        if (!block.isInitialized()) {
            throw new IllegalArgumentException("the block of model '" + model.getName() + "' is not initialised");
        }
        for (Parameter p : block.getParameters().values()) {
            if (p.requiresGradient() && !p.getArray().hasGradient()) {
                p.getArray().setRequiresGradient(true);
            }
        }
        this.optimizer = new AdamW(model.getNDManager(), block.getParameters(), spec.weightDecay(), spec.noDecay(),
                spec.beta1(), spec.beta2(), spec.epsilon());
        this.half = spec.precision() == Precision.FP16;
        this.lossScale = half ? INITIAL_LOSS_SCALE : 1f;
    }

    /** @return the optimiser, whose state a checkpoint saves */
    public AdamW optimizer() {
        return optimizer;
    }

    /** @return the current fp16 loss scale (1 in fp32) */
    public float lossScale() {
        return lossScale;
    }

    /** @return the global gradient norm of the last update (unscaled, averaged), NaN when not computed */
    public double lastGradNorm() {
        return lastNorm;
    }

    /**
     * Measures the global gradient norm at every update, also without clipping (for tracking; clipping and fp16
     * measure it anyway). Measuring reads the gradients only: the updates are the same.
     *
     * @param measure whether to measure
     */
    void measureGradNorm(boolean measure) {
        this.measureGradNorm = measure;
    }

    /**
     * Restores the loss-scaler state from a checkpoint.
     *
     * @param scale the loss scale
     * @param good finite updates since the last change of scale
     */
    void restoreScaler(float scale, int good) {
        this.lossScale = scale;
        this.goodSteps = good;
    }

    /** @return finite updates since the loss scale last changed */
    int goodSteps() {
        return goodSteps;
    }

    /**
     * Runs forward, loss and backward on one micro-batch, adding its gradients to those already collected.
     *
     * @param inputs the block's inputs
     * @param labels the loss's labels
     * @param weight the factor of this micro-batch's loss in the update (1 / micro-batches per update)
     * @return the loss value (before weighting and loss scaling)
     * @throws IllegalStateException if the loss is not finite
     */
    public float forwardBackward(NDList inputs, NDList labels, float weight) {
        try (NDManager sub = model.getNDManager().newSubManager()) {
            sub.tempAttachAll(inputs, labels);
            ParameterStore ps = optimizer.trainingStore(sub, spec.precision());
            NDList in = half ? toHalf(inputs) : inputs;
            float value;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDList preds = block.forward(ps, in, true);
                if (half) {
                    preds = toFloat(sub, preds);
                }
                NDArray l = loss.evaluate(labels, preds);
                value = l.getFloat();
                if (!Float.isFinite(value)) {
                    throw new IllegalStateException("loss is " + value);
                }
                float factor = weight * lossScale;
                gc.backward(factor == 1f ? l : Scalars.mul(l, factor));
            }
            pendingMicroBatches++;
            return value;
        }
    }

    /**
     * Runs forward and loss without gradients and without dropout, to check that a batch fits the model.
     *
     * @param inputs the block's inputs
     * @param labels the loss's labels
     * @return the loss value
     */
    public float evaluate(NDList inputs, NDList labels) {
        try (NDManager sub = model.getNDManager().newSubManager()) {
            sub.tempAttachAll(inputs, labels);
            NDList preds = block.forward(new ParameterStore(sub, false), inputs, false);
            return loss.evaluate(labels, preds).getFloat();
        }
    }

    /**
     * Applies one optimiser update from the gradients collected since the last one, then zeroes them.
     *
     * @param learningRate the rate of this update
     * @return false if the update was skipped because fp16 gradients overflowed
     * @throws IllegalStateException if no micro-batch was collected, or fp32 gradients are not finite
     */
    public boolean update(float learningRate) {
        if (pendingMicroBatches == 0) {
            throw new IllegalStateException("update without a micro-batch since the last one");
        }
        pendingMicroBatches = 0;
        float unscale = half ? 1f / lossScale : 1f;
        float rescale = unscale;
        if (half || spec.maxGradNorm() > 0 || measureGradNorm) {
            // the only read-back of an update, and none in float32 without clipping
            lastNorm = optimizer.gradientNorm(unscale);
            if (!Double.isFinite(lastNorm)) {
                if (half) {
                    optimizer.discardGradients();
                    lossScale /= 2;
                    goodSteps = 0;
                    return false;
                }
                String where = nonFiniteGradients();
                optimizer.discardGradients();
                throw new IllegalStateException("gradient norm is " + lastNorm + where);
            }
            if (spec.maxGradNorm() > 0) {
                rescale = (float) (unscale * GradientClipping.coefficient(lastNorm, spec.maxGradNorm()));
            }
        }
        optimizer.update(learningRate, rescale);
        if (half && ++goodSteps >= SCALE_GROWTH_INTERVAL) {
            lossScale *= 2;
            goodSteps = 0;
        }
        return true;
    }

    /** ", non-finite in: a, b (first element index of each)" for the parameters whose gradient is not finite. */
    private String nonFiniteGradients() {
        List<String> bad = new ArrayList<>();
        List<String> names = optimizer.names();
        try (NDManager sub = model.getNDManager().newSubManager()) {
            List<NDArray> grads = optimizer.gradients(sub);
            for (int i = 0; i < grads.size(); i++) {
                float[] v = grads.get(i).toType(DataType.FLOAT32, false).toFloatArray();
                for (int j = 0; j < v.length; j++) {
                    if (!Float.isFinite(v[j])) {
                        bad.add(names.get(i) + " [" + j + " of " + v.length + ": " + v[j] + "]");
                        break;
                    }
                }
            }
        }
        return bad.isEmpty() ? "" : "; non-finite gradients in " + String.join(", ", bad);
    }

    private static NDList toHalf(NDList inputs) {
        NDList out = new NDList(inputs.size());
        for (NDArray a : inputs) {
            out.add(a.getDataType() == DataType.FLOAT32 ? a.toType(DataType.FLOAT16, false) : a);
        }
        return out;
    }

    /** Casts float16 outputs to float32 differentiably: adding a float32 zero of shape (1) promotes the type. */
    private static NDList toFloat(NDManager manager, NDList preds) {
        NDList out = new NDList(preds.size());
        NDArray zero = null;
        for (NDArray a : preds) {
            if (a.getDataType() == DataType.FLOAT16) {
                if (zero == null) {
                    zero = manager.zeros(new Shape(1), DataType.FLOAT32, a.getDevice());
                }
                out.add(a.add(zero));
            } else {
                out.add(a);
            }
        }
        return out;
    }

    /** Frees the optimiser state. */
    @Override
    public void close() {
        optimizer.close();
    }
}

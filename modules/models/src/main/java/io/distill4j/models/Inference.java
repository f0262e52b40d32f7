package io.distill4j.models;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import io.distill4j.data.Rows;
import io.distill4j.data.Sha256;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Running trained blocks without recording gradients: forward passes in inference mode or with dropout active
 * (MC dropout), class probabilities of feature rows, and a checksum of a block's weights. Used by teachers,
 * evaluators and targets that need a student's own estimate.
 */
public final class Inference {

    /** Rows per forward pass in {@link #probabilities} and {@link #outputs}. */
    public static final int BATCH = 1024;

    private Inference() {
    }

    /**
     * Runs a block once without recording gradients.
     *
     * @param block the block
     * @param x inputs
     * @param dropoutActive {@code true} keeps dropout active (one MC-dropout pass)
     * @return the block's first output, in {@code x}'s manager
     */
    public static NDArray forward(Block block, NDArray x, boolean dropoutActive) {
        ParameterStore ps = new ParameterStore(x.getManager(), false);
        return block.forward(ps, new NDList(x), dropoutActive).head();
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
        NDList out = new NDList(passes);
        for (int s = 0; s < passes; s++) {
            out.add(forward(block, x, true).softmax(1));
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
        return rows(model, features, dropoutActive, true);
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
        return rows(model, features, dropoutActive, false);
    }

    private static float[][] rows(Model model, float[][] features, boolean dropoutActive, boolean softmax) {
        int n = features.length;
        if (n == 0) {
            throw new IllegalArgumentException("features must hold at least one row");
        }
        float[][] out = new float[n][];
        for (int start = 0; start < n; start += BATCH) {
            int end = Math.min(n, start + BATCH);
            try (NDManager m = model.getNDManager().newSubManager()) {
                float[][] part = java.util.Arrays.copyOfRange(features, start, end);
                NDArray x = m.create(Rows.flatten(part), new Shape(end - start, features[0].length));
                NDArray y = forward(model.getBlock(), x, dropoutActive);
                if (softmax) {
                    y = y.softmax(1);
                }
                System.arraycopy(Rows.unflatten(y.toFloatArray(), end - start), 0, out, start, end - start);
            }
        }
        return out;
    }

    /**
     * Hashes a model's parameters (names, shapes and float32 values, in the block's order).
     *
     * @param model the model, initialised
     * @return the SHA-256, lower-case hex
     */
    public static String weightsSha256(Model model) {
        return weightsSha256(model.getBlock());
    }

    /**
     * Hashes a block's parameters (names, shapes and float32 values, in the block's order).
     *
     * @param block the block, initialised
     * @return the SHA-256, lower-case hex
     */
    public static String weightsSha256(Block block) {
        MessageDigest d = Sha256.newDigest();
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (!p.getValue().isInitialized()) {
                throw new IllegalArgumentException("parameter " + p.getKey()
                        + " is not initialised: train or load the model first");
            }
            NDArray a = p.getValue().getArray();
            d.update(p.getKey().getBytes(StandardCharsets.UTF_8));
            d.update(a.getShape().toString().getBytes(StandardCharsets.UTF_8));
            float[] v = a.getDataType() == DataType.FLOAT32 ? a.toFloatArray()
                    : a.toType(DataType.FLOAT32, false).toFloatArray();
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            d.update(b.array());
        }
        return HexFormat.of().formatHex(d.digest());
    }
}

package io.distill4j.teacher;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import io.distill4j.data.Sha256;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;

/** Helpers shared by the model-backed teachers: forward passes, weight checksums, seeds. */
final class Blocks {

    private Blocks() {
    }

    /**
     * Runs a block without recording gradients.
     *
     * @param block the block
     * @param x inputs
     * @param training {@code true} keeps dropout active (MC dropout)
     * @return the block's first output, in {@code x}'s manager
     */
    static NDArray forward(Block block, NDArray x, boolean training) {
        ParameterStore ps = new ParameterStore(x.getManager(), false);
        return block.forward(ps, new NDList(x), training).head();
    }

    /**
     * Hashes a model's parameters (names, shapes and float32 values, in the block's order).
     *
     * @param model the model, initialised
     * @return the SHA-256, lower-case hex
     */
    static String weightsSha256(Model model) {
        return weightsSha256(model.getBlock());
    }

    /**
     * Hashes a block's parameters (names, shapes and float32 values, in the block's order).
     *
     * @param block the block, initialised
     * @return the SHA-256, lower-case hex
     */
    static String weightsSha256(Block block) {
        MessageDigest d = Sha256.newDigest();
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (!p.getValue().isInitialized()) {
                throw new IllegalArgumentException("parameter " + p.getKey() + " is not initialised: train or load the model first");
            }
            NDArray a = p.getValue().getArray();
            d.update(p.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            d.update(a.getShape().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            float[] v = a.getDataType() == DataType.FLOAT32 ? a.toFloatArray() : a.toType(DataType.FLOAT32, false).toFloatArray();
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            d.update(b.array());
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /**
     * Mixes a seed with an index (SplitMix64 finaliser), so neighbouring batches get unrelated streams.
     *
     * @param seed the run's seed
     * @param index an item or batch index
     * @return a well-mixed 64-bit value
     */
    static long mix(long seed, long index) {
        long z = seed + 0x9E3779B97F4A7C15L * (index + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

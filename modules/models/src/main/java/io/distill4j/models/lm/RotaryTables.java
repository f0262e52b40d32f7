package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding tables (Su et al. 2021, "RoFormer"), laid out as Hugging Face Llama does.
 *
 * <p>inv_freq[i] = 1 / theta^(2i / head_dim) for i &lt; head_dim / 2; the angle of position p and column c is
 * p * inv_freq[c mod head_dim/2] (the two halves of a head share frequencies, matching {@code rotate_half});
 * the tables hold cos and sin of those angles, computed in float32 as {@code transformers} does.
 */
final class RotaryTables {
    private RotaryTables() {
    }

    /**
     * Builds the cosine (index 0) and sine (index 1) tables.
     *
     * @param manager where the constants live
     * @param positions number of positions
     * @param headDim head width (even)
     * @param theta the rotary base
     * @return two (positions, head_dim) float32 arrays
     */
    static NDArray[] build(NDManager manager, int positions, int headDim, double theta) {
        int half = headDim / 2;
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            invFreq[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
        float[] cos = new float[positions * headDim];
        float[] sin = new float[positions * headDim];
        for (int p = 0; p < positions; p++) {
            for (int c = 0; c < headDim; c++) {
                float angle = (float) p * invFreq[c % half];
                cos[p * headDim + c] = (float) Math.cos(angle);
                sin[p * headDim + c] = (float) Math.sin(angle);
            }
        }
        Shape s = new Shape(positions, headDim);
        return new NDArray[] {manager.create(cos, s), manager.create(sin, s)};
    }
}

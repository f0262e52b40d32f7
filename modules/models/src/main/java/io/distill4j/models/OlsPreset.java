package io.distill4j.models;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;

/**
 * A linear student fitted in closed form by ordinary least squares ({@code model_type: ols}), as Cui &amp; Pei's OLS
 * students are: the pipeline builds its targets over all training rows at once and solves the normal equations
 * ({@link LeastSquares}) instead of taking gradient steps; the fitted coefficients go into a DJL {@link Linear}
 * block, which is scored, saved and reloaded like any student.
 * <pre>
 * model_type: ols
 * inputs: 13         # 0 or absent: the data's feature count
 * outputs: 1         # 0 or absent: the width the loss asks for
 * intercept: true    # absent: true
 * </pre>
 * It fits regression targets with the {@code mse} loss (the objective least squares minimises).
 *
 * @param inputs input width, 0 to take the data's
 * @param outputs output width, 0 to take the loss's
 * @param intercept whether to fit an intercept (the block's bias); null means true
 */
public record OlsPreset(int inputs, int outputs, Boolean intercept) implements StudentPreset {

    /** Validates every field. */
    public OlsPreset {
        if (inputs < 0) {
            throw new IllegalArgumentException("inputs must be positive (or 0: from the data), got " + inputs);
        }
        if (outputs < 0) {
            throw new IllegalArgumentException("outputs must be positive (or 0: from the loss), got " + outputs);
        }
        intercept = intercept == null || intercept;
    }

    /** @return a preset that takes inputs and outputs from the data and the loss, with an intercept */
    public static OlsPreset withIntercept() {
        return new OlsPreset(0, 0, true);
    }

    @Override
    public String modelType() {
        return "ols";
    }

    @Override
    public Block build(int dataInputs, int lossOutputs) {
        OlsPreset c = complete(dataInputs, lossOutputs);
        return Linear.builder().setUnits(c.outputs()).optBias(c.intercept()).build();
    }

    @Override
    public OlsPreset complete(int dataInputs, int lossOutputs) {
        StudentPreset.checkShape(inputs, outputs, dataInputs, lossOutputs);
        return new OlsPreset(dataInputs, lossOutputs, intercept);
    }

    /**
     * Prepares the least-squares problem of training rows, shared by every student fitted on them.
     *
     * @param x the training rows
     * @return the problem, with this preset's intercept
     */
    public LeastSquares problem(float[][] x) {
        return LeastSquares.of(x, intercept);
    }

    /**
     * Writes fitted coefficients into an initialised block built by {@link #build}: the intercept row into the bias,
     * the others into the weight (outputs x inputs), cast to float.
     *
     * @param block the block, initialised
     * @param coefficients q x D, from {@link LeastSquares#coefficients}
     * @throws IllegalArgumentException if the shapes do not match the block's
     */
    public void setCoefficients(Block block, double[][] coefficients) {
        int off = intercept ? 1 : 0;
        int q = coefficients.length;
        int outs = coefficients[0].length;
        for (Parameter p : block.getParameters().values()) {
            NDArray a = p.getArray();
            float[] v;
            if (p.getType() == Parameter.Type.BIAS) {
                v = new float[outs];
                for (int d = 0; d < outs; d++) {
                    v[d] = (float) coefficients[0][d];
                }
            } else {
                int ins = q - off;
                v = new float[outs * ins];
                for (int d = 0; d < outs; d++) {
                    for (int j = 0; j < ins; j++) {
                        v[d * ins + j] = (float) coefficients[j + off][d];
                    }
                }
            }
            if (a.size() != v.length) {
                throw new IllegalArgumentException("parameter " + p.getName() + " holds " + a.size() + " values, the fit "
                        + v.length);
            }
            a.set(java.nio.FloatBuffer.wrap(v));
        }
    }

    @Override
    public String describe() {
        return "ols " + inputs + "-" + outputs + (intercept ? " with intercept" : " without intercept");
    }
}

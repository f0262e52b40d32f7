package io.distill4j.teacher;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.util.Pair;
import io.distill4j.models.Mlp;
import java.util.Random;


/** Small models with known weights for the teacher tests. */
final class TestModels {

    private TestModels() {
    }

    /**
     * A single Linear layer y = x W^T + b with the given weights.
     *
     * @param w (outputs, inputs)
     * @param b (outputs)
     * @return the model (the caller closes it)
     */
    static Model linear(float[][] w, float[] b) {
        SequentialBlock block = new SequentialBlock().add(Linear.builder().setUnits(w.length).build());
        Model m = Model.newInstance("linear", Device.cpu());
        m.setBlock(block);
        block.initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, w[0].length));
        float[] flat = new float[w.length * w[0].length];
        for (int i = 0; i < w.length; i++) {
            System.arraycopy(w[i], 0, flat, i * w[0].length, w[0].length);
        }
        block.getParameters().get("01Linear_weight").getArray().set(flat);
        block.getParameters().get("01Linear_bias").getArray().set(b);
        return m;
    }

    /**
     * An MLP with random (seeded) weights, initialised for the given input width.
     *
     * @param builder the architecture
     * @param inputs the input width
     * @param seed the initialisation seed
     * @return the model (the caller closes it)
     */
    static Model randomMlp(Mlp.Builder builder, int inputs, long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        Block block = builder.build();
        Model m = Model.newInstance("mlp", Device.cpu());
        m.setBlock(block);
        block.initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, inputs));
        // Xavier init leaves biases at zero; give them values so tests exercise the bias path.
        Random r = new Random(seed);
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getKey().endsWith("bias")) {
                long n = p.getValue().getArray().size();
                float[] v = new float[(int) n];
                for (int i = 0; i < n; i++) {
                    v[i] = (float) r.nextGaussian() * 0.3f;
                }
                p.getValue().getArray().set(v);
            }
        }
        return m;
    }

    /**
     * An MLP whose every parameter is set from {@code java.util.Random(seed)} (Gaussian x 0.3), so its weights are the
     * same on every platform and engine version (the engine's own initialiser is not).
     *
     * @param builder the architecture
     * @param inputs the input width
     * @param seed the weights' seed
     * @return the model (the caller closes it)
     */
    static Model fixedMlp(Mlp.Builder builder, int inputs, long seed) {
        Block block = builder.build();
        Model m = Model.newInstance("mlp", Device.cpu());
        m.setBlock(block);
        block.initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, inputs));
        Random r = new Random(seed);
        for (Pair<String, Parameter> p : block.getParameters()) {
            float[] v = new float[(int) p.getValue().getArray().size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian() * 0.3f;
            }
            p.getValue().getArray().set(v);
        }
        return m;
    }

    /**
     * Seeded standard-normal features.
     *
     * @param n rows
     * @param d columns
     * @param seed the seed
     * @return the matrix
     */
    static float[][] gaussian(int n, int d, long seed) {
        Random r = new Random(seed);
        float[][] x = new float[n][d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                row[j] = (float) r.nextGaussian();
            }
        }
        return x;
    }

    /** Plain double-precision forward of y = x W^T + b. */
    static double[] affine(float[][] w, float[] b, float[] x) {
        double[] y = new double[w.length];
        for (int c = 0; c < w.length; c++) {
            double s = b[c];
            for (int j = 0; j < x.length; j++) {
                s += (double) w[c][j] * x[j];
            }
            y[c] = s;
        }
        return y;
    }

    /** Plain double-precision softmax(z / t). */
    static double[] softmax(double[] z, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v / t);
        }
        double[] p = new double[z.length];
        double s = 0;
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] / t - max);
            s += p[i];
        }
        for (int i = 0; i < z.length; i++) {
            p[i] /= s;
        }
        return p;
    }

    /**
     * Plain double-precision forward of an inference-mode MLP (Linear, ReLU and Dropout children only).
     *
     * @param block the initialised sequential block
     * @param x one input row
     * @return the outputs
     */
    static double[] referenceForward(Block block, float[] x) {
        double[] h = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            h[i] = x[i];
        }
        for (Pair<String, Block> child : ((SequentialBlock) block).getChildren()) {
            Block c = child.getValue();
            if (c instanceof Linear) {
                float[] w = c.getParameters().get("weight").getArray().toFloatArray();
                float[] b = c.getParameters().get("bias").getArray().toFloatArray();
                int out = b.length;
                int in = h.length;
                double[] y = new double[out];
                for (int o = 0; o < out; o++) {
                    double s = b[o];
                    for (int j = 0; j < in; j++) {
                        s += w[o * in + j] * h[j];
                    }
                    y[o] = s;
                }
                h = y;
            } else if (child.getKey().contains("LambdaBlock") || child.getKey().toLowerCase().contains("relu")) {
                for (int i = 0; i < h.length; i++) {
                    h[i] = Math.max(0, h[i]);
                }
            } else if (!child.getKey().contains("Dropout")) {
                throw new IllegalArgumentException("no reference for child " + child.getKey());
            }
        }
        return h;
    }
}

package io.distill4j.trainer;


import io.distill4j.models.Mlp;
import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.Random;

/** Small data sets, models and helpers shared by the engine tests. */
final class EngineFixtures {
    private EngineFixtures() {
    }

    /** n rows of 8 features in [-1, 1]; the label is 1 when the first two features sum above 0. */
    static float[][] features(int n, long seed) {
        Random r = new Random(seed);
        float[][] x = new float[n][8];
        for (float[] row : x) {
            for (int j = 0; j < row.length; j++) {
                row[j] = r.nextFloat() * 2 - 1;
            }
        }
        return x;
    }

    static int[] labels(float[][] x) {
        int[] y = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i][0] + x[i][1] > 0 ? 1 : 0;
        }
        return y;
    }

    static BatchTargets oneHot(int[] labels, int classes) {
        return (m, rows, x, probe) -> {
            int[] y = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                y[i] = labels[rows[i]];
            }
            return new NDList(m.create(y).oneHot(classes).toType(DataType.FLOAT32, false));
        };
    }

    static Model mlp(String name, int hidden, float dropout) {
        Model m = Model.newInstance(name);
        m.setBlock(Mlp.builder().setInputs(8).setHidden(hidden).setOutputs(2).optDropout(dropout).build());
        return m;
    }

    /** Every parameter's values, concatenated in parameter order. */
    static float[] flat(Model m) {
        int n = 0;
        for (Parameter p : m.getBlock().getParameters().values()) {
            n += (int) p.getArray().size();
        }
        float[] out = new float[n];
        int at = 0;
        for (Parameter p : m.getBlock().getParameters().values()) {
            float[] v = p.getArray().toFloatArray();
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }
}

package io.distill4j.teacher;


import io.distill4j.data.Seeds;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A last-layer Laplace approximation of a softmax classifier (MacKay 1992; Daxberger et al. 2021, "Laplace
 * Redux"): a Gaussian posterior over the final Linear layer's weights and bias, centred at the trained
 * (MAP) values, with precision equal to the generalised Gauss-Newton (GGN) matrix of the summed softmax
 * cross-entropy plus an isotropic prior precision lambda.
 *
 * <p>With features phi_n (the output of every block before the last Linear, dropout off), the augmented
 * feature {@code u_n = [phi_n, 1]} and {@code Lambda_n = diag(p_n) - p_n p_n^T} for the MAP softmax
 * {@code p_n}, the GGN of the last-layer parameters {@code theta[c][h] = [W | b][c][h]} is
 * {@code sum_n (u_n u_n^T) (x) Lambda_n}. Two structures are offered:
 *
 * <ul>
 *   <li>{@link Structure#DIAGONAL}: the exact diagonal,
 *       {@code P[c][h] = sum_n p_nc (1 - p_nc) u_nh^2 + lambda};</li>
 *   <li>{@link Structure#KRON}: KFAC (Martens &amp; Grosse 2015; Ritter et al. 2018),
 *       {@code GGN ~ A (x) G} with {@code A = sum_n u_n u_n^T} and {@code G = (1/N) sum_n Lambda_n}; the prior
 *       is added exactly through the factors' eigendecompositions, {@code P = (Q_A (x) Q_G)(a_i g_c + lambda)
 *       (Q_A (x) Q_G)^T}, as laplace-torch's KronDecomposed does.</li>
 * </ul>
 *
 * <p>Posterior samples are {@code theta_MAP + P^{-1/2} z}, {@code z ~ N(0, I)}: for the diagonal
 * {@code z / sqrt(P)} elementwise; for KFAC {@code Q_G ((Z o S)) Q_A^T} with {@code S[c][i] = (a_i g_c +
 * lambda)^{-1/2}}.
 */
public final class LastLayerLaplace {

    /** The structure of the GGN approximation. */
    public enum Structure {
        /** The exact diagonal of the GGN. */
        DIAGONAL,
        /** The Kronecker-factored (KFAC) GGN. */
        KRON
    }

    private final SequentialBlock block;
    private final Structure structure;
    private final double priorPrecision;
    private final int classes;
    private final int hidden;
    /** MAP weights with the bias as last column: {@code [classes][hidden + 1]}. */
    private final double[][] map;
    private final double[][] diagonalPrecision;
    private final SymmetricEigen a;
    private final SymmetricEigen g;
    private final int trainingItems;

    private LastLayerLaplace(SequentialBlock block, Structure structure, double priorPrecision, double[][] map,
            double[][] diagonalPrecision, SymmetricEigen a, SymmetricEigen g, int trainingItems) {
        this.block = block;
        this.structure = structure;
        this.priorPrecision = priorPrecision;
        this.map = map;
        this.classes = map.length;
        this.hidden = map[0].length - 1;
        this.diagonalPrecision = diagonalPrecision;
        this.a = a;
        this.g = g;
        this.trainingItems = trainingItems;
    }

    /**
     * Fits the posterior at a trained classifier's weights.
     *
     * @param model a trained classifier whose block is a {@link SequentialBlock} ending in a {@link Linear}
     * @param trainX the training inputs the classifier was fitted on, n rows
     * @param structure diagonal or Kronecker-factored GGN
     * @param priorPrecision the isotropic prior precision lambda, positive
     * @return the fitted posterior
     */
    public static LastLayerLaplace fit(Model model, float[][] trainX, Structure structure, double priorPrecision) {
        Objects.requireNonNull(structure, "structure");
        if (!(priorPrecision > 0) || Double.isInfinite(priorPrecision)) {
            throw new IllegalArgumentException("priorPrecision must be positive and finite, got " + priorPrecision);
        }
        if (trainX.length == 0) {
            throw new IllegalArgumentException("trainX must hold at least one row");
        }
        SequentialBlock block = sequential(model.getBlock());
        Linear last = (Linear) block.getChildren().get(block.getChildren().size() - 1).getValue();
        float[] w = last.getParameters().get("weight").getArray().toType(DataType.FLOAT32, false).toFloatArray();
        Shape ws = last.getParameters().get("weight").getArray().getShape();
        int c = (int) ws.get(0);
        int h = (int) ws.get(1);
        NDArray biasArray = last.getParameters().get("bias") == null ? null : last.getParameters().get("bias").getArray();
        float[] bias = biasArray == null ? new float[c] : biasArray.toType(DataType.FLOAT32, false).toFloatArray();
        double[][] map = new double[c][h + 1];
        for (int i = 0; i < c; i++) {
            for (int j = 0; j < h; j++) {
                map[i][j] = w[i * h + j];
            }
            map[i][h] = bias[i];
        }
        int n = trainX.length;
        int d = trainX[0].length;
        double[][] diag = structure == Structure.DIAGONAL ? new double[c][h + 1] : null;
        double[][] aSum = structure == Structure.KRON ? new double[h + 1][h + 1] : null;
        double[][] gSum = structure == Structure.KRON ? new double[c][c] : null;
        double[] u = new double[h + 1];
        double[] p = new double[c];
        int batch = 1024;
        try (NDManager m = NDManager.newBaseManager(model.getNDManager().getDevice())) {
            for (int start = 0; start < n; start += batch) {
                int end = Math.min(n, start + batch);
                if (trainX[start].length != d) {
                    throw new IllegalArgumentException("trainX row " + start + " has width " + trainX[start].length
                            + ", row 0 has " + d);
                }
                float[] flat = io.distill4j.data.Rows.flatten(trainX, start, end, new float[(end - start) * d]);
                float[] phi;
                try (NDManager sub = m.newSubManager()) {
                    NDArray x = sub.create(FloatBuffer.wrap(flat), new Shape(end - start, d));
                    NDArray f = features(block, x);
                    if (f.getShape().get(1) != h) {
                        throw new IllegalStateException("features have width " + f.getShape().get(1) + ", the last layer expects " + h);
                    }
                    phi = f.toType(DataType.FLOAT32, false).toFloatArray();
                }
                for (int i = 0; i < end - start; i++) {
                    for (int j = 0; j < h; j++) {
                        u[j] = phi[i * h + j];
                    }
                    u[h] = 1;
                    softmax(map, u, p);
                    if (diag != null) {
                        for (int cc = 0; cc < c; cc++) {
                            double lam = p[cc] * (1 - p[cc]);
                            for (int j = 0; j <= h; j++) {
                                diag[cc][j] += lam * u[j] * u[j];
                            }
                        }
                    } else {
                        for (int j = 0; j <= h; j++) {
                            double uj = u[j];
                            for (int l = 0; l <= j; l++) {
                                aSum[j][l] += uj * u[l];
                            }
                        }
                        for (int cc = 0; cc < c; cc++) {
                            gSum[cc][cc] += p[cc];
                            for (int e = 0; e < c; e++) {
                                gSum[cc][e] -= p[cc] * p[e];
                            }
                        }
                    }
                }
            }
        }
        if (diag != null) {
            for (double[] row : diag) {
                for (int j = 0; j < row.length; j++) {
                    row[j] += priorPrecision;
                }
            }
            return new LastLayerLaplace(block, structure, priorPrecision, map, diag, null, null, n);
        }
        for (int j = 0; j <= h; j++) {
            for (int l = 0; l < j; l++) {
                aSum[l][j] = aSum[j][l];
            }
        }
        for (double[] row : gSum) {
            for (int e = 0; e < c; e++) {
                row[e] /= n;
            }
        }
        return new LastLayerLaplace(block, structure, priorPrecision, map, null, SymmetricEigen.of(aSum),
                SymmetricEigen.of(gSum), n);
    }

    private static SequentialBlock sequential(Block block) {
        if (!(block instanceof SequentialBlock s) || s.getChildren().isEmpty()
                || !(s.getChildren().get(s.getChildren().size() - 1).getValue() instanceof Linear)) {
            throw new IllegalArgumentException("last-layer Laplace needs a SequentialBlock whose last child is a Linear, got "
                    + block.getClass().getSimpleName());
        }
        return s;
    }

    private static void softmax(double[][] map, double[] u, double[] p) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < map.length; c++) {
            double z = 0;
            for (int j = 0; j < u.length; j++) {
                z += map[c][j] * u[j];
            }
            p[c] = z;
            max = Math.max(max, z);
        }
        double sum = 0;
        for (int c = 0; c < map.length; c++) {
            p[c] = Math.exp(p[c] - max);
            sum += p[c];
        }
        for (int c = 0; c < map.length; c++) {
            p[c] /= sum;
        }
    }

    /**
     * Runs every block before the last Linear in inference mode.
     *
     * @param x inputs (B, D)
     * @return the last layer's input features (B, H), in {@code x}'s manager
     */
    public NDArray features(NDArray x) {
        return features(block, x);
    }

    private static NDArray features(SequentialBlock block, NDArray x) {
        ParameterStore ps = new ParameterStore(x.getManager(), false);
        NDList list = new NDList(x);
        List<Block> children = block.getChildren().values();
        for (int i = 0; i < children.size() - 1; i++) {
            list = children.get(i).forward(ps, list, false);
        }
        return list.head();
    }

    /**
     * Draws last-layer weights from the posterior.
     *
     * @param seed the seed; draw j uses a generator seeded with the seed and j alone
     * @param count the number of draws, positive
     * @return {@code [draw][class][hidden + 1]}: weights with the bias in the last column
     */
    public double[][][] sample(long seed, int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("count must be positive, got " + count);
        }
        double[][][] out = new double[count][][];
        for (int s = 0; s < count; s++) {
            SplittableRandom r = new SplittableRandom(Seeds.mix(seed, s));
            double[][] z = new double[classes][hidden + 1];
            for (int c = 0; c < classes; c++) {
                for (int j = 0; j <= hidden; j++) {
                    z[c][j] = r.nextGaussian();
                }
            }
            double[][] theta = new double[classes][hidden + 1];
            if (structure == Structure.DIAGONAL) {
                for (int c = 0; c < classes; c++) {
                    for (int j = 0; j <= hidden; j++) {
                        theta[c][j] = map[c][j] + z[c][j] / Math.sqrt(diagonalPrecision[c][j]);
                    }
                }
            } else {
                // delta = Q_G (Z o S) Q_A^T, S[c][i] = (a_i g_c + lambda)^{-1/2}
                double[][] zs = new double[classes][hidden + 1];
                for (int c = 0; c < classes; c++) {
                    for (int i = 0; i <= hidden; i++) {
                        double eig = Math.max(0, a.values[i]) * Math.max(0, g.values[c]) + priorPrecision;
                        zs[c][i] = z[c][i] / Math.sqrt(eig);
                    }
                }
                double[][] left = new double[classes][hidden + 1];
                for (int c = 0; c < classes; c++) {
                    for (int e = 0; e < classes; e++) {
                        double q = g.vectors[c][e];
                        for (int i = 0; i <= hidden; i++) {
                            left[c][i] += q * zs[e][i];
                        }
                    }
                }
                for (int c = 0; c < classes; c++) {
                    for (int j = 0; j <= hidden; j++) {
                        double v = 0;
                        for (int i = 0; i <= hidden; i++) {
                            v += left[c][i] * a.vectors[j][i];
                        }
                        theta[c][j] = map[c][j] + v;
                    }
                }
            }
            out[s] = theta;
        }
        return out;
    }

    /** @return the GGN structure */
    public Structure structure() {
        return structure;
    }

    /** @return the prior precision lambda */
    public double priorPrecision() {
        return priorPrecision;
    }

    /** @return the number of classes C */
    public int classes() {
        return classes;
    }

    /** @return the width H of the last layer's input features */
    public int hidden() {
        return hidden;
    }

    /** @return the number of training inputs the posterior was fitted on */
    public int trainingItems() {
        return trainingItems;
    }

    /** @return the MAP weights, {@code [class][hidden + 1]} with the bias last */
    public double[][] mapWeights() {
        return deepCopy(map);
    }

    /**
     * The diagonal posterior precision (GGN diagonal plus lambda).
     *
     * @return {@code [class][hidden + 1]}
     * @throws IllegalStateException for a KFAC posterior
     */
    public double[][] diagonalPrecision() {
        if (diagonalPrecision == null) {
            throw new IllegalStateException("a " + structure + " posterior has no diagonal precision");
        }
        return deepCopy(diagonalPrecision);
    }

    /**
     * The dense posterior precision {@code A (x) G + lambda I} of a KFAC posterior, indexed by
     * {@code h * C + c} (for tests and small layers).
     *
     * @return the (C (H + 1))^2 matrix
     * @throws IllegalStateException for a diagonal posterior
     */
    public double[][] kronPrecision() {
        if (a == null) {
            throw new IllegalStateException("a " + structure + " posterior has no Kronecker factors");
        }
        double[][] af = reconstruct(a);
        double[][] gf = reconstruct(g);
        int n = (hidden + 1) * classes;
        double[][] out = new double[n][n];
        for (int h1 = 0; h1 <= hidden; h1++) {
            for (int c1 = 0; c1 < classes; c1++) {
                for (int h2 = 0; h2 <= hidden; h2++) {
                    for (int c2 = 0; c2 < classes; c2++) {
                        out[h1 * classes + c1][h2 * classes + c2] = af[h1][h2] * gf[c1][c2]
                                + (h1 == h2 && c1 == c2 ? priorPrecision : 0);
                    }
                }
            }
        }
        return out;
    }

    private static double[][] reconstruct(SymmetricEigen e) {
        int n = e.values.length;
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int l = 0; l < n; l++) {
                    v += e.vectors[i][l] * Math.max(0, e.values[l]) * e.vectors[j][l];
                }
                m[i][j] = v;
            }
        }
        return m;
    }

    private static double[][] deepCopy(double[][] m) {
        double[][] c = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = m[i].clone();
        }
        return c;
    }
}

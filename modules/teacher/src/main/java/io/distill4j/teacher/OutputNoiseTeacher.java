package io.distill4j.teacher;



import io.distill4j.data.Seeds;
import io.distill4j.models.Inference;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A regression teacher with additive Gaussian output noise, the setting of Cui &amp; Pei 2026 ("How is
 * uncertainty propagated in knowledge distillation?"): sample j of input i is
 * {@code y_ij = mu_T(x_i) + eps_ij}, {@code eps_ij ~ N(0, sigma_d^2)} independently per output d, with
 * {@code sigma_d^2 = a * Var(y_train[:, d])} (population variance, ddof 0) for a chosen fraction a, or a
 * variance given directly.
 *
 * <p>{@code mu_T} is the mean model's inference-mode output. The noise of item i is drawn from a
 * generator seeded with the seed and i alone, so samples do not depend on batching or resumption.
 */
public final class OutputNoiseTeacher implements Teacher {

    private final Model mean;
    private final int k;
    private final double[] variance;
    private final float[] std;
    private final double relative;
    private final long seed;
    private final String description;
    private final String weightsSha256;

    private OutputNoiseTeacher(Model mean, int k, double[] variance, double relative, long seed, String description) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (variance.length == 0) {
            throw new IllegalArgumentException("variance must hold one value per output, got none");
        }
        this.std = new float[variance.length];
        for (int d = 0; d < variance.length; d++) {
            if (!(variance[d] >= 0) || Double.isInfinite(variance[d])) {
                throw new IllegalArgumentException("noise variance of output " + d + " must be finite and >= 0, got "
                        + variance[d]);
            }
            std[d] = (float) Math.sqrt(variance[d]);
        }
        this.mean = Objects.requireNonNull(mean, "mean");
        this.k = k;
        this.variance = variance.clone();
        this.relative = relative;
        this.seed = seed;
        this.description = Objects.requireNonNull(description, "description");
        this.weightsSha256 = Inference.weightsSha256(mean);
    }

    /**
     * Noise variance {@code a * Var(y_train)} per output, as in Cui &amp; Pei.
     *
     * @param mean the trained mean model mu_T, mapping (B, D) to (B, outputs)
     * @param k samples per input, positive
     * @param a the noise level relative to the targets' variance (the paper uses 0.01, 0.1, 0.5, 1.0), >= 0
     * @param yTrain the training targets, n rows of one value per output
     * @param seed the noise seed
     * @param description the mean model's architecture, for the provenance
     * @return the teacher
     */
    public static OutputNoiseTeacher relative(Model mean, int k, double a, float[][] yTrain, long seed, String description) {
        if (!(a >= 0) || Double.isInfinite(a)) {
            throw new IllegalArgumentException("a must be finite and >= 0, got " + a);
        }
        double[] var = populationVariance(yTrain);
        for (int d = 0; d < var.length; d++) {
            var[d] *= a;
        }
        return new OutputNoiseTeacher(mean, k, var, a, seed, description);
    }

    /**
     * Noise of a given variance per output.
     *
     * @param mean the trained mean model mu_T, mapping (B, D) to (B, outputs)
     * @param k samples per input, positive
     * @param variance sigma_d^2 per output, each >= 0
     * @param seed the noise seed
     * @param description the mean model's architecture, for the provenance
     * @return the teacher
     */
    public static OutputNoiseTeacher absolute(Model mean, int k, double[] variance, long seed, String description) {
        return new OutputNoiseTeacher(mean, k, variance, Double.NaN, seed, description);
    }

    /**
     * The population variance (ddof 0) of each column.
     *
     * @param y n rows of equal width, n positive
     * @return the variance per column
     */
    public static double[] populationVariance(float[][] y) {
        if (y.length == 0) {
            throw new IllegalArgumentException("yTrain must hold at least one row");
        }
        int w = y[0].length;
        double[] mu = new double[w];
        for (int i = 0; i < y.length; i++) {
            if (y[i].length != w) {
                throw new IllegalArgumentException("yTrain row " + i + " has width " + y[i].length + ", row 0 has " + w);
            }
            for (int d = 0; d < w; d++) {
                mu[d] += y[i][d];
            }
        }
        double[] var = new double[w];
        for (int d = 0; d < w; d++) {
            mu[d] /= y.length;
        }
        for (float[] row : y) {
            for (int d = 0; d < w; d++) {
                double e = row[d] - mu[d];
                var[d] += e * e;
            }
        }
        for (int d = 0; d < w; d++) {
            var[d] /= y.length;
        }
        return var;
    }

    /** @return the noise variance per output */
    public double[] noiseVariance() {
        return variance.clone();
    }

    @Override
    public TeacherOutput output() {
        return TeacherOutput.values();
    }

    @Override
    public int k() {
        return k;
    }

    @Override
    public int width() {
        return variance.length;
    }

    @Override
    public Device device() {
        return mean.getNDManager().getDevice();
    }

    @Override
    public Map<String, Object> provenance() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("name", "output-noise");
        p.put("architecture", description);
        p.put("k", k);
        p.put("seed", seed);
        if (!Double.isNaN(relative)) {
            p.put("a", relative);
        }
        p.put("noiseVariance", Arrays.stream(variance).boxed().toList());
        p.putAll(output().describe());
        p.put("weightsSha256", weightsSha256);
        p.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
        return p;
    }

    @Override
    public NDArray sample(NDManager manager, NDArray x, long firstItem) {
        NDArray mu = Inference.forward(mean.getBlock(), x, false);
        int b = (int) mu.getShape().get(0);
        int w = (int) mu.getShape().get(1);
        if (w != std.length) {
            throw new IllegalStateException("the mean model outputs " + w + " values, the noise has " + std.length);
        }
        float[] eps = new float[b * k * w];
        for (int i = 0; i < b; i++) {
            SplittableRandom r = new SplittableRandom(Seeds.mix(seed, firstItem + i));
            for (int j = 0; j < k; j++) {
                for (int d = 0; d < w; d++) {
                    eps[(i * k + j) * w + d] = (float) r.nextGaussian() * std[d];
                }
            }
        }
        return mu.expandDims(1).add(manager.create(eps, new Shape(b, k, w)));
    }
}

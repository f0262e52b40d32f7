package io.distill4j.teacher;


import io.distill4j.models.Inference;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A Bayesian classifier teacher from a {@link LastLayerLaplace} posterior: k last-layer weight draws are
 * taken once from the posterior (seeded), and sample j of every input is {@code softmax((phi(x) W_j^T +
 * b_j) / T)} (or the logits), so the k samples of an input are its predictive under k posterior draws
 * (the Monte-Carlo predictive of Daxberger et al. 2021; Morad et al. 2026 distil from such draws).
 *
 * <p>The draws are shared by all inputs and independent of batching, so a cache's samples do not depend
 * on batch size or resumption; one forward pass computes the features, one matrix product all k draws.
 */
public final class LaplaceTeacher implements Teacher {

    private final Model model;
    private final LastLayerLaplace posterior;
    private final int k;
    private final TeacherOutput output;
    private final long seed;
    private final String description;
    private final String weightsSha256;
    /** Draws as one (H + 1, k * C) matrix: column j * C + c holds draw j's weights of class c, bias last. */
    private final float[] drawMatrix;
    private NDArray draws;

    /**
     * Creates the teacher.
     *
     * @param model the trained classifier the posterior was fitted on
     * @param posterior the fitted last-layer posterior
     * @param k posterior draws (samples per input), positive
     * @param output probabilities with a temperature, or logits
     * @param seed seeds the posterior draws
     * @param description the architecture, recorded in the cache's provenance
     */
    public LaplaceTeacher(Model model, LastLayerLaplace posterior, int k, TeacherOutput output, long seed, String description) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (!output.task().equals("classification")) {
            throw new IllegalArgumentException("a Laplace teacher is a classifier: output must be probabilities or logits, got "
                    + output.signal());
        }
        this.model = Objects.requireNonNull(model, "model");
        this.posterior = Objects.requireNonNull(posterior, "posterior");
        this.k = k;
        this.output = output;
        this.seed = seed;
        this.description = Objects.requireNonNull(description, "description");
        this.weightsSha256 = Inference.weightsSha256(model);
        int c = posterior.classes();
        int h1 = posterior.hidden() + 1;
        double[][][] theta = posterior.sample(seed, k);
        drawMatrix = new float[h1 * k * c];
        for (int j = 0; j < k; j++) {
            for (int cc = 0; cc < c; cc++) {
                for (int h = 0; h < h1; h++) {
                    drawMatrix[h * k * c + j * c + cc] = (float) theta[j][cc][h];
                }
            }
        }
    }

    /**
     * The posterior draws this teacher uses.
     *
     * @return {@code [draw][class][hidden + 1]}, the bias in the last column
     */
    public double[][][] draws() {
        return posterior.sample(seed, k);
    }

    @Override
    public TeacherOutput output() {
        return output;
    }

    @Override
    public int k() {
        return k;
    }

    @Override
    public int width() {
        return posterior.classes();
    }

    @Override
    public Device device() {
        return model.getNDManager().getDevice();
    }

    @Override
    public Map<String, Object> provenance() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("name", "last-layer-laplace");
        p.put("architecture", description);
        p.put("k", k);
        p.put("seed", seed);
        p.put("hessian", posterior.structure() == LastLayerLaplace.Structure.DIAGONAL ? "diagonal-ggn" : "kfac-ggn");
        p.put("priorPrecision", posterior.priorPrecision());
        p.put("trainingItems", posterior.trainingItems());
        p.putAll(output.describe());
        p.put("weightsSha256", weightsSha256);
        p.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
        return p;
    }

    @Override
    public synchronized NDArray sample(NDManager manager, NDArray x, long firstItem) {
        int c = posterior.classes();
        int h1 = posterior.hidden() + 1;
        if (draws == null) {
            draws = model.getNDManager().create(drawMatrix, new Shape(h1, (long) k * c));
        }
        NDArray phi = posterior.features(x);
        long b = phi.getShape().get(0);
        NDArray u = phi.concat(manager.ones(new Shape(b, 1)), 1);
        NDArray logits = u.matMul(draws).reshape(b, k, c);
        return output.apply(logits);
    }
}

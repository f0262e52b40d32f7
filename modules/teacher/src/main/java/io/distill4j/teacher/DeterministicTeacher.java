package io.distill4j.teacher;


import io.distill4j.models.Inference;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A deterministic teacher: one inference-mode forward pass (dropout off) per input, mapped by its
 * {@link TeacherOutput} (for classification usually {@code softmax(z / T)} with Hinton's temperature T), written
 * as k identical samples (k is normally 1; a larger k lets a deterministic baseline share a cache layout
 * with stochastic teachers).
 */
public final class DeterministicTeacher implements Teacher {

    private final Model model;
    private final int k;
    private final int width;
    private final TeacherOutput output;
    private final String description;
    private final String weightsSha256;

    /**
     * Creates the teacher.
     *
     * @param model a trained model mapping (B, D) to (B, width)
     * @param k copies per input, positive
     * @param width the model's output width, positive
     * @param output how raw outputs become samples (temperature included)
     * @param description the architecture, recorded in the cache's provenance
     */
    public DeterministicTeacher(Model model, int k, int width, TeacherOutput output, String description) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (width <= 0) {
            throw new IllegalArgumentException("width must be positive, got " + width);
        }
        this.model = Objects.requireNonNull(model, "model");
        this.k = k;
        this.width = width;
        this.output = Objects.requireNonNull(output, "output");
        this.description = Objects.requireNonNull(description, "description");
        this.weightsSha256 = Inference.weightsSha256(model);
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
        return width;
    }

    @Override
    public Device device() {
        return model.getNDManager().getDevice();
    }

    @Override
    public Map<String, Object> provenance() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("name", "deterministic");
        p.put("architecture", description);
        p.put("k", k);
        p.putAll(output.describe());
        p.put("weightsSha256", weightsSha256);
        p.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
        return p;
    }

    @Override
    public NDArray sample(NDManager manager, NDArray x, long firstItem) {
        NDArray y = output.apply(Inference.forward(model.getBlock(), x, false));
        long b = y.getShape().get(0);
        long w = y.getShape().get(1);
        return y.expandDims(1).broadcast(b, k, w);
    }
}

package io.distill4j.teacher;


import io.distill4j.models.Inference;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A deep ensemble (Lakshminarayanan et al. 2017): M independently trained checkpoints of one architecture;
 * sample j of an input is member j's inference-mode output (dropout off), so k = M.
 */
public final class DeepEnsembleTeacher implements Teacher {

    private final List<Model> members;
    private final int width;
    private final TeacherOutput output;
    private final String description;
    private final List<String> weightsSha256;

    /**
     * Creates the ensemble.
     *
     * @param members the trained members, at least one, all on one device, each mapping (B, D) to (B, width)
     * @param width the members' output width, positive
     * @param output how raw outputs become samples
     * @param description the members' architecture, recorded in the cache's provenance
     */
    public DeepEnsembleTeacher(List<Model> members, int width, TeacherOutput output, String description) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("an ensemble needs at least one member");
        }
        if (width <= 0) {
            throw new IllegalArgumentException("width must be positive, got " + width);
        }
        Device device = members.get(0).getNDManager().getDevice();
        List<String> sums = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            Model m = Objects.requireNonNull(members.get(i), "member " + i);
            if (!m.getNDManager().getDevice().equals(device)) {
                throw new IllegalArgumentException("member " + i + " is on " + m.getNDManager().getDevice()
                        + ", member 0 on " + device + ": put all members on one device");
            }
            sums.add(Inference.weightsSha256(m));
        }
        this.members = List.copyOf(members);
        this.width = width;
        this.output = Objects.requireNonNull(output, "output");
        this.description = Objects.requireNonNull(description, "description");
        this.weightsSha256 = List.copyOf(sums);
    }

    @Override
    public TeacherOutput output() {
        return output;
    }

    @Override
    public int k() {
        return members.size();
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public Device device() {
        return members.get(0).getNDManager().getDevice();
    }

    @Override
    public Map<String, Object> provenance() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("name", "deep-ensemble");
        p.put("architecture", description);
        p.put("k", members.size());
        p.put("members", members.size());
        p.putAll(output.describe());
        p.put("weightsSha256", weightsSha256);
        p.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
        return p;
    }

    @Override
    public NDArray sample(NDManager manager, NDArray x, long firstItem) {
        NDList outs = new NDList(members.size());
        for (Model m : members) {
            outs.add(output.apply(Inference.forward(m.getBlock(), x, false)));
        }
        return NDArrays.stack(outs, 1);
    }
}

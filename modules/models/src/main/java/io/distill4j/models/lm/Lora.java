package io.distill4j.models.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LoRA adapters on a frozen {@link CausalLm} (Hu et al. 2021): each targeted linear map computes
 * W x + b + s B A dropout(x), W and b frozen, only A and B trained.
 *
 * <p>{@link #attach} freezes every parameter of the model ({@code Parameter.freeze}, so that
 * {@code requiresGradient()} is false and the trainer's optimiser leaves them out) and adds adapters as child
 * blocks of the targeted maps; the model's forward pass, its KV-cache decoder and generation then include
 * them. {@link #namedParameters()} names the adapter parameters as peft's {@code adapter_model.safetensors}
 * does ({@code base_model.model.<module>.lora_A.weight}); {@link io.distill4j.models.lm.io.PeftAdapter} saves
 * and loads that format; {@link #merge} folds the adapters into a plain model. {@code HfFolder.save} of the
 * adapted model writes the base weights alone ({@link CausalLm#namedParameters()} holds no adapter); use
 * {@code PeftAdapter.mergeAndSave} for a folder with the adapters folded in.
 */
public final class Lora {
    /** The prefix peft puts before module names in adapter files. */
    public static final String PEFT_PREFIX = "base_model.model.";

    private final CausalLm model;
    private final LoraConfig config;
    private final List<String> targetModules;
    private final Map<String, LoraLayer> layers;
    private final Map<String, Parameter> named;

    private Lora(CausalLm model, LoraConfig config, List<String> targetModules, Map<String, LoraLayer> layers) {
        this.model = model;
        this.config = config;
        this.targetModules = targetModules;
        this.layers = Collections.unmodifiableMap(layers);
        Map<String, Parameter> n = new LinkedHashMap<>();
        for (Map.Entry<String, LoraLayer> e : layers.entrySet()) {
            n.put(PEFT_PREFIX + e.getKey() + ".lora_A.weight", e.getValue().a());
            n.put(PEFT_PREFIX + e.getKey() + ".lora_B.weight", e.getValue().b());
        }
        this.named = Collections.unmodifiableMap(n);
    }

    /**
     * Freezes a model and puts fresh adapters (A uniform on +-1/sqrt(in), B zero: the model's outputs are
     * unchanged) on the maps the config targets. Seed with {@code Engine.getInstance().setRandomSeed} first
     * for a reproducible draw of A.
     *
     * @param model an initialised model without adapters (e.g. from {@code HfFolder.load})
     * @param config the adapter settings
     * @return the adapters
     * @throws IllegalArgumentException if a target matches no map of this model
     * @throws IllegalStateException if the model is not initialised or already has adapters
     */
    public static Lora attach(CausalLm model, LoraConfig config) {
        Map<String, Dense> linears = model.linearModules();
        List<String> resolved = resolveTargets(model.config().family(), config.targets());
        Set<String> chosen = new LinkedHashSet<>();
        for (String t : resolved) {
            List<String> hits = matching(linears.keySet(), t);
            if (hits.isEmpty()) {
                throw new IllegalArgumentException("LoRA target module '" + t + "' matches no linear map of this "
                        + model.config().family().modelType() + " model (its maps end with "
                        + suffixes(linears.keySet()) + ")");
            }
            chosen.addAll(hits);
        }
        NDArray any = model.namedParameters().values().iterator().next().getArray();
        NDManager manager = any.getManager();
        DataType type = any.getDataType();
        for (Parameter p : model.getParameters().values()) {
            p.freeze(true);
        }
        Map<String, LoraLayer> layers = new LinkedHashMap<>();
        for (Map.Entry<String, Dense> e : linears.entrySet()) {
            if (!chosen.contains(e.getKey())) {
                continue;
            }
            Dense d = e.getValue();
            if (d.lora() != null) {
                throw new IllegalStateException("module " + e.getKey() + " already has a LoRA adapter");
            }
            LoraLayer l = new LoraLayer(d.in(), d.out(), config.rank(), config.scaling(), config.dropout());
            l.initialize(manager, type, new Shape(1, d.in()));
            d.attach(l);
            layers.put(e.getKey(), l);
        }
        return new Lora(model, config, resolved, layers);
    }

    /**
     * Expands short target names into peft module names for a family: {@code q}/{@code k}/{@code v} to
     * {@code q_proj}/{@code k_proj}/{@code v_proj} (Llama) or {@code c_attn} (GPT-2); {@code o} to
     * {@code o_proj} or {@code attn.c_proj}; {@code mlp} to {@code gate_proj, up_proj, down_proj} or
     * {@code c_fc, mlp.c_proj}; {@code all-linear} to all of these. Other names pass through unchanged.
     *
     * @param family the model family
     * @param targets targets as given
     * @return peft names, without duplicates, in the order given
     */
    public static List<String> resolveTargets(LmFamily family, List<String> targets) {
        boolean llama = family == LmFamily.LLAMA;
        Set<String> out = new LinkedHashSet<>();
        for (String t : targets) {
            switch (t) {
                case "q" -> out.add(llama ? "q_proj" : "c_attn");
                case "k" -> out.add(llama ? "k_proj" : "c_attn");
                case "v" -> out.add(llama ? "v_proj" : "c_attn");
                case "o" -> out.add(llama ? "o_proj" : "attn.c_proj");
                case "mlp" -> out.addAll(llama ? List.of("gate_proj", "up_proj", "down_proj")
                        : List.of("c_fc", "mlp.c_proj"));
                case "all-linear" -> out.addAll(llama
                        ? List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
                        : List.of("c_attn", "attn.c_proj", "c_fc", "mlp.c_proj"));
                default -> out.add(t);
            }
        }
        return List.copyOf(out);
    }

    private static List<String> matching(Set<String> modules, String target) {
        List<String> hits = new ArrayList<>();
        for (String m : modules) {
            if (m.equals(target) || m.endsWith("." + target)) {
                hits.add(m);
            }
        }
        return hits;
    }

    private static Set<String> suffixes(Set<String> modules) {
        Set<String> s = new LinkedHashSet<>();
        for (String m : modules) {
            String[] parts = m.split("\\.");
            s.add(parts[parts.length - 2] + "." + parts[parts.length - 1]);
        }
        return s;
    }

    /** @return the model the adapters sit on (its own parameters frozen) */
    public CausalLm model() {
        return model;
    }

    /** @return the settings */
    public LoraConfig config() {
        return config;
    }

    /** @return the targets as peft module names (what {@code adapter_config.json} lists) */
    public List<String> targetModules() {
        return targetModules;
    }

    /** @return the full names of the adapted modules, in model order */
    public Set<String> modules() {
        return layers.keySet();
    }

    /**
     * The adapter parameters under peft's names ({@code base_model.model.<module>.lora_A.weight}, shape
     * (r, in); {@code ...lora_B.weight}, shape (out, r)), in model order: the only trainable parameters of
     * the model and the whole content of a LoRA checkpoint.
     *
     * @return an unmodifiable ordered map
     */
    public Map<String, Parameter> namedParameters() {
        return named;
    }

    /** @return the number of adapter (trainable) values */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : named.values()) {
            n += p.getShape().size();
        }
        return n;
    }

    /**
     * A new plain model (no adapters, trainable) whose weights are the base weights plus the adapters'
     * updates, W + s B A: its logits equal the adapted model's in inference.
     *
     * @param manager the manager that will own the merged weights
     * @return the merged model
     */
    public CausalLm merge(NDManager manager) {
        CausalLm merged = new CausalLm(model.config());
        merged.initialize(manager);
        Map<String, Parameter> dst = merged.namedParameters();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            float[] v = e.getValue().getArray().toType(DataType.FLOAT32, false).toFloatArray();
            String name = e.getKey();
            if (name.endsWith(".weight")) {
                LoraLayer l = layers.get(name.substring(0, name.length() - ".weight".length()));
                if (l != null) {
                    float[] d = l.delta();
                    for (int i = 0; i < v.length; i++) {
                        v[i] += d[i];
                    }
                }
            }
            dst.get(name).getArray().set(v);
        }
        return merged;
    }

    @Override
    public String toString() {
        return "Lora(r=" + config.rank() + ", alpha=" + config.alpha() + ", targets=" + targetModules + ", modules="
                + layers.size() + ", parameters=" + parameterCount() + ")";
    }
}

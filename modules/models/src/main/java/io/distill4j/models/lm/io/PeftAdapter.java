package io.distill4j.models.lm.io;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.data.BadInputException;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.Lora;
import io.distill4j.models.lm.LoraConfig;
import io.distill4j.models.lm.LmTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads and writes LoRA adapters in Hugging Face peft's folder format: {@code adapter_config.json} and
 * {@code adapter_model.safetensors} with peft's tensor names
 * ({@code base_model.model.<module>.lora_A.weight}, (r, in); {@code ...lora_B.weight}, (out, r)); what
 * {@code PeftModel.from_pretrained(base, dir)} loads and {@code save_pretrained} writes.
 *
 * <p>peft's GPT-2 adapters (on {@code Conv1D}, with {@code fan_in_fan_out: true}) store A and B exactly as for
 * a linear map; only merging transposes, which {@link Lora#merge} does not need since distill4j keeps every
 * weight (out, in). Supported: plain LoRA with {@code bias: "none"}, optional rsLoRA; anything peft describes
 * that changes the arithmetic (DoRA, per-module ranks or alphas, layers_to_transform, other PEFT types,
 * adapter biases) is rejected naming the field.
 */
public final class PeftAdapter {
    /** File name of the adapter config. */
    public static final String CONFIG = "adapter_config.json";
    /** File name of the adapter weights. */
    public static final String WEIGHTS = "adapter_model.safetensors";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PeftAdapter() {
    }

    /**
     * Writes an adapter folder (each file to a temporary name, then renamed).
     *
     * @param lora the adapters
     * @param baseModel what {@code base_model_name_or_path} records (the base folder or hub name), or null
     * @param dir the folder, created if needed
     * @throws IOException if writing fails
     */
    public static void save(Lora lora, String baseModel, Path dir) throws IOException {
        Files.createDirectories(dir);
        LoraConfig c = lora.config();
        boolean gpt2 = lora.model().config().family() == io.distill4j.models.lm.LmFamily.GPT2;
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("peft_type", "LORA");
        json.put("task_type", "CAUSAL_LM");
        json.put("base_model_name_or_path", baseModel);
        json.put("r", c.rank());
        json.put("lora_alpha", c.alpha());
        json.put("lora_dropout", c.dropout());
        json.put("target_modules", lora.targetModules());
        json.put("bias", "none");
        json.put("fan_in_fan_out", gpt2);
        json.put("use_rslora", c.rslora());
        json.put("use_dora", false);
        json.put("init_lora_weights", true);
        json.put("inference_mode", true);
        json.put("modules_to_save", null);
        json.put("layers_to_transform", null);
        json.put("rank_pattern", Map.of());
        json.put("alpha_pattern", Map.of());
        json.put("revision", null);
        io.distill4j.data.AtomicFiles.write(dir.resolve(CONFIG), JSON.writeValueAsBytes(json));
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : lora.namedParameters().entrySet()) {
            var a = e.getValue().getArray();
            tensors.put(e.getKey(), Safetensors.Tensor.ofFloats(a.getShape().getShape(),
                    a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray()));
        }
        Safetensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
    }

    /**
     * Reads {@code adapter_config.json}.
     *
     * @param dir the adapter folder
     * @return the settings
     * @throws BadInputException naming the file, field and value at fault
     */
    public static LoraConfig readConfig(Path dir) {
        Path f = dir.resolve(CONFIG);
        Map<String, Object> json;
        try {
            json = JSON.readValue(f.toFile(), new TypeReference<Map<String, Object>>() {
            });
        } catch (java.io.FileNotFoundException | NoSuchFileException e) {
            throw new BadInputException(f + ": no such file (not a peft adapter folder?)", e);
        } catch (IOException e) {
            throw new BadInputException(f + ": not valid JSON: " + e.getMessage(), e);
        }
        expect(f, json, "peft_type", "LORA");
        expect(f, json, "bias", "none");
        for (String unsupported : List.of("use_dora", "use_qalora")) {
            if (Boolean.TRUE.equals(json.get(unsupported))) {
                throw new BadInputException(f + ": field " + unsupported + ": not supported, got 'true'");
            }
        }
        for (String empty : List.of("rank_pattern", "alpha_pattern")) {
            Object v = json.get(empty);
            if (v != null && !(v instanceof Map<?, ?> m && m.isEmpty())) {
                throw new BadInputException(f + ": field " + empty + ": per-module ranks and alphas are not supported,"
                        + " got '" + v + "'");
            }
        }
        for (String nul : List.of("layers_to_transform", "modules_to_save", "exclude_modules", "target_parameters",
                "trainable_token_indices", "layer_replication", "lora_bias", "use_bdlora")) {
            Object v = json.get(nul);
            if (v != null && !Boolean.FALSE.equals(v) && !(v instanceof List<?> l && l.isEmpty())
                    && !(v instanceof Map<?, ?> m && m.isEmpty())) {
                throw new BadInputException(f + ": field " + nul + ": not supported, got '" + v + "'");
            }
        }
        int r = number(f, json, "r").intValue();
        double alpha = json.containsKey("lora_alpha") ? number(f, json, "lora_alpha").doubleValue() : 8;
        double dropout = json.containsKey("lora_dropout") ? number(f, json, "lora_dropout").doubleValue() : 0;
        Object targets = json.get("target_modules");
        List<String> t = new ArrayList<>();
        if (targets instanceof List<?> list) {
            for (Object o : list) {
                t.add(String.valueOf(o));
            }
        } else if (targets instanceof String s) {
            if (!s.equals("all-linear")) {
                throw new BadInputException(f + ": field target_modules: a regular expression is not supported,"
                        + " list the module names, got '" + s + "'");
            }
            t.add(s);
        } else {
            throw new BadInputException(f + ": field target_modules: expected a list of module names, got '"
                    + targets + "'");
        }
        try {
            return new LoraConfig(r, alpha, dropout, t, Boolean.TRUE.equals(json.get("use_rslora")));
        } catch (IllegalArgumentException e) {
            throw new BadInputException(f + ": " + e.getMessage(), e);
        }
    }

    private static void expect(Path f, Map<String, Object> json, String field, String value) {
        Object v = json.get(field);
        if (v != null && !value.equals(v)) {
            throw new BadInputException(f + ": field " + field + ": only '" + value + "' is supported, got '" + v + "'");
        }
    }

    private static Number number(Path f, Map<String, Object> json, String field) {
        Object v = json.get(field);
        if (!(v instanceof Number n)) {
            throw new BadInputException(f + ": field " + field + ": expected a number, got '" + v + "'");
        }
        return n;
    }

    /**
     * Loads a peft adapter folder onto a model: freezes the model, attaches adapters as the config says and
     * copies the saved A and B in. Every tensor must match by name and shape.
     *
     * @param model an initialised model without adapters (the adapter's base)
     * @param dir the adapter folder
     * @return the adapters
     * @throws BadInputException naming the file, field or tensor at fault
     */
    public static Lora load(CausalLm model, Path dir) {
        LoraConfig config = readConfig(dir);
        Path w = dir.resolve(WEIGHTS);
        if (!Files.exists(w)) {
            throw new BadInputException(w + ": no such file (peft's pickle format adapter_model.bin is not read)");
        }
        Map<String, Safetensors.Tensor> tensors = Safetensors.read(w);
        Lora lora;
        try {
            lora = Lora.attach(model, config);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(dir.resolve(CONFIG) + ": field target_modules: " + e.getMessage(), e);
        }
        Map<String, Parameter> params = lora.namedParameters();
        Map<String, Safetensors.Tensor> byName = new LinkedHashMap<>();
        List<String> unexpected = new ArrayList<>();
        for (Map.Entry<String, Safetensors.Tensor> e : tensors.entrySet()) {
            // peft drops the adapter name on save; older files may keep '.default'
            String name = e.getKey().replace(".lora_A.default.weight", ".lora_A.weight")
                    .replace(".lora_B.default.weight", ".lora_B.weight");
            if (params.containsKey(name)) {
                byName.put(name, e.getValue());
            } else {
                unexpected.add(e.getKey());
            }
        }
        if (!unexpected.isEmpty()) {
            throw new BadInputException(w + ": tensors " + unexpected + " do not belong to the adapters that "
                    + CONFIG + " describes on this " + model.config().family().modelType() + " model");
        }
        Set<String> missing = new TreeSet<>(params.keySet());
        missing.removeAll(byName.keySet());
        if (!missing.isEmpty()) {
            throw new BadInputException(w + ": tensors " + missing + " are missing");
        }
        for (Map.Entry<String, Safetensors.Tensor> e : byName.entrySet()) {
            Parameter p = params.get(e.getKey());
            long[] expected = p.getShape().getShape();
            if (!Arrays.equals(expected, e.getValue().shape())) {
                throw new BadInputException(w + ": tensor '" + e.getKey() + "' has shape "
                        + Arrays.toString(e.getValue().shape()) + " but the base model and r imply "
                        + Arrays.toString(expected));
            }
            try {
                p.getArray().set(e.getValue().toFloats());
            } catch (IllegalArgumentException ex) {
                throw new BadInputException(w + ": tensor '" + e.getKey() + "': " + ex.getMessage(), ex);
            }
        }
        return lora;
    }

    /**
     * Merges the adapters into the base weights and writes a plain Hugging Face folder ({@link HfFolder#save}):
     * a model any {@code transformers} or distill4j user loads without peft.
     *
     * @param lora the adapters
     * @param tokenizer the tokenizer to copy, or null
     * @param dir the folder
     * @throws IOException if writing fails
     */
    public static void mergeAndSave(Lora lora, LmTokenizer tokenizer, Path dir) throws IOException {
        NDManager parent = lora.model().namedParameters().values().iterator().next().getArray().getManager();
        try (NDManager tmp = parent.newSubManager()) {
            CausalLm merged = lora.merge(tmp);
            HfFolder.save(merged, tokenizer, dir);
        }
    }
}

package io.distill4j.models.lm.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.data.BadInputException;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.models.lm.LmTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads and writes Hugging Face model folders of causal LMs: {@code config.json}, {@code model.safetensors}
 * (or shards listed in {@code model.safetensors.index.json}) and {@code tokenizer.json}.
 *
 * <p>Names follow {@code transformers}' state dicts ({@code transformer.*} for GPT-2, also accepted without
 * that prefix as in the original OpenAI checkpoints; {@code model.*} and {@code lm_head.weight} for Llama).
 * GPT-2's {@code Conv1D} weights are stored (in, out) and are transposed to and from DJL's (out, in). Buffers
 * that are not parameters ({@code attn.bias}, {@code attn.masked_bias}, {@code rotary_emb.inv_freq}) are
 * skipped; a tied {@code lm_head.weight} is not written, as {@code save_pretrained} does not write it.
 * Everything else must match exactly: a missing or unexpected tensor, or one whose shape differs from what
 * {@code config.json} implies, is an error naming the file, tensor and shapes (a checkpoint of another
 * architecture). A tokenizer whose vocabulary is larger than {@code vocab_size} is rejected.
 */
public final class HfFolder {
    /** File name of the config. */
    public static final String CONFIG = "config.json";
    /** File name of the single-file weights. */
    public static final String WEIGHTS = "model.safetensors";
    /** File name of the shard index of sharded weights. */
    public static final String WEIGHTS_INDEX = "model.safetensors.index.json";
    /** File name of the tokenizer. */
    public static final String TOKENIZER = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfFolder() {
    }

    /**
     * A loaded folder.
     *
     * @param dir the folder
     * @param model the initialised model holding the folder's weights
     * @param tokenizer the tokenizer, or null when the folder has no {@code tokenizer.json}
     */
    public record Loaded(Path dir, CausalLm model, LmTokenizer tokenizer) implements AutoCloseable {
        @Override
        public void close() {
            if (tokenizer != null) {
                tokenizer.close();
            }
        }
    }

    /**
     * Reads {@code config.json} alone.
     *
     * @param dir the folder
     * @return the config
     * @throws BadInputException naming the file and field at fault
     */
    public static CausalLmConfig readConfig(Path dir) {
        Path f = dir.resolve(CONFIG);
        Map<String, Object> json;
        try {
            json = JSON.readValue(f.toFile(), new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() {
            });
        } catch (java.io.FileNotFoundException | NoSuchFileException e) {
            throw new BadInputException(f + ": no such file (not a Hugging Face model folder?)", e);
        } catch (IOException e) {
            throw new BadInputException(f + ": not valid JSON: " + e.getMessage(), e);
        }
        return CausalLmConfig.fromHfConfig(json, f.toString());
    }

    /**
     * Loads a folder: config, weights and (when present) tokenizer, checking that they fit together before
     * anything else happens.
     *
     * @param dir the folder
     * @param manager the manager that will own the weights
     * @return the model and tokenizer
     * @throws BadInputException naming the file, tensor or field at fault
     */
    public static Loaded load(Path dir, NDManager manager) {
        CausalLmConfig config = readConfig(dir);
        Path tokFile = dir.resolve(TOKENIZER);
        if (Files.exists(tokFile)) {
            int vocab = LmTokenizer.vocabularySize(tokFile);
            if (vocab > config.vocabSize()) {
                throw new BadInputException(tokFile + ": tokenizer vocabulary of " + vocab + " ids does not match "
                        + dir.resolve(CONFIG) + ": vocab_size " + config.vocabSize());
            }
        }
        Map<String, Safetensors.Tensor> tensors = readWeights(dir);
        CausalLm model = new CausalLm(config);
        model.initialize(manager);
        assign(model, tensors, dir.toString());
        LmTokenizer tok = Files.exists(tokFile) ? LmTokenizer.load(tokFile) : null;
        return new Loaded(dir, model, tok);
    }

    private static Map<String, Safetensors.Tensor> readWeights(Path dir) {
        Path single = dir.resolve(WEIGHTS);
        if (Files.exists(single)) {
            return Safetensors.read(single);
        }
        Path index = dir.resolve(WEIGHTS_INDEX);
        if (!Files.exists(index)) {
            throw new BadInputException(dir + ": holds neither " + WEIGHTS + " nor " + WEIGHTS_INDEX);
        }
        Map<String, Object> idx;
        try {
            idx = JSON.readValue(index.toFile(), new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() {
            });
        } catch (IOException e) {
            throw new BadInputException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!(idx.get("weight_map") instanceof Map<?, ?> map)) {
            throw new BadInputException(index + ": field weight_map is missing");
        }
        Map<String, Safetensors.Tensor> all = new LinkedHashMap<>();
        for (Object shard : new TreeSet<>(map.values().stream().map(String::valueOf).toList())) {
            all.putAll(Safetensors.read(dir.resolve((String) shard)));
        }
        return all;
    }

    /**
     * Copies named tensors into a model's parameters.
     *
     * @param model an initialised model
     * @param tensors tensors under Hugging Face names
     * @param source where the tensors came from, for messages
     * @throws BadInputException if a tensor is missing, unexpected or of the wrong shape
     */
    public static void assign(CausalLm model, Map<String, Safetensors.Tensor> tensors, String source) {
        Map<String, Parameter> params = model.namedParameters();
        Map<String, Safetensors.Tensor> byName = new LinkedHashMap<>();
        List<String> unexpected = new ArrayList<>();
        boolean gpt2 = model.config().family() == LmFamily.GPT2;
        for (Map.Entry<String, Safetensors.Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (isBuffer(name)) {
                continue;
            }
            if (gpt2 && !name.startsWith("transformer.") && !name.equals("lm_head.weight")) {
                name = "transformer." + name;
            }
            if (name.equals("lm_head.weight") && model.config().tieWordEmbeddings()) {
                continue; // tied: the embedding is the head
            }
            if (!params.containsKey(name)) {
                unexpected.add(e.getKey());
                continue;
            }
            byName.put(name, e.getValue());
        }
        if (!unexpected.isEmpty()) {
            throw new BadInputException(source + ": tensors " + unexpected + " do not belong to a "
                    + model.config().family().architecture() + " (checkpoint of another architecture?)");
        }
        Set<String> missing = new HashSet<>(params.keySet());
        missing.removeAll(byName.keySet());
        if (!missing.isEmpty()) {
            throw new BadInputException(source + ": tensors " + new TreeSet<>(missing) + " are missing for the "
                    + model.config().family().architecture() + " that config.json describes");
        }
        for (Map.Entry<String, Safetensors.Tensor> e : byName.entrySet()) {
            Parameter p = params.get(e.getKey());
            Safetensors.Tensor t = e.getValue();
            boolean conv = gpt2 && isConv1D(e.getKey());
            long[] expected = p.getShape().getShape();
            long[] stored = conv ? new long[] {expected[1], expected[0]} : expected;
            if (!Arrays.equals(stored, t.shape())) {
                throw new BadInputException(source + ": tensor '" + e.getKey() + "' has shape "
                        + Arrays.toString(t.shape()) + " but config.json implies " + Arrays.toString(stored));
            }
            float[] values;
            try {
                values = t.toFloats();
            } catch (IllegalArgumentException ex) {
                throw new BadInputException(source + ": tensor '" + e.getKey() + "': " + ex.getMessage(), ex);
            }
            if (conv) {
                values = transpose(values, (int) stored[0], (int) stored[1]);
            }
            set(p.getArray(), values);
        }
    }

    private static void set(NDArray target, float[] values) {
        if (target.getDataType() != DataType.FLOAT32) {
            throw new IllegalStateException("parameter " + target.getName() + " is " + target.getDataType()
                    + ", expected float32");
        }
        target.set(values);
    }

    /**
     * Collects a model's parameters as float32 tensors under Hugging Face names and layouts.
     *
     * @param model an initialised model
     * @return tensors by name (a tied head omitted)
     */
    public static Map<String, Safetensors.Tensor> tensors(CausalLm model) {
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        boolean gpt2 = model.config().family() == LmFamily.GPT2;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            NDArray a = e.getValue().getArray();
            float[] values = a.toFloatArray();
            long[] shape = a.getShape().getShape();
            if (gpt2 && isConv1D(e.getKey())) {
                values = transpose(values, (int) shape[0], (int) shape[1]);
                shape = new long[] {shape[1], shape[0]};
            }
            out.put(e.getKey(), Safetensors.Tensor.ofFloats(shape, values));
        }
        return out;
    }

    /**
     * Writes a folder that {@code transformers}' {@code from_pretrained} and {@link #load} read: config.json,
     * model.safetensors and (when given) a copy of tokenizer.json. Each file is written to a temporary name
     * and renamed.
     *
     * @param model an initialised model
     * @param tokenizer the tokenizer to copy, or null
     * @param dir the folder (created if needed)
     * @throws IOException if writing fails
     * @throws BadInputException if the tokenizer does not fit the model
     */
    public static void save(CausalLm model, LmTokenizer tokenizer, Path dir) throws IOException {
        if (tokenizer != null) {
            tokenizer.checkFits(model.config().vocabSize(), "the model being saved");
        }
        Files.createDirectories(dir);
        writeAtomically(dir.resolve(CONFIG), JSON.writeValueAsBytes(model.config().toHfConfig()));
        Safetensors.write(dir.resolve(WEIGHTS), tensors(model), Map.of("format", "pt"));
        if (tokenizer != null) {
            writeAtomically(dir.resolve(TOKENIZER), Files.readAllBytes(tokenizer.file()));
        }
    }

    private static void writeAtomically(Path file, byte[] bytes) throws IOException {
        io.distill4j.data.AtomicFiles.write(file, bytes);
    }

    private static boolean isBuffer(String name) {
        return name.endsWith(".attn.bias") && !name.contains("c_attn") || name.endsWith(".attn.masked_bias")
                || name.endsWith("rotary_emb.inv_freq");
    }

    private static boolean isConv1D(String name) {
        return name.endsWith("attn.c_attn.weight") || name.endsWith("attn.c_proj.weight")
                || name.endsWith("mlp.c_fc.weight") || name.endsWith("mlp.c_proj.weight");
    }

    private static float[] transpose(float[] v, int rows, int cols) {
        float[] out = new float[v.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = v[r * cols + c];
            }
        }
        return out;
    }
}

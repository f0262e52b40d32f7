package io.distill4j.models.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The causal-LM presets under models/ parse, and bad presets are named key by key. */
class PresetsTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static Path models() {
        return Path.of(System.getProperty("distill4j.root", "../..")).resolve("models");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> read(Path p) throws IOException {
        return YAML.readValue(p.toFile(), Map.class);
    }

    @Test
    void everyLmPresetParses() throws IOException {
        List<Path> presets;
        try (Stream<Path> s = Files.list(models())) {
            presets = s.filter(p -> p.getFileName().toString().matches("(gpt2|llama)-.*\\.yaml")).sorted().toList();
        }
        assertEquals(4, presets.size(), presets.toString());
        for (Path p : presets) {
            CausalLmConfig c = CausalLmConfig.fromPreset(read(p), p.toString());
            assertEquals(p.getFileName().toString().startsWith("gpt2") ? LmFamily.GPT2 : LmFamily.LLAMA, c.family());
        }
    }

    @Test
    void theBenchmarkStudentsHaveTheStatedSizes() throws IOException {
        CausalLmConfig g = CausalLmConfig.fromPreset(read(models().resolve("gpt2-student-4x256.yaml")), "gpt2");
        assertEquals(4, g.numLayers());
        assertEquals(256, g.hiddenSize());
        assertEquals(256, g.maxPositions());
        assertEquals(1024, g.intermediateSize());
        assertEquals(LmActivation.GELU, g.activation());
        // wte 50257*256 + wpe 256*256 + 4 * (c_attn 256*768+768 + c_proj 256*256+256 + c_fc 256*1024+1024
        // + c_proj 1024*256+256 + 2 LayerNorms 4*256) + ln_f 2*256
        assertEquals(12_865_792 + 65_536 + 4 * (197_376 + 65_792 + 263_168 + 262_400 + 1_024) + 512,
                g.parameterCount());
        CausalLmConfig l = CausalLmConfig.fromPreset(read(models().resolve("llama-student-4x256.yaml")), "llama");
        assertEquals(2, l.groupSize());
        assertEquals(19_286_272L, l.parameterCount());
    }

    @Test
    void unknownKeysAndShapesThatDoNotFitAreNamed() throws IOException {
        Map<String, Object> p = new HashMap<>(read(models().resolve("gpt2-tiny.yaml")));
        p.put("n_layers", 3);
        BadInputException e = assertThrows(BadInputException.class, () -> CausalLmConfig.fromPreset(p, "x.yaml"));
        assertTrue(e.getMessage().startsWith("x.yaml: unknown key 'n_layers' for model_type gpt2"), e.getMessage());
        p.remove("n_layers");
        p.put("n_head", 5);
        e = assertThrows(BadInputException.class, () -> CausalLmConfig.fromPreset(p, "x.yaml"));
        assertEquals("x.yaml: field n_embd: 32 is not a multiple of n_head 5", e.getMessage());
        Map<String, Object> q = new HashMap<>(read(models().resolve("llama-tiny.yaml")));
        q.put("num_key_value_heads", 3);
        e = assertThrows(BadInputException.class, () -> CausalLmConfig.fromPreset(q, "y.yaml"));
        assertEquals("y.yaml: num_attention_heads (4) must be a multiple of num_key_value_heads (3)", e.getMessage());
        q.put("num_key_value_heads", "two");
        e = assertThrows(BadInputException.class, () -> CausalLmConfig.fromPreset(q, "y.yaml"));
        assertEquals("y.yaml: field num_key_value_heads: expected an integer, got 'two'", e.getMessage());
        q.remove("num_key_value_heads");
        q.remove("model_type");
        e = assertThrows(BadInputException.class, () -> CausalLmConfig.fromPreset(q, "y.yaml"));
        assertEquals("y.yaml: field model_type is missing", e.getMessage());
    }

    @Test
    void aHuggingFaceConfigKeepsWhatItNeedsAndIgnoresTheRest() {
        // as transformers writes them: keys distill4j does not use, nulls for "not set", several eos ids
        Map<String, Object> json = new HashMap<>();
        json.put("architectures", java.util.List.of("LlamaForCausalLM"));
        json.put("model_type", "llama");
        json.put("vocab_size", 64);
        json.put("hidden_size", 32);
        json.put("num_hidden_layers", 1);
        json.put("num_attention_heads", 4);
        json.put("num_key_value_heads", 2);
        json.put("intermediate_size", 48);
        json.put("rope_theta", 500000); // an integer where a number belongs
        json.put("rope_scaling", null);
        json.put("bos_token_id", 1);
        json.put("eos_token_id", java.util.List.of(2, 7));
        json.put("use_cache", true);
        json.put("transformers_version", "5.18.0");
        CausalLmConfig c = CausalLmConfig.fromHfConfig(json, "config.json");
        assertEquals(64, c.vocabSize());
        assertEquals(8, c.headDim());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(1, c.bosTokenId());
        assertEquals(2, c.eosTokenId());
        assertEquals(1e-6, c.normEps());
        // what it reads is read strictly
        json.put("num_hidden_layers", 1.5);
        BadInputException e = assertThrows(BadInputException.class, () -> CausalLmConfig.fromHfConfig(json, "config.json"));
        assertEquals("config.json: field num_hidden_layers: expected an integer, got '1.5'", e.getMessage());
        json.put("num_hidden_layers", 1);
        json.put("rope_scaling", Map.of("rope_type", "linear", "factor", 2.0));
        e = assertThrows(BadInputException.class, () -> CausalLmConfig.fromHfConfig(json, "config.json"));
        assertTrue(e.getMessage().startsWith("config.json: field rope_scaling: scaled rotary embeddings are not supported"),
                e.getMessage());
    }
}

package io.distill4j.models.lm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.BadInputException;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.Fixtures;
import io.distill4j.models.lm.LmFamily;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Hugging Face folders against golden logits made by PyTorch + transformers (make_tiny_lms.py): GPT-2 with
 * tied head and gelu_new, Llama with grouped-query attention, rope_theta 1000 and an untied head.
 */
class HfFolderTest {
    static final double TOLERANCE = 1e-4;
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static float[] run(CausalLm model, long[][] ids, long[][] segments) {
        try (NDManager sub = manager.newSubManager()) {
            NDArray x = sub.create(ids);
            NDArray s = segments == null ? null : sub.create(segments);
            return model.logits(new ParameterStore(sub, false), x, s, null, false).toFloatArray();
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void logitsMatchTransformers(String name) {
        JsonNode exp = Fixtures.expected(name);
        try (HfFolder.Loaded f = HfFolder.load(Fixtures.folder(name), manager)) {
            float[] got = run(f.model(), Fixtures.longs2(exp.get("input_ids")), null);
            float[] want = Fixtures.floats3(exp.get("logits"));
            double diff = maxAbsDiff(got, want);
            assertTrue(diff < TOLERANCE, name + ": max |logit difference| " + diff);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void paddedBatchMatchesTransformersOnRealTokens(String name) {
        JsonNode exp = Fixtures.expected(name);
        long[][] mask = Fixtures.longs2(exp.get("padded_attention_mask"));
        try (HfFolder.Loaded f = HfFolder.load(Fixtures.folder(name), manager)) {
            float[] got = run(f.model(), Fixtures.longs2(exp.get("padded_input_ids")), mask);
            float[] want = Fixtures.floats3(exp.get("padded_logits"));
            int t = mask[0].length;
            int v = f.model().config().vocabSize();
            int compared = 0;
            for (int b = 0; b < mask.length; b++) {
                for (int i = 0; i < t; i++) {
                    if (mask[b][i] == 0) {
                        continue;
                    }
                    for (int k = 0; k < v; k++) {
                        int at = (b * t + i) * v + k;
                        assertEquals(want[at], got[at], TOLERANCE, name + " row " + b + " position " + i);
                        compared++;
                    }
                }
            }
            assertEquals((12 + 7) * v, compared);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void tokenizerMatchesPythonTokenizers(String name) {
        JsonNode exp = Fixtures.expected(name);
        try (HfFolder.Loaded f = HfFolder.load(Fixtures.folder(name), manager)) {
            for (int i = 0; i < exp.get("sentences").size(); i++) {
                String s = exp.get("sentences").get(i).asText();
                long[] want = Fixtures.longs2(exp.get("sentence_ids"))[i];
                int[] got = f.tokenizer().encode(s);
                assertArrayEquals(want, Arrays.stream(got).asLongStream().toArray(), name + ": '" + s + "'");
            }
            assertEquals(f.model().config().vocabSize(), f.tokenizer().vocabSize());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void saveWritesTheSameTensorsAndReloadsToTheSameLogits(String name, @TempDir Path tmp) throws IOException {
        JsonNode exp = Fixtures.expected(name);
        long[][] ids = Fixtures.longs2(exp.get("input_ids"));
        Path out = tmp.resolve("saved");
        float[] before;
        try (HfFolder.Loaded f = HfFolder.load(Fixtures.folder(name), manager)) {
            before = run(f.model(), ids, null);
            HfFolder.save(f.model(), f.tokenizer(), out);
        }
        Map<String, Safetensors.Tensor> original = Safetensors.read(Fixtures.folder(name).resolve(HfFolder.WEIGHTS));
        Map<String, Safetensors.Tensor> written = Safetensors.read(out.resolve(HfFolder.WEIGHTS));
        assertEquals(original.keySet(), written.keySet());
        for (String k : original.keySet()) {
            assertArrayEquals(original.get(k).shape(), written.get(k).shape(), k);
            assertArrayEquals(original.get(k).data(), written.get(k).data(), k);
        }
        CausalLmConfig a = HfFolder.readConfig(Fixtures.folder(name));
        assertEquals(a, HfFolder.readConfig(out));
        try (HfFolder.Loaded g = HfFolder.load(out, manager)) {
            assertArrayEquals(before, run(g.model(), ids, null));
        }
        try (var files = Files.list(out)) {
            assertEquals(3, files.count(), "config, weights and tokenizer; no temporary files left");
        }
    }

    @Test
    void tokenizerLargerThanTheModelIsRejected(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.copy("gpt2-tiny", tmp.resolve("m"));
        editConfig(dir, "vocab_size", 250);
        BadInputException e = assertThrows(BadInputException.class, () -> HfFolder.load(dir, manager));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("300")
                && e.getMessage().contains("250"), e.getMessage());
    }

    @Test
    void weightsOfAnotherShapeAreRejected(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.copy("llama-tiny", tmp.resolve("m"));
        editConfig(dir, "intermediate_size", 48);
        BadInputException e = assertThrows(BadInputException.class, () -> HfFolder.load(dir, manager));
        assertTrue(e.getMessage().matches(".*tensor 'model\\.layers\\.0\\.mlp\\.\\w+_proj\\.weight' has shape "
                + "\\[(64, 32|32, 64)] but config\\.json implies \\[(48, 32|32, 48)].*"), e.getMessage());
    }

    @Test
    void checkpointOfAnotherArchitectureIsRejected(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.copy("gpt2-tiny", tmp.resolve("m"));
        Files.copy(Fixtures.folder("llama-tiny").resolve(HfFolder.WEIGHTS), dir.resolve(HfFolder.WEIGHTS),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        BadInputException e = assertThrows(BadInputException.class, () -> HfFolder.load(dir, manager));
        assertTrue(e.getMessage().contains("another architecture") && e.getMessage().contains("model.layers.0"),
                e.getMessage());
    }

    @Test
    void unsupportedConfigValuesAreRejected(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.copy("llama-tiny", tmp.resolve("m"));
        editConfig(dir, "hidden_act", "tanhshrink");
        BadInputException e = assertThrows(BadInputException.class, () -> HfFolder.load(dir, manager));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("hidden_act")
                && e.getMessage().contains("tanhshrink"), e.getMessage());
        Path dir2 = Fixtures.copy("llama-tiny", tmp.resolve("m2"));
        editConfig(dir2, "model_type", "mistral");
        e = assertThrows(BadInputException.class, () -> HfFolder.load(dir2, manager));
        assertTrue(e.getMessage().contains("model_type") && e.getMessage().contains("mistral"), e.getMessage());
    }

    @Test
    void truncatedWeightsAreRejected(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.copy("gpt2-tiny", tmp.resolve("m"));
        Path w = dir.resolve(HfFolder.WEIGHTS);
        byte[] all = Files.readAllBytes(w);
        Files.write(w, Arrays.copyOf(all, all.length - 100));
        BadInputException e = assertThrows(BadInputException.class, () -> HfFolder.load(dir, manager));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("transformer.wte.weight"),
                e.getMessage());
        Files.write(w, new byte[] {1, 2, 3});
        e = assertThrows(BadInputException.class, () -> HfFolder.load(dir, manager));
        assertTrue(e.getMessage().contains("not a safetensors file"), e.getMessage());
    }

    @Test
    void halfPrecisionValuesConvertExactly(@TempDir Path tmp) throws IOException {
        // F16 bits of 1.0, -2.5, 65504 (max), 2^-24 (smallest subnormal); BF16 bits of 1.0 and -0.15625
        short[] f16 = {0x3c00, (short) 0xc100, 0x7bff, 0x0001};
        short[] bf16 = {0x3f80, (short) 0xbe20};
        ByteBuffer a = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : f16) {
            a.putShort(s);
        }
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : bf16) {
            b.putShort(s);
        }
        Path f = tmp.resolve("h.safetensors");
        Safetensors.write(f, new java.util.LinkedHashMap<>(Map.of("a", new Safetensors.Tensor("F16", new long[] {4},
                a.array()))), Map.of());
        assertArrayEquals(new float[] {1f, -2.5f, 65504f, 0x1p-24f}, Safetensors.read(f).get("a").toFloats());
        Safetensors.write(f, new java.util.LinkedHashMap<>(Map.of("b", new Safetensors.Tensor("BF16", new long[] {2},
                b.array()))), Map.of());
        assertArrayEquals(new float[] {1f, -0.15625f}, Safetensors.read(f).get("b").toFloats());
    }

    @Test
    void familyOfTheFixtures() {
        assertEquals(LmFamily.GPT2, HfFolder.readConfig(Fixtures.folder("gpt2-tiny")).family());
        CausalLmConfig l = HfFolder.readConfig(Fixtures.folder("llama-tiny"));
        assertEquals(LmFamily.LLAMA, l.family());
        assertEquals(2, l.numKvHeads());
        assertEquals(1000.0, l.ropeTheta());
    }

    static void editConfig(Path dir, String key, Object value) throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode n = (ObjectNode) m.readTree(dir.resolve(HfFolder.CONFIG).toFile());
        n.set(key, m.valueToTree(value));
        m.writeValue(dir.resolve(HfFolder.CONFIG).toFile(), n);
    }
}

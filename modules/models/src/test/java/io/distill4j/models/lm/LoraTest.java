package io.distill4j.models.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.JsonNode;
import io.distill4j.data.BadInputException;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.models.lm.io.PeftAdapter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LoRA adapters: peft's files made by src/test/python/make_lora_fixtures.py load and reproduce peft's logits,
 * merging equals the adapted model, only adapters are trainable, and save/load round-trips.
 */
class LoraTest {
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static long[][] ids(JsonNode expected) {
        JsonNode rows = expected.get("input_ids");
        long[][] ids = new long[rows.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = new long[rows.get(i).size()];
            for (int j = 0; j < ids[i].length; j++) {
                ids[i][j] = rows.get(i).get(j).asLong();
            }
        }
        return ids;
    }

    static float[] flat(JsonNode logits) {
        java.util.List<Float> v = new java.util.ArrayList<>();
        for (JsonNode b : logits) {
            for (JsonNode t : b) {
                for (JsonNode x : t) {
                    v.add((float) x.asDouble());
                }
            }
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    static float[] logits(CausalLm m, long[][] ids) {
        try (NDManager sub = manager.newSubManager()) {
            return m.logits(new ParameterStore(sub, false), sub.create(ids), null, null, false).toFloatArray();
        }
    }

    static HfFolder.Loaded base(String name) {
        return HfFolder.load(Fixtures.folder(name), manager);
    }

    static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + ": length");
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
        }
        assertTrue(worst <= tol, what + ": largest difference " + worst);
    }

    /**
     * Like {@link #assertClose} with the tolerance scaled by the largest |logit| when that exceeds 1: merging
     * changes float32 rounding (W x + s B (A x) against (W + s B A) x), whose error grows with the values.
     */
    static void assertCloseScaled(float[] want, float[] got, double tol, String what) {
        double scale = 1;
        for (float x : want) {
            scale = Math.max(scale, Math.abs(x));
        }
        assertClose(want, got, tol * scale, what + " (largest |logit| " + scale + ")");
    }

    /** Sets every A and B to N(0, 0.3^2) draws so that the adapters change the logits. */
    static void randomise(Lora lora, long seed) {
        Random r = new Random(seed);
        for (Parameter p : lora.namedParameters().values()) {
            float[] v = new float[(int) p.getShape().size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (0.3 * r.nextGaussian());
            }
            p.getArray().set(v);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void peftAdapterReproducesPeftLogits(String name) {
        JsonNode expected = Fixtures.expected(name + "-lora");
        try (HfFolder.Loaded b = base(name)) {
            long[][] ids = ids(expected);
            float[] before = logits(b.model(), ids);
            Lora lora = PeftAdapter.load(b.model(), Fixtures.folder(name + "-lora"));
            float[] want = flat(expected.get("logits"));
            float[] got = logits(b.model(), ids);
            assertClose(want, got, 1e-5, name + " adapted logits vs peft");
            // the adapter matters: the base logits are far from peft's adapted ones
            double moved = 0;
            for (int i = 0; i < want.length; i++) {
                moved = Math.max(moved, Math.abs(want[i] - before[i]));
            }
            assertTrue(moved > 0.5, name + ": the adapter moves the logits by only " + moved);
            assertClose(flat(expected.get("merged_logits")), logits(lora.merge(manager), ids), 1e-5,
                    name + " merged logits vs peft merge_and_unload");
        }
    }

    @Test
    void peftConfigIsReadAsWritten() {
        LoraConfig gpt2 = PeftAdapter.readConfig(Fixtures.folder("gpt2-tiny-lora"));
        assertEquals(new LoraConfig(4, 8, 0, List.of("c_attn", "attn.c_proj", "c_fc", "mlp.c_proj"), false), gpt2);
        assertEquals(2.0, gpt2.scaling());
        LoraConfig llama = PeftAdapter.readConfig(Fixtures.folder("llama-tiny-lora"));
        assertTrue(llama.rslora());
        assertEquals(3 / Math.sqrt(2), llama.scaling(), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void mergedLogitsEqualBasePlusAdapter(String name) {
        try (HfFolder.Loaded b = base(name)) {
            long[][] ids = ids(Fixtures.expected(name));
            float[] plain = logits(b.model(), ids);
            Engine.getInstance().setRandomSeed(3);
            Lora lora = Lora.attach(b.model(), LoraConfig.of(3, 6, "q", "v", "o", "mlp"));
            // B starts at zero: a fresh adapter changes nothing
            assertArrayEquals(plain, logits(b.model(), ids), 0f, name + " fresh adapter");
            randomise(lora, 11);
            float[] adapted = logits(b.model(), ids);
            CausalLm merged = lora.merge(manager);
            assertCloseScaled(adapted, logits(merged, ids), 1e-5, name + " merged vs adapted");
            // the merge is base + s B A on the targeted weights only: check one weight element by element
            String module = lora.modules().iterator().next();
            float[] w0 = b.model().namedParameters().get(module + ".weight").getArray().toFloatArray();
            float[] w1 = merged.namedParameters().get(module + ".weight").getArray().toFloatArray();
            float[] a = lora.namedParameters().get(Lora.PEFT_PREFIX + module + ".lora_A.weight").getArray()
                    .toFloatArray();
            float[] bb = lora.namedParameters().get(Lora.PEFT_PREFIX + module + ".lora_B.weight").getArray()
                    .toFloatArray();
            int r = 3;
            int in = a.length / r;
            for (int o = 0; o < w0.length / in; o++) {
                for (int i = 0; i < in; i++) {
                    double d = 0;
                    for (int k = 0; k < r; k++) {
                        d += (double) bb[o * r + k] * a[k * in + i];
                    }
                    assertEquals(w0[o * in + i] + 2.0 * d, w1[o * in + i], 1e-5, module + "[" + o + "," + i + "]");
                }
            }
            for (String n : merged.namedParameters().keySet()) {
                if (n.endsWith(".bias") || n.contains("norm") || n.contains("ln_") || n.contains("embed")
                        || n.contains("wte") || n.contains("wpe")) {
                    assertArrayEquals(b.model().namedParameters().get(n).getArray().toFloatArray(),
                            merged.namedParameters().get(n).getArray().toFloatArray(), 0f, n);
                }
            }
        }
    }

    @Test
    void gpt2TargetsFollowPeftMatching() {
        try (HfFolder.Loaded b = base("gpt2-tiny")) {
            Lora lora = Lora.attach(b.model(), LoraConfig.of(2, 2, "k", "o"));
            // k on GPT-2 is the fused c_attn, o only the attention's c_proj
            assertEquals(List.of("c_attn", "attn.c_proj"), lora.targetModules());
            assertEquals(Set.of("transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj",
                    "transformer.h.1.attn.c_attn", "transformer.h.1.attn.c_proj"), lora.modules());
            // 2 layers x (A (2, 32) + B (96, 2) + A (2, 32) + B (32, 2))
            assertEquals(2L * (64 + 192 + 64 + 64), lora.parameterCount());
        }
        try (HfFolder.Loaded b = base("gpt2-tiny")) {
            Lora lora = Lora.attach(b.model(), LoraConfig.of(2, 2, "c_proj"));
            assertEquals(4, lora.modules().size(), "c_proj matches the attention and MLP projections, as in peft");
        }
        try (HfFolder.Loaded b = base("gpt2-tiny")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Lora.attach(b.model(), LoraConfig.of(2, 2, "q_proj")));
            assertTrue(e.getMessage().contains("'q_proj' matches no linear map"), e.getMessage());
        }
    }

    @Test
    void onlyAdaptersAreTrainableAndGetGradients() {
        try (HfFolder.Loaded b = base("llama-tiny")) {
            Lora lora = Lora.attach(b.model(), LoraConfig.of(2, 4, "all-linear"));
            randomise(lora, 5);
            Set<Parameter> adapters = new HashSet<>(lora.namedParameters().values());
            int trainable = 0;
            for (Pair<String, Parameter> p : b.model().getParameters()) {
                assertEquals(adapters.contains(p.getValue()), p.getValue().requiresGradient(), p.getKey());
                trainable += p.getValue().requiresGradient() ? 1 : 0;
            }
            assertEquals(2 * 2 * 7, trainable, "2 layers x 7 maps x (A, B)");
            try (NDManager sub = manager.newSubManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out = b.model().logits(new ParameterStore(sub, false),
                        sub.create(ids(Fixtures.expected("llama-tiny"))), null, null, true);
                gc.backward(out.square().mean());
            }
            for (Parameter p : adapters) {
                assertTrue(p.getArray().getGradient().abs().sum().getFloat() > 0, p.getName() + " has no gradient");
            }
            for (Map.Entry<String, Parameter> e : b.model().namedParameters().entrySet()) {
                assertFalse(e.getValue().getArray().hasGradient(), e.getKey() + " is frozen but has a gradient");
            }
        }
    }

    @Test
    void kvCacheDecodingIncludesTheAdapters() {
        try (HfFolder.Loaded b = base("gpt2-tiny")) {
            Lora lora = Lora.attach(b.model(), LoraConfig.of(2, 4, "q", "mlp"));
            randomise(lora, 8);
            int[] seq = {5, 17, 42, 9, 100, 3, 77};
            KvCacheDecoder d = new KvCacheDecoder(b.model());
            float[][] step = new float[1][];
            long[][] ids = {java.util.Arrays.stream(seq).asLongStream().toArray()};
            float[] full = logits(b.model(), ids);
            int v = b.model().config().vocabSize();
            try (KvCacheDecoder.State s = d.prefill(manager, java.util.Arrays.copyOf(seq, 3), 1, step)) {
                for (int t = 3; t <= seq.length; t++) {
                    float[] want = java.util.Arrays.copyOfRange(full, (t - 1) * v, t * v);
                    assertClose(want, step[0], 1e-5, "position " + t);
                    if (t < seq.length) {
                        step = d.step(manager, s, new int[] {seq[t]});
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void savedAdaptersAndMergedFoldersRoundTrip(String name, @TempDir Path tmp) throws IOException {
        long[][] ids = ids(Fixtures.expected(name));
        float[] adapted;
        try (HfFolder.Loaded b = base(name)) {
            Lora lora = Lora.attach(b.model(), new LoraConfig(2, 5, 0.1, List.of("q", "k", "v", "o", "mlp"), true));
            randomise(lora, 21);
            adapted = logits(b.model(), ids);
            PeftAdapter.save(lora, "../" + name, tmp.resolve("adapter"));
            PeftAdapter.mergeAndSave(lora, b.tokenizer(), tmp.resolve("merged"));
        }
        assertEquals(Set.of(PeftAdapter.CONFIG, PeftAdapter.WEIGHTS), listing(tmp.resolve("adapter")));
        try (HfFolder.Loaded b = base(name)) {
            PeftAdapter.load(b.model(), tmp.resolve("adapter"));
            assertClose(adapted, logits(b.model(), ids), 0, name + " reloaded adapter");
        }
        try (HfFolder.Loaded m = HfFolder.load(tmp.resolve("merged"), manager)) {
            assertCloseScaled(adapted, logits(m.model(), ids), 1e-5, name + " merged folder");
            assertTrue(m.tokenizer() != null);
        }
    }

    private static Set<String> listing(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet());
        }
    }

    @Test
    void unsupportedOrBrokenAdaptersAreRejectedByName(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("a");
        Files.createDirectories(dir);
        Path src = Fixtures.folder("gpt2-tiny-lora");
        Files.copy(src.resolve(PeftAdapter.WEIGHTS), dir.resolve(PeftAdapter.WEIGHTS));
        String cfg = Files.readString(src.resolve(PeftAdapter.CONFIG));
        Files.writeString(dir.resolve(PeftAdapter.CONFIG), cfg.replace("\"use_dora\": false", "\"use_dora\": true"));
        BadInputException e = assertThrows(BadInputException.class, () -> PeftAdapter.readConfig(dir));
        assertTrue(e.getMessage().contains("field use_dora") && e.getMessage().contains(PeftAdapter.CONFIG),
                e.getMessage());
        Files.writeString(dir.resolve(PeftAdapter.CONFIG), cfg.replace("\"r\": 4", "\"r\": 3"));
        try (HfFolder.Loaded b = base("gpt2-tiny")) {
            e = assertThrows(BadInputException.class, () -> PeftAdapter.load(b.model(), dir));
            assertTrue(e.getMessage().contains("has shape [4, 32]") && e.getMessage().contains("[3, 32]"),
                    e.getMessage());
        }
        Files.writeString(dir.resolve(PeftAdapter.CONFIG), cfg);
        try (HfFolder.Loaded b = base("llama-tiny")) {
            e = assertThrows(BadInputException.class, () -> PeftAdapter.load(b.model(), dir));
            assertTrue(e.getMessage().contains("field target_modules") && e.getMessage().contains("'c_attn'"),
                    e.getMessage());
        }
    }
}

package io.distill4j.teacher.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.models.lm.Fixtures;
import io.distill4j.models.lm.Generation;
import io.distill4j.models.lm.LmTokenizer;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.models.lm.io.Safetensors;
import io.distill4j.teacher.http.LlamaServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * GGUF export of the tiny committed Llama and GPT-2 fixtures, read back by a GGUF reader written here from the format's
 * specification; greedy decoding by llama-server on the export against distill4j's own when the server is built.
 */
class GgufExportTest {

    @Test
    void halfPrecisionRoundsToNearestEven() {
        assertEquals(0x3C00, GgufWriter.toHalf(1f) & 0xffff);
        assertEquals(0xC000, GgufWriter.toHalf(-2f) & 0xffff);
        assertEquals(0x7BFF, GgufWriter.toHalf(65504f) & 0xffff);
        assertEquals(0x7BFF, GgufWriter.toHalf(65519f) & 0xffff, "below the midpoint to infinity");
        assertEquals(0x7C00, GgufWriter.toHalf(65520f) & 0xffff);
        assertEquals(0x3555, GgufWriter.toHalf(1f / 3) & 0xffff);
        assertEquals(0x2E66, GgufWriter.toHalf(0.1f) & 0xffff);
        assertEquals(0x0400, GgufWriter.toHalf((float) Math.pow(2, -14)) & 0xffff, "smallest normal");
        assertEquals(0x0001, GgufWriter.toHalf((float) Math.pow(2, -24)) & 0xffff, "smallest subnormal");
        assertEquals(0x0000, GgufWriter.toHalf((float) Math.pow(2, -25)) & 0xffff, "a tie goes to the even zero");
        assertEquals(0x0002, GgufWriter.toHalf((float) (3 * Math.pow(2, -25))) & 0xffff, "1.5 ulp ties up to 2");
        assertEquals(0x3C00, GgufWriter.toHalf(1f + (float) Math.pow(2, -11)) & 0xffff, "a tie at 1 stays even");
        assertEquals(0x3C02, GgufWriter.toHalf(1f + 3 * (float) Math.pow(2, -11)) & 0xffff, "a tie at odd goes up");
        assertTrue(Float.isNaN(half(GgufWriter.toHalf(Float.NaN))));
    }

    @Test
    void aLlamaExportHoldsTheTokenizerAndPermutedQkRowsInF32AndF16(@TempDir Path dir) throws IOException {
        Path folder = Fixtures.folder("llama-tiny");
        Path f32 = dir.resolve("llama-f32.gguf");
        Path f16 = dir.resolve("llama-f16.gguf");
        try (NDManager m = NDManager.newBaseManager(Device.cpu()); HfFolder.Loaded l = HfFolder.load(folder, m)) {
            GgufExport.write(l.model(), l.tokenizer(), f32, false);
            GgufExport.write(l.model(), l.tokenizer(), f16, true);
        }
        JsonNode cfg = new ObjectMapper().readTree(folder.resolve("config.json").toFile());
        Map<String, Safetensors.Tensor> hf = Safetensors.read(folder.resolve("model.safetensors"));
        for (Path file : List.of(f32, f16)) {
            Gguf g = Gguf.read(file);
            assertEquals("llama", g.meta.get("general.architecture"));
            assertEquals(cfg.get("num_attention_heads").asLong(), g.meta.get("llama.attention.head_count"));
            assertEquals(cfg.get("num_key_value_heads").asLong(), g.meta.get("llama.attention.head_count_kv"));
            assertEquals(cfg.get("max_position_embeddings").asLong(), g.meta.get("llama.context_length"));
            assertEquals(cfg.get("eos_token_id").asLong(), g.meta.get("tokenizer.ggml.eos_token_id"));
            assertEquals("llama", g.meta.get("tokenizer.ggml.model"));
            @SuppressWarnings("unchecked")
            List<String> tokens = (List<String>) g.meta.get("tokenizer.ggml.tokens");
            assertEquals(cfg.get("vocab_size").asInt(), tokens.size());
            JsonNode tok = new ObjectMapper().readTree(folder.resolve("tokenizer.json").toFile());
            tok.path("model").path("vocab").fields().forEachRemaining(e -> assertEquals(e.getKey(), tokens.get(e.getValue().asInt())));
            // 2 layers x 9 tensors + embedding, final norm, head
            assertEquals(2 * 9 + 3, g.tensors.size());
            int heads = cfg.get("num_attention_heads").asInt();
            int kv = cfg.get("num_key_value_heads").asInt();
            boolean half = file == f16;
            for (String[] pair : List.of(new String[] {"model.layers.1.self_attn.q_proj.weight", "blk.1.attn_q.weight"},
                    new String[] {"model.layers.0.self_attn.k_proj.weight", "blk.0.attn_k.weight"})) {
                float[] want = hf.get(pair[0]).toFloats();
                long[] shape = hf.get(pair[0]).shape();
                int h = pair[1].contains("attn_q") ? heads : kv;
                float[] got = unpermute(g.tensor(pair[1]), (int) shape[0], (int) shape[1], h);
                assertArrayEquals(shape, g.shape(pair[1]));
                assertEquals(half ? 1 : 0, g.types.get(pair[1]));
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], half ? Math.abs(want[i]) * 0x1p-11 + 0x1p-25 : 0, pair[1] + "[" + i + "]");
                }
            }
            assertEquals(0, g.types.get("blk.0.attn_norm.weight"), "vectors stay float32");
            assertArrayEquals(hf.get("lm_head.weight").toFloats(), half ? g.tensor("output.weight") : g.tensor("output.weight"),
                    half ? 0.01f : 0f);
        }
        assertTrue(Files.size(f16) < Files.size(f32) * 0.7, "f16 matrices halve the file");
    }

    @Test
    void aGpt2ExportHasByteLevelMergesAndATiedHead(@TempDir Path dir) throws IOException {
        Path folder = Fixtures.folder("gpt2-tiny");
        Path out = dir.resolve("gpt2.gguf");
        try (NDManager m = NDManager.newBaseManager(Device.cpu()); HfFolder.Loaded l = HfFolder.load(folder, m)) {
            GgufExport.write(l.model(), l.tokenizer(), out, false);
        }
        Gguf g = Gguf.read(out);
        assertEquals("gpt2", g.meta.get("tokenizer.ggml.model"));
        JsonNode tok = new ObjectMapper().readTree(folder.resolve("tokenizer.json").toFile());
        assertEquals(tok.path("model").path("merges").size(), ((List<?>) g.meta.get("tokenizer.ggml.merges")).size());
        assertArrayEquals(g.tensor("token_embd.weight"), g.tensor("output.weight"));
        // HF stores Conv1D weights (in, out); llama.cpp wants (out, in)
        Safetensors.Tensor qkv = Safetensors.read(folder.resolve("model.safetensors")).get("h.0.attn.c_attn.weight") != null
                ? Safetensors.read(folder.resolve("model.safetensors")).get("h.0.attn.c_attn.weight")
                : Safetensors.read(folder.resolve("model.safetensors")).get("transformer.h.0.attn.c_attn.weight");
        long in = qkv.shape()[0];
        long outDim = qkv.shape()[1];
        assertArrayEquals(new long[] {outDim, in}, g.shape("blk.0.attn_qkv.weight"));
        float[] hf = qkv.toFloats();
        float[] gg = g.tensor("blk.0.attn_qkv.weight");
        for (int r = 0; r < outDim; r++) {
            for (int c = 0; c < in; c++) {
                assertEquals(hf[(int) (c * outDim + r)], gg[(int) (r * in + c)]);
            }
        }
    }

    /**
     * Issue 13, item 4: llama-server's greedy continuation of an export equals distill4j's own, for both families and
     * both precisions (f16 weights against distill4j's float32 decoding: equal while no step's top two logits are
     * closer than float16's rounding moves them).
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"llama-tiny, f32", "llama-tiny, f16", "gpt2-tiny, f32", "gpt2-tiny, f16"})
    void llamaServerDecodesTheExportGreedilyAsDistill4jDoes(String fixture, String precision, @TempDir Path dir)
            throws Exception {
        Optional<Path> binary = LlamaServer.locate(Path.of(System.getProperty("distill4j.root", "../..")));
        assumeTrue(binary.isPresent(), "llama-server is not built: run " + LlamaServer.BUILD_SCRIPT
                + " (or set " + LlamaServer.ENV_BINARY + ") to compare its greedy decoding of an export with distill4j's");
        Path folder = Fixtures.folder(fixture);
        Path gguf = dir.resolve(fixture + "-" + precision + ".gguf");
        int[] prompt;
        int[] mine;
        try (NDManager m = NDManager.newBaseManager(Device.cpu()); HfFolder.Loaded l = HfFolder.load(folder, m)) {
            GgufExport.write(l.model(), l.tokenizer(), gguf, "f16".equals(precision));
            prompt = l.tokenizer().encode("hello world");
            mine = Generation.sample(l.model(), m, prompt, 8, -1, 0, 0, null, false);
        }
        try (LlamaServer s = LlamaServer.start(binary.get(), gguf, 1, 64, 1, dir.resolve("server.log"),
                Duration.ofSeconds(60))) {
            StringBuilder ids = new StringBuilder();
            for (int i = 0; i < prompt.length; i++) {
                ids.append(i == 0 ? "" : ",").append(prompt[i]);
            }
            String body = "{\"prompt\": [" + ids + "], \"n_predict\": 8, \"temperature\": 0, \"top_k\": 1,"
                    + " \"ignore_eos\": true, \"cache_prompt\": false, \"return_tokens\": true}";
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(s.baseUri()
                    + "/completion")).POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type",
                    "application/json").build(), HttpResponse.BodyHandlers.ofString());
            JsonNode tokens = new ObjectMapper().readTree(r.body()).path("tokens");
            assumeTrue(tokens.isArray() && tokens.size() > 0, "this llama-server does not return token ids: " + r.body());
            int[] theirs = new int[tokens.size()];
            for (int i = 0; i < theirs.length; i++) {
                theirs[i] = tokens.get(i).asInt();
            }
            // a continuation of several distinct tokens, so that equality says more than "both repeat one token"
            assertTrue(Arrays.stream(mine).distinct().count() >= 3, "distill4j's continuation " + Arrays.toString(mine));
            assertArrayEquals(mine, theirs, s.logTail());
            // the export's vocabulary read back as a tokenizer.json (what `train` does with a .gguf tokenizer)
            // encodes as the server's own /tokenize does
            Path json = dir.resolve("tokenizer-from-gguf.json");
            GgufTokenizer.write(gguf, json);
            ObjectMapper mapper = new ObjectMapper();
            try (LmTokenizer fromGguf = LmTokenizer.load(json)) {
                // texts over the characters both fixtures' vocabularies hold: llama.cpp's SentencePiece tokenizer
                // answers HTTP 500 for a character outside a vocabulary without <0xNN> byte tokens, as llama-tiny's is
                for (String text : List.of("hello world", "Question: what is the teacher?\nAnswer: the students.",
                        " leading space, and numbers 1234", "Who learns from the teacher - and how?")) {
                    String req = mapper.createObjectNode().put("content", text).put("add_special", true).toString();
                    HttpResponse<String> t = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                            s.baseUri() + "/tokenize")).POST(HttpRequest.BodyPublishers.ofString(req)).header(
                            "Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
                    JsonNode served = mapper.readTree(t.body()).path("tokens");
                    int[] server = new int[served.size()];
                    for (int i = 0; i < server.length; i++) {
                        server[i] = served.get(i).asInt();
                    }
                    assertArrayEquals(server, fromGguf.encode(text), fixture + ": '" + text + "' " + t.body());
                }
            }
        }
    }

    static float[] unpermute(float[] w, int rows, int cols, int heads) {
        // numpy: w.reshape(heads, half, 2, cols).swapaxes(1, 2).reshape(rows, cols) inverts the export's permute
        int hd = rows / heads;
        int half = hd / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int a = 0; a < half; a++) {
                for (int b = 0; b < 2; b++) {
                    for (int c = 0; c < cols; c++) {
                        out[((h * 2 + b) * half + a) * cols + c] = w[((h * half + a) * 2 + b) * cols + c];
                    }
                }
            }
        }
        return out;
    }

    static float half(short h) {
        int s = (h >> 15) & 1;
        int e = (h >> 10) & 0x1f;
        int f = h & 0x3ff;
        double v = e == 0 ? f * Math.pow(2, -24) : e == 31 ? (f == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
                : (1 + f / 1024.0) * Math.pow(2, e - 15);
        return (float) (s == 1 ? -v : v);
    }

    /** A GGUF v3 reader after the specification (ggml/docs/gguf.md), for these tests. */
    static final class Gguf {
        final Map<String, Object> meta = new LinkedHashMap<>();
        final Map<String, long[]> shapes = new LinkedHashMap<>();
        final Map<String, Integer> types = new LinkedHashMap<>();
        final Map<String, Long> offsets = new LinkedHashMap<>();
        final List<String> tensors = new ArrayList<>();
        ByteBuffer b;
        long dataStart;

        static Gguf read(Path file) throws IOException {
            Gguf g = new Gguf();
            g.b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(0x46554747, g.b.getInt());
            assertEquals(3, g.b.getInt());
            long nt = g.b.getLong();
            long nk = g.b.getLong();
            for (long i = 0; i < nk; i++) {
                String key = g.string();
                g.meta.put(key, g.value(g.b.getInt()));
            }
            for (long i = 0; i < nt; i++) {
                String name = g.string();
                int dims = g.b.getInt();
                long[] shape = new long[dims];
                for (int d = dims - 1; d >= 0; d--) {
                    shape[d] = g.b.getLong();
                }
                g.tensors.add(name);
                g.shapes.put(name, shape);
                g.types.put(name, g.b.getInt());
                g.offsets.put(name, g.b.getLong());
            }
            g.dataStart = (g.b.position() + 31) / 32 * 32;
            return g;
        }

        long[] shape(String name) {
            return shapes.get(name);
        }

        float[] tensor(String name) {
            long n = 1;
            for (long s : shapes.get(name)) {
                n *= s;
            }
            float[] out = new float[(int) n];
            int at = (int) (dataStart + offsets.get(name));
            for (int i = 0; i < n; i++) {
                out[i] = types.get(name) == 1 ? half(b.getShort(at + 2 * i)) : b.getFloat(at + 4 * i);
            }
            return out;
        }

        String string() {
            byte[] s = new byte[(int) b.getLong()];
            b.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }

        Object value(int type) {
            switch (type) {
                case 4: return (long) b.getInt() & 0xffffffffL;
                case 5: return (long) b.getInt();
                case 6: return b.getFloat();
                case 7: return b.get() != 0;
                case 8: return string();
                case 9: {
                    int t = b.getInt();
                    long n = b.getLong();
                    List<Object> l = new ArrayList<>();
                    for (long i = 0; i < n; i++) {
                        l.add(value(t));
                    }
                    return l;
                }
                default: throw new AssertionError("type " + type);
            }
        }
    }
}

package io.distill4j.teacher.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.models.lm.LmTokenizer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GGUF vocabularies written by {@link GgufWriter} become {@code tokenizer.json} files that Hugging Face's tokenizers
 * (through DJL) load and that encode text to the ids of the reference tokenizers: sentencepiece for a llama
 * vocabulary, Hugging Face's byte-level BPE for a gpt2 one ({@code gguf-tokenizer/golden.json}, made by
 * {@code make_golden.py}).
 */
class GgufTokenizerTest {

    private static JsonNode golden() throws Exception {
        try (InputStream in = GgufTokenizerTest.class.getResourceAsStream("/gguf-tokenizer/golden.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static void assertEncodes(JsonNode cases, Path tokenizerJson) {
        try (LmTokenizer t = LmTokenizer.load(tokenizerJson)) {
            for (JsonNode c : cases) {
                assertArrayEquals(ints(c.get("ids")), t.encode(c.get("text").asText()), c.get("text").asText());
            }
        }
    }

    @Test
    void aLlamaVocabularyEncodesAsSentencepieceDoes(@TempDir Path dir) throws Exception {
        JsonNode g = golden().get("llama");
        float[] scores = new float[g.get("scores").size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = (float) g.get("scores").get(i).asDouble();
        }
        Path gguf = dir.resolve("llama.gguf");
        new GgufWriter().putString("general.architecture", "llama").putString("tokenizer.ggml.model", "llama")
                .putStringArray("tokenizer.ggml.tokens", strings(g.get("tokens")))
                .putFloat32Array("tokenizer.ggml.scores", scores)
                .putInt32Array("tokenizer.ggml.token_type", ints(g.get("types")))
                .putUInt32("tokenizer.ggml.bos_token_id", g.get("bos").asInt())
                .putUInt32("tokenizer.ggml.eos_token_id", g.get("eos").asInt())
                .putUInt32("tokenizer.ggml.unknown_token_id", g.get("unk").asInt())
                .write(gguf);
        Path json = dir.resolve("tokenizer.json");
        GgufTokenizer.write(gguf, json);
        assertEncodes(g.get("cases"), json);
        try (LmTokenizer t = LmTokenizer.load(json)) {
            assertEquals(g.get("tokens").size(), t.vocabSize());
            assertEquals(g.get("eos").asInt(), t.specialId(LmTokenizer.EOS_TOKENS));
            assertEquals("Hello world!", t.decode(t.encode("Hello world!")));
        }
    }

    @Test
    void aGpt2VocabularyEncodesAsTheByteLevelBpeDoes(@TempDir Path dir) throws Exception {
        JsonNode g = golden().get("gpt2");
        Path gguf = dir.resolve("gpt2.gguf");
        new GgufWriter().putString("general.architecture", "gpt2").putString("tokenizer.ggml.model", "gpt2")
                .putString("tokenizer.ggml.pre", "default")
                .putStringArray("tokenizer.ggml.tokens", strings(g.get("tokens")))
                .putStringArray("tokenizer.ggml.merges", strings(g.get("merges")))
                .putInt32Array("tokenizer.ggml.token_type", ints(g.get("types")))
                .putUInt32("tokenizer.ggml.eos_token_id", g.get("eos").asInt())
                .write(gguf);
        Path json = dir.resolve("tokenizer.json");
        GgufTokenizer.write(gguf, json);
        assertEncodes(g.get("cases"), json);
        JsonNode written = new ObjectMapper().readTree(json.toFile());
        assertEquals("<|endoftext|>", written.get("added_tokens").get(0).get("content").asText());
        assertTrue(written.get("added_tokens").get(0).get("special").asBoolean());
    }

    @Test
    void otherVocabulariesAndBrokenFilesAreRefusedNamingTheField(@TempDir Path dir) throws Exception {
        Path qwen = dir.resolve("qwen.gguf");
        new GgufWriter().putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", "qwen2")
                .putStringArray("tokenizer.ggml.tokens", List.of("a", "b")).putStringArray("tokenizer.ggml.merges", List.of())
                .write(qwen);
        BadInputException e = assertThrows(BadInputException.class, () -> GgufTokenizer.write(qwen, dir.resolve("t.json")));
        assertTrue(e.getMessage().startsWith(qwen + ": field tokenizer.ggml.pre: 'qwen2'"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("t.json")));

        Path bert = dir.resolve("bert.gguf");
        new GgufWriter().putString("tokenizer.ggml.model", "bert").putStringArray("tokenizer.ggml.tokens", List.of("a"))
                .write(bert);
        e = assertThrows(BadInputException.class, () -> GgufTokenizer.write(bert, dir.resolve("t.json")));
        assertTrue(e.getMessage().startsWith(bert + ": field tokenizer.ggml.model: 'bert'"), e.getMessage());

        Path none = dir.resolve("none.gguf");
        new GgufWriter().putString("general.architecture", "llama").write(none);
        e = assertThrows(BadInputException.class, () -> GgufTokenizer.write(none, dir.resolve("t.json")));
        assertTrue(e.getMessage().contains("holds no vocabulary"), e.getMessage());

        Path notGguf = dir.resolve("x.gguf");
        Files.writeString(notGguf, "hello, not a gguf file");
        e = assertThrows(BadInputException.class, () -> GgufMetadata.read(notGguf));
        assertEquals(notGguf + ": not a GGUF file (no GGUF magic at its start)", e.getMessage());
        Path cut = dir.resolve("cut.gguf");
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(qwen), 40));
        e = assertThrows(BadInputException.class, () -> GgufMetadata.read(cut));
        assertEquals(cut + ": the GGUF metadata is cut short", e.getMessage());
    }
}

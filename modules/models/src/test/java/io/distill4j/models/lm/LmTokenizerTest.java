package io.distill4j.models.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.distill4j.data.BadInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading a tokenizer.json: a WordLevel vocabulary without its unknown-word token is refused at load, naming it. */
class LmTokenizerTest {

    private static String wordLevel(String unk) {
        return "{\"version\": \"1.0\", \"added_tokens\": [], \"normalizer\": null,"
                + " \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}, \"post_processor\": null, \"decoder\": null,"
                + " \"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"b\": 1, \"c\": 2}, \"unk_token\": \""
                + unk + "\"}}";
    }

    @Test
    void aWordLevelVocabularyWithItsUnknownTokenEncodesByHand(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("tokenizer.json"), wordLevel("a"));
        try (LmTokenizer t = LmTokenizer.load(f)) {
            assertEquals(3, t.vocabSize());
            assertArrayEquals(new int[] {2, 1, 0}, t.encode("c b zzz"));
        }
    }

    @Test
    void anUnknownTokenOutsideTheVocabularyIsOneLineNamingTheField(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("tokenizer.json"), wordLevel("[UNK]"));
        BadInputException e = assertThrows(BadInputException.class, () -> LmTokenizer.load(f));
        assertEquals(f + ": field model.unk_token: '[UNK]' is not in model.vocab (a WordLevel tokenizer maps unknown"
                + " words to it)", e.getMessage());
    }
}

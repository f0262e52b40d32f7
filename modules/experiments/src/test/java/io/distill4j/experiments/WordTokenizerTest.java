package io.distill4j.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.distill4j.models.lm.LmTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The word-level tokenizer files, read back by the Hugging Face tokenizers library; ids worked out by hand. */
class WordTokenizerTest {

    @Test
    void wordsAloneAreTheirPositions(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        assertEquals(3, WordTokenizer.writeWords(file, List.of("t0", "t1", "t2")));
        try (LmTokenizer t = LmTokenizer.load(file)) {
            assertEquals(3, t.vocabSize());
            assertArrayEquals(new int[] {2, 0, 1, 1}, t.encode("t2 t0 t1 t1")); // no special token added
            assertArrayEquals(new int[] {0, 2}, t.encode("zebra t2")); // an unknown word reads as the first word
            assertEquals("t1 t2", t.decode(new int[] {1, 2}));
            assertEquals(-1, t.specialId(LmTokenizer.EOS_TOKENS));
        }
        assertThrows(IllegalArgumentException.class, () -> WordTokenizer.writeWords(file, List.of("t0", "t1", "t0")));
        assertThrows(IllegalArgumentException.class, () -> WordTokenizer.writeWords(file, List.of()));
    }

    @Test
    void theDefaultVocabularyStartsWithUnknownAndEnd(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        assertEquals(4, WordTokenizer.write(file, List.of("whale", "ship")));
        try (LmTokenizer t = LmTokenizer.load(file)) {
            assertArrayEquals(new int[] {3, 2, 0}, t.encode("Ship whale zebra"));
            assertEquals(1, t.specialId(LmTokenizer.EOS_TOKENS));
        }
    }
}

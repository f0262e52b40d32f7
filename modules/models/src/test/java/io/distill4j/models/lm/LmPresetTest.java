package io.distill4j.models.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.models.StudentPreset;
import io.distill4j.models.StudentPresets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The gpt2 and llama student presets: strict keys at their line, teacher-given keys filled, stated ones insisted on. */
class LmPresetTest {

    @Test
    void theShippedTinyPresetTakesVocabularyContextAndEosFromTheTeacher() {
        StudentPreset p = StudentPresets.read(PresetsTest.models().resolve("llama-tiny.yaml"));
        LmPreset lm = (LmPreset) p;
        assertEquals("llama", lm.modelType());
        assertEquals(0, lm.vocabSize());
        assertEquals(0, lm.context());
        CausalLmConfig c = lm.config(200, 23, 1, 2);
        assertEquals(200, c.vocabSize());
        assertEquals(23, c.maxPositions());
        assertEquals(1, c.bosTokenId());
        assertEquals(2, c.eosTokenId());
        assertEquals(32, c.hiddenSize());
        assertEquals(2, c.numKvHeads());
        assertEquals(200, StudentPresets.toMap(lm.complete(200, 23, 1, 2)).get("vocab_size"));
        assertEquals("llama", StudentPresets.toMap(lm).get("model_type"));
    }

    @Test
    void aStatedVocabularyMustMatchTheTeachersAndUnknownKeysAreNamedAtTheirLine() {
        ConfigFile f = ConfigFile.parse(Path.of("s.yaml"), "model_type: gpt2\nvocab_size: 300\nn_embd: 16\nn_head: 2\n");
        LmPreset p = (LmPreset) StudentPresets.read(f, "");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.config(200, 16, -1, 0));
        assertEquals("vocab_size 300 does not match the teacher's vocabulary of 200 ids (leave vocab_size out to take the"
                + " teacher's)", e.getMessage());
        assertEquals(300, p.config(300, 16, -1, 0).vocabSize());
        ConfigFile g = ConfigFile.parse(Path.of("s.yaml"), "model_type: llama\nhidden_size: 32\nnum_heads: 4\n");
        BadInputException b = assertThrows(BadInputException.class, () -> StudentPresets.read(g, ""));
        assertTrue(b.getMessage().startsWith("s.yaml:3:1: field num_heads: unknown key for model_type llama"), b.getMessage());
        ConfigFile h = ConfigFile.parse(Path.of("s.yaml"), "model_type: gpt2\nn_embd: 30\nn_head: 4\n");
        b = assertThrows(BadInputException.class, () -> StudentPresets.read(h, ""));
        assertTrue(b.getMessage().contains("n_embd: 30 is not a multiple of n_head 4"), b.getMessage());
    }
}

package io.distill4j.models.lm;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} loaded through {@code ai.djl.huggingface:tokenizers} (the Rust
 * tokenizers library; its native part ships in the jar and is extracted under {@code DJL_CACHE_DIR}, no
 * download), plus the vocabulary size, which that API does not expose and which is read from the JSON here
 * (the largest id of the model vocabulary and of the added tokens, plus one).
 *
 * <p>Encoding never truncates or pads; special tokens are added as the file's post-processor says unless
 * asked not to.
 */
public final class LmTokenizer implements AutoCloseable {
    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final HuggingFaceTokenizer plain;
    private final int vocabSize;

    private LmTokenizer(Path file, HuggingFaceTokenizer tokenizer, HuggingFaceTokenizer plain, int vocabSize) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.plain = plain;
        this.vocabSize = vocabSize;
    }

    /**
     * Loads a {@code tokenizer.json}.
     *
     * @param file the file
     * @return the tokenizer (close it when done)
     * @throws BadInputException if the file is missing or not a tokenizer
     */
    public static LmTokenizer load(Path file) {
        int vocab = vocabularySize(file);
        try {
            HuggingFaceTokenizer withSpecial = HuggingFaceTokenizer.newInstance(file, options(true));
            HuggingFaceTokenizer without = HuggingFaceTokenizer.newInstance(file, options(false));
            return new LmTokenizer(file, withSpecial, without, vocab);
        } catch (IOException | RuntimeException e) {
            throw new BadInputException(file + ": cannot load tokenizer: " + e.getMessage(), e);
        }
    }

    private static Map<String, String> options(boolean special) {
        return Map.of("addSpecialTokens", Boolean.toString(special), "truncation", "false", "padding", "false");
    }

    /**
     * Reads the vocabulary size of a {@code tokenizer.json}: one more than the largest id among
     * {@code model.vocab} (BPE, WordPiece, WordLevel: a map; Unigram: a list) and {@code added_tokens}.
     *
     * @param file the file
     * @return the vocabulary size
     * @throws BadInputException if the file is missing or has no vocabulary
     */
    public static int vocabularySize(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new BadInputException(file + ": no such file", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode vocab = root == null ? null : root.path("model").path("vocab");
        if (vocab == null || vocab.isMissingNode() || !(vocab.isObject() || vocab.isArray())) {
            throw new BadInputException(file + ": field model.vocab is missing: not a Hugging Face tokenizer.json");
        }
        JsonNode unk = root.path("model").path("unk_token");
        if ("WordLevel".equals(root.path("model").path("type").asText()) && unk.isTextual() && vocab.isObject()
                && !vocab.has(unk.asText())) {
            // the tokenizers library fails on the first unknown word, not at load: say so before any work
            throw new BadInputException(file + ": field model.unk_token: '" + unk.asText() + "' is not in model.vocab"
                    + " (a WordLevel tokenizer maps unknown words to it)");
        }
        long max = -1;
        if (vocab.isArray()) {
            max = vocab.size() - 1L;
        } else {
            for (Iterator<JsonNode> it = vocab.elements(); it.hasNext();) {
                max = Math.max(max, it.next().asLong());
            }
        }
        for (JsonNode t : root.path("added_tokens")) {
            max = Math.max(max, t.path("id").asLong(-1));
        }
        if (max < 0 || max >= Integer.MAX_VALUE) {
            throw new BadInputException(file + ": field model.vocab holds no usable ids");
        }
        return (int) (max + 1);
    }

    /** Contents of end-of-sequence tokens in common tokenizers (Llama, GPT-2, Gemma, Llama 3, ChatML). */
    public static final java.util.List<String> EOS_TOKENS = java.util.List.of("</s>", "<|endoftext|>", "<eos>",
            "<|end_of_text|>", "<|eot_id|>", "<|im_end|>");
    /** Contents of begin-of-sequence tokens in common tokenizers. */
    public static final java.util.List<String> BOS_TOKENS = java.util.List.of("<s>", "<|begin_of_text|>", "<bos>");

    /**
     * The id of a special token of this tokenizer's {@code added_tokens}, by content.
     *
     * @param contents the contents to look for, in order of preference
     * @return the id of the first one present, or -1
     */
    public int specialId(java.util.List<String> contents) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new BadInputException(file + ": not readable: " + e.getMessage(), e);
        }
        for (String c : contents) {
            for (JsonNode t : root.path("added_tokens")) {
                if (c.equals(t.path("content").asText()) && t.path("id").canConvertToInt()) {
                    return t.path("id").asInt();
                }
            }
        }
        return -1;
    }

    /** @return the file this tokenizer was read from */
    public Path file() {
        return file;
    }

    /** @return the vocabulary size (largest id + 1) */
    public int vocabSize() {
        return vocabSize;
    }

    /**
     * Checks that every id this tokenizer can produce is a row of a model's embedding.
     *
     * @param modelVocabSize the model's {@code vocab_size}
     * @param modelSource the model's config file or preset, for the message
     * @throws BadInputException if the tokenizer's vocabulary is larger than the model's
     */
    public void checkFits(int modelVocabSize, String modelSource) {
        if (vocabSize > modelVocabSize) {
            throw new BadInputException(file + ": tokenizer vocabulary of " + vocabSize + " ids does not match "
                    + modelSource + ": vocab_size " + modelVocabSize + " (ids up to " + (vocabSize - 1)
                    + " would index past the embedding)");
        }
    }

    /**
     * Encodes text, adding the post-processor's special tokens (e.g. a BOS).
     *
     * @param text the text
     * @return the token ids
     */
    public int[] encode(String text) {
        return toInts(tokenizer.encode(text));
    }

    /**
     * Encodes text without special tokens (for an answer that continues a prompt).
     *
     * @param text the text
     * @return the token ids
     */
    public int[] encodePlain(String text) {
        return toInts(plain.encode(text));
    }

    private static int[] toInts(Encoding e) {
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * Decodes ids to text, skipping special tokens.
     *
     * @param ids the ids
     * @return the text
     */
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, true);
    }

    @Override
    public void close() {
        tokenizer.close();
        plain.close();
    }
}

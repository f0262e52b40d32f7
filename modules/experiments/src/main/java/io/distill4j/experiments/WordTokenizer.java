package io.distill4j.experiments;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a Hugging Face {@code tokenizer.json} with a word-level model: a lower-casing normaliser, the
 * {@code Whitespace} pre-tokeniser (runs of word characters, runs of other non-space characters), a fixed
 * vocabulary, {@code <unk>} for any other word, and {@code <eos>} as the end-of-answer token ({@link #write}), or the
 * words alone ({@link #writeWords}: ids 0..n-1, for a vocabulary of symbols that has no end token). No
 * special tokens are added on encoding; decoding joins words with single spaces.
 */
public final class WordTokenizer {
    /** The unknown-word token, id 0. */
    public static final String UNK = "<unk>";
    /** The end-of-sequence token, id 1. */
    public static final String EOS = "<eos>";
    /** The Whitespace pre-tokeniser's pattern ({@code \w+|[^\w\s]+}). */
    static final Pattern PIECES = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    private WordTokenizer() {
    }

    /**
     * Splits text as the tokenizer will (lower-cased pieces).
     *
     * @param text the text
     * @return its pieces
     */
    public static List<String> pieces(String text) {
        Matcher m = PIECES.matcher(text.toLowerCase(Locale.ROOT));
        List<String> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /**
     * Counts the pieces of texts and returns the most frequent, most frequent first (ties by first
     * appearance).
     *
     * @param texts the texts
     * @param limit the most pieces returned
     * @return the pieces
     */
    public static List<String> frequent(Collection<String> texts, int limit) {
        Map<String, Integer> count = new LinkedHashMap<>();
        for (String t : texts) {
            for (String p : pieces(t)) {
                count.merge(p, 1, Integer::sum);
            }
        }
        return count.entrySet().stream().sorted((a, b) -> Integer.compare(b.getValue(), a.getValue()))
                .limit(limit).map(Map.Entry::getKey).toList();
    }

    /**
     * Writes the tokenizer: ids 0 and 1 are {@code <unk>} and {@code <eos>}, then the words in order
     * (duplicates skipped), through a temporary file and an atomic rename.
     *
     * @param file the {@code tokenizer.json} to write
     * @param words the vocabulary (lower-case pieces)
     * @return the vocabulary size
     * @throws IOException if the file cannot be written
     */
    public static int write(Path file, Collection<String> words) throws IOException {
        return write(file, List.of(UNK, EOS), words, UNK);
    }

    /**
     * Writes a tokenizer of the words alone: word i is id i, no special tokens, so that encoding a text of these
     * words gives their ids and nothing else. The model has no unknown-word token of its own: a word outside the
     * vocabulary is read as the first word (the tokenizers library needs some unknown-word id, and text that is not
     * made of the vocabulary's words, such as a tokenizer probe, must still encode).
     *
     * @param file the {@code tokenizer.json} to write
     * @param words the vocabulary (lower-case pieces, distinct)
     * @return the vocabulary size
     * @throws IOException if the file cannot be written
     * @throws IllegalArgumentException if a word is not one lower-case piece or appears twice
     */
    public static int writeWords(Path file, List<String> words) throws IOException {
        if (new LinkedHashSet<>(words).size() != words.size()) {
            throw new IllegalArgumentException("the vocabulary repeats a word: ids would not be the words' positions");
        }
        if (words.isEmpty()) {
            throw new IllegalArgumentException("the vocabulary is empty");
        }
        return write(file, List.of(), words, words.get(0));
    }

    private static int write(Path file, List<String> specials, Collection<String> words, String unk)
            throws IOException {
        Set<String> vocab = new LinkedHashSet<>(specials);
        for (String w : words) {
            if (!w.equals(w.toLowerCase(Locale.ROOT)) || pieces(w).size() != 1 || !pieces(w).get(0).equals(w)) {
                throw new IllegalArgumentException("vocabulary word '" + w + "' is not one lower-case piece");
            }
            vocab.add(w);
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        int id = 0;
        for (String special : specials) {
            ObjectNode t = added.addObject();
            t.put("id", id++);
            t.put("content", special);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putObject("normalizer").put("type", "Lowercase");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode v = model.putObject("vocab");
        int i = 0;
        for (String w : vocab) {
            v.put(w, i++);
        }
        model.put("unk_token", unk);
        Files.createDirectories(file.toAbsolutePath().getParent());
        io.distill4j.data.AtomicFiles.write(file, json.writeValueAsBytes(root));
        return vocab.size();
    }
}

package io.distill4j.data.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Errors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A token vocabulary: id to token string and back, for formats that name tokens by their text.
 */
public final class Vocabulary {
    private final String[] tokens;
    private final Map<String, Integer> ids;
    private final String source;

    private Vocabulary(String[] tokens, String source) {
        this.tokens = tokens;
        this.source = source;
        this.ids = new HashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == null) {
                throw new BadInputException(source + ": vocabulary has no token for id " + i);
            }
            Integer prev = ids.put(tokens[i], i);
            if (prev != null) {
                throw new BadInputException(source + ": token '" + tokens[i] + "' has two ids, " + prev + " and " + i);
            }
        }
    }

    /**
     * Builds a vocabulary from tokens listed in id order.
     *
     * @param tokens token i has id i
     * @return the vocabulary
     */
    public static Vocabulary of(List<String> tokens) {
        return new Vocabulary(tokens.toArray(new String[0]), "vocabulary");
    }

    /**
     * Reads a vocabulary from JSON: a Hugging Face {@code tokenizer.json} (its {@code model.vocab}), an object
     * {@code {"token": id, ...}}, or an array of tokens in id order.
     *
     * @param file the JSON file
     * @return the vocabulary
     * @throws BadInputException if the file is missing or not one of these shapes
     */
    public static Vocabulary read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read vocabulary: " + Errors.reason(e), e);
        }
        if (root != null && root.has("model") && root.get("model").has("vocab")) {
            root = root.get("model").get("vocab");
        }
        if (root != null && root.isArray()) {
            String[] t = new String[root.size()];
            for (int i = 0; i < t.length; i++) {
                t[i] = root.get(i).asText();
            }
            return new Vocabulary(t, file.toString());
        }
        if (root != null && root.isObject()) {
            String[] t = new String[root.size()];
            for (var it = root.fields(); it.hasNext();) {
                var e = it.next();
                int id = e.getValue().asInt(-1);
                if (id < 0 || id >= t.length || !e.getValue().canConvertToInt()) {
                    throw new BadInputException(file + ": field " + e.getKey() + ": id " + e.getValue()
                            + " outside [0, " + t.length + ")");
                }
                t[id] = e.getKey();
            }
            return new Vocabulary(t, file.toString());
        }
        throw new BadInputException(file + ": expected a tokenizer.json, an object of token ids or an array of tokens");
    }

    /** @return the number of tokens V */
    public int size() {
        return tokens.length;
    }

    /**
     * @param id a token id
     * @return its text
     */
    public String token(int id) {
        return tokens[id];
    }

    /**
     * @param token a token's text
     * @return its id, or -1 when the vocabulary lacks it
     */
    public int id(String token) {
        Integer i = ids.get(token);
        return i == null ? -1 : i;
    }
}

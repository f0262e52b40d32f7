package io.distill4j.teacher.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Parses OpenAI-compatible completion responses into {@link Completion}s.
 *
 * <p>Two log-probability layouts are understood: the legacy completions layout ({@code logprobs.tokens},
 * {@code token_logprobs}, {@code top_logprobs} as token-to-logprob maps; vLLM) and the chat layout
 * ({@code logprobs.content[]} entries with {@code token}, {@code logprob}, {@code top_logprobs[]}; OpenAI
 * chat, vLLM chat, llama.cpp for both endpoints). Token ids are taken from an {@code id} field (llama.cpp)
 * or from tokens spelt {@code token_id:N} (vLLM's {@code return_tokens_as_token_ids}); otherwise they are
 * -1.
 *
 * <p>A well-formed response is read with Jackson's streaming {@link JsonParser} straight into the ids and
 * log-probabilities, skipping what is not needed (llama.cpp's per-token {@code bytes} arrays, {@code usage}, ...):
 * that costs half of a tree parse. Any body the streaming pass does not accept as it expects it (malformed JSON,
 * a missing or mistyped field, the legacy layout, a number where an id should be an integer) is parsed again as
 * a tree ({@link #parseTree}), which holds every rule and every message; the two agree on every body the
 * streaming pass accepts.
 */
final class ResponseParser {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY = JSON.getFactory();

    private final int topLogprobs;

    /**
     * Creates a parser.
     *
     * @param topLogprobs K, the alternatives requested per position (0: log-probabilities are not required)
     */
    ResponseParser(int topLogprobs) {
        this.topLogprobs = topLogprobs;
    }

    /**
     * Parses a response body.
     *
     * @param body the body text
     * @param where the address and item, for messages
     * @param seed the seed the request carried
     * @return the choices, ordered by their {@code index}
     * @throws TeacherServerException retryable for malformed or partial JSON; not retryable when
     *     log-probabilities were requested and are missing
     */
    List<Completion> parse(String body, String where, long seed) {
        List<Completion> fast = parseStreaming(body, seed);
        return fast != null ? fast : parseTree(body, where, seed);
    }

    /**
     * Parses a response body as a tree: every rule of {@link #parse}, for every body.
     *
     * @param body the body text
     * @param where the address and item, for messages
     * @param seed the seed the request carried
     * @return the choices, ordered by their {@code index}
     * @throws TeacherServerException as {@link #parse}
     */
    List<Completion> parseTree(String body, String where, long seed) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw malformed(where, "malformed JSON (" + e.getOriginalMessage() + ")", body);
        }
        if (root == null || !root.isObject()) {
            throw malformed(where, "the response is not a JSON object", body);
        }
        JsonNode choices = root.get("choices");
        if (choices == null || !choices.isArray() || choices.isEmpty()) {
            throw malformed(where, "field choices: missing or empty", body);
        }
        List<JsonNode> sorted = new ArrayList<>();
        choices.forEach(sorted::add);
        sorted.sort(Comparator.comparingInt(c -> c.path("index").asInt(0)));
        List<Completion> out = new ArrayList<>();
        for (int i = 0; i < sorted.size(); i++) {
            out.add(choice(sorted.get(i), where + ", choice " + i, body, seed));
        }
        return out;
    }

    private Completion choice(JsonNode c, String where, String body, long seed) {
        String text;
        if (c.hasNonNull("text")) {
            text = c.get("text").asText();
        } else if (c.path("message").hasNonNull("content")) {
            text = c.get("message").get("content").asText();
        } else {
            throw malformed(where, "field text (or message.content): missing", body);
        }
        String finish = c.path("finish_reason").isTextual() ? c.get("finish_reason").asText() : "";
        List<TokenStep> steps = new ArrayList<>();
        if (topLogprobs > 0) {
            JsonNode lp = c.get("logprobs");
            if (lp == null || lp.isNull() || !lp.isObject()) {
                throw new TeacherServerException(where + ": field logprobs: missing although top_logprobs=" + topLogprobs
                        + " was requested; the server must return log-probabilities (vLLM: raise --max-logprobs; "
                        + "llama.cpp: a recent llama-server)", false, null);
            }
            if (lp.has("content")) {
                JsonNode content = lp.get("content");
                if (!content.isArray()) {
                    throw malformed(where, "field logprobs.content: not an array", body);
                }
                for (int t = 0; t < content.size(); t++) {
                    steps.add(contentStep(content.get(t), where + ", position " + t, body));
                }
            } else if (lp.has("tokens")) {
                steps.addAll(legacySteps(lp, where, body));
            } else {
                throw new TeacherServerException(where + ": field logprobs: holds neither content[] nor tokens[]", false, null);
            }
        }
        return new Completion(text, steps, finish, seed);
    }

    private TokenStep contentStep(JsonNode e, String where, String body) {
        String token = text(e, "token", where, body);
        float logprob = logprob(e.get("logprob"), where + ", field logprob", body);
        int id = id(e, token);
        JsonNode top = e.get("top_logprobs");
        if (top == null || !top.isArray() || top.isEmpty()) {
            throw malformed(where, "field top_logprobs: missing or empty although top_logprobs=" + topLogprobs
                    + " was requested", body);
        }
        List<Alt> alts = new ArrayList<>();
        for (int j = 0; j < top.size(); j++) {
            JsonNode a = top.get(j);
            String tok = text(a, "token", where + ", top_logprobs[" + j + "]", body);
            alts.add(new Alt(id(a, tok), tok, logprob(a.get("logprob"), where + ", top_logprobs[" + j + "].logprob", body)));
        }
        return step(id, token, logprob, alts);
    }

    private List<TokenStep> legacySteps(JsonNode lp, String where, String body) {
        JsonNode tokens = lp.get("tokens");
        JsonNode logprobs = lp.get("token_logprobs");
        JsonNode tops = lp.get("top_logprobs");
        if (!tokens.isArray() || logprobs == null || !logprobs.isArray() || tops == null || !tops.isArray()) {
            throw malformed(where, "fields logprobs.tokens, token_logprobs and top_logprobs must all be arrays", body);
        }
        if (logprobs.size() != tokens.size() || tops.size() != tokens.size()) {
            throw malformed(where, "partial logprobs: " + tokens.size() + " tokens, " + logprobs.size() + " token_logprobs, "
                    + tops.size() + " top_logprobs", body);
        }
        List<TokenStep> steps = new ArrayList<>();
        for (int t = 0; t < tokens.size(); t++) {
            String w = where + ", position " + t;
            String token = tokens.get(t).asText();
            float logprob = logprob(logprobs.get(t), w + ", field token_logprobs", body);
            JsonNode top = tops.get(t);
            if (top == null || !top.isObject() || top.isEmpty()) {
                throw malformed(w, "field top_logprobs: missing or empty although top_logprobs=" + topLogprobs
                        + " was requested", body);
            }
            List<Alt> alts = new ArrayList<>();
            var fields = top.fields();
            while (fields.hasNext()) {
                var f = fields.next();
                alts.add(new Alt(idFromText(f.getKey()), f.getKey(), logprob(f.getValue(), w + ", top_logprobs", body)));
            }
            steps.add(step(idFromText(token), token, logprob, alts));
        }
        return steps;
    }

    /**
     * Reads vLLM's prompt log-probabilities ({@code choices[0].prompt_logprobs}: per prompt position null or a
     * map from token id to {@code {logprob, rank, decoded_token}}, or to a bare number) at the positions
     * {@code from .. from + count - 1} of the prompt sent.
     *
     * @param body the body text
     * @param where the address and row, for messages
     * @param ids the token ids sent as the prompt
     * @param from the first position to read (the prompt's length: the continuation's first token)
     * @param count how many positions to read
     * @param k K, the alternatives each position must hold
     * @return one step per position: the token sent there, its log-probability (NaN if absent), the top K
     * @throws TeacherServerException retryable for malformed JSON or missing positions; not retryable when a
     *     position holds fewer than K alternatives
     */
    List<TokenStep> promptLogprobs(String body, String where, int[] ids, int from, int count, int k) {
        JsonNode root = tree(body, where);
        JsonNode lp = root.path("choices").path(0).get("prompt_logprobs");
        if (lp == null || !lp.isArray()) {
            throw malformed(where, "field choices[0].prompt_logprobs: missing or not an array", body);
        }
        if (lp.size() < from + count) {
            throw malformed(where, "field choices[0].prompt_logprobs: " + lp.size() + " positions, the prompt sent has "
                    + ids.length, body);
        }
        List<TokenStep> out = new ArrayList<>(count);
        for (int i = from; i < from + count; i++) {
            JsonNode m = lp.get(i);
            String w = where + ", prompt position " + i;
            if (m == null || !m.isObject()) {
                throw malformed(w, "field prompt_logprobs[" + i + "]: not an object", body);
            }
            List<Alt> alts = new ArrayList<>();
            float own = Float.NaN;
            String ownText = "";
            var fields = m.fields();
            while (fields.hasNext()) {
                var f = fields.next();
                int id;
                try {
                    id = Integer.parseInt(f.getKey());
                } catch (NumberFormatException e) {
                    throw malformed(w, "key '" + f.getKey() + "' is not a token id", body);
                }
                JsonNode v = f.getValue();
                float l = logprob(v.isObject() ? v.get("logprob") : v, w + ", token " + id, body);
                String text = v.path("decoded_token").isTextual() ? v.get("decoded_token").asText() : "";
                if (id == ids[i]) {
                    own = l;
                    ownText = text;
                }
                // the token sent is listed even outside the top K: its rank says so
                int rank = v.path("rank").canConvertToInt() ? v.get("rank").asInt() : 1;
                if (rank <= k) {
                    alts.add(new Alt(id, text, l));
                }
            }
            out.add(scored(ids[i], ownText, own, alts, k, w));
        }
        return out;
    }

    /**
     * Reads llama.cpp's next-token probabilities ({@code completion_probabilities[0].top_logprobs[]} with
     * {@code id}, {@code token}, {@code logprob}) of a one-token completion: the distribution of the token that
     * follows the prompt sent.
     *
     * @param body the body text
     * @param where the address, row and position, for messages
     * @param next the continuation's token at this position
     * @param k K, the alternatives the answer must hold
     * @return the step: {@code next}, its log-probability if among the top K (else NaN), the top K
     * @throws TeacherServerException retryable for malformed JSON; not retryable for fewer than K alternatives or
     *     an old llama-server's {@code probs} layout without token ids
     */
    TokenStep nextTokenLogprobs(String body, String where, int next, int k) {
        JsonNode root = tree(body, where);
        JsonNode first = root.path("completion_probabilities").path(0);
        JsonNode top = first.get("top_logprobs");
        if (top == null || !top.isArray()) {
            if (first.has("probs")) {
                throw new TeacherServerException(where + ": completion_probabilities hold probs without token ids"
                        + " (an old llama-server); a recent one answers top_logprobs with ids", false, null);
            }
            throw malformed(where, "field completion_probabilities[0].top_logprobs: missing or not an array", body);
        }
        List<Alt> alts = new ArrayList<>();
        float own = Float.NaN;
        String ownText = "";
        for (int j = 0; j < top.size(); j++) {
            JsonNode a = top.get(j);
            JsonNode id = a.get("id");
            if (id == null || !id.canConvertToInt()) {
                throw malformed(where, "field top_logprobs[" + j + "].id: missing or not a token id", body);
            }
            float l = logprob(a.get("logprob"), where + ", top_logprobs[" + j + "].logprob", body);
            String text = a.path("token").asText("");
            if (id.asInt() == next) {
                own = l;
                ownText = text;
            }
            alts.add(new Alt(id.asInt(), text, l));
        }
        return scored(next, ownText, own, alts, k, where);
    }

    private static JsonNode tree(String body, String where) {
        try {
            JsonNode root = JSON.readTree(body);
            if (root == null || !root.isObject()) {
                throw malformed(where, "the response is not a JSON object", body);
            }
            return root;
        } catch (JsonProcessingException e) {
            throw malformed(where, "malformed JSON (" + e.getOriginalMessage() + ")", body);
        }
    }

    /** The top K of the alternatives, most probable first; fewer than K is a fault of the server's settings. */
    private static TokenStep scored(int id, String token, float logprob, List<Alt> alts, int k, String where) {
        if (alts.size() < k) {
            throw new TeacherServerException(where + ": " + alts.size() + " alternatives, asked for " + k
                    + " (vLLM: raise --max-logprobs; a vocabulary smaller than K?)", false, null);
        }
        alts.sort(Comparator.comparingDouble((Alt a) -> a.logprob).reversed());
        int[] ids = new int[k];
        String[] toks = new String[k];
        float[] lps = new float[k];
        for (int j = 0; j < k; j++) {
            ids[j] = alts.get(j).id;
            toks[j] = alts.get(j).token;
            lps[j] = alts.get(j).logprob;
        }
        return new TokenStep(id, token, logprob, ids, toks, lps);
    }

    // ----- the streaming pass -----

    /** Thrown (without a stack trace) where the streaming pass leaves a body to the tree parse. */
    private static final class NotStreamable extends Exception {
        private static final long serialVersionUID = 1L;
        static final NotStreamable INSTANCE = new NotStreamable();

        private NotStreamable() {
            super(null, null, false, false);
        }
    }

    /** A choice as read: its index and completion. */
    private record Indexed(int index, Completion completion) {
    }

    /**
     * The streaming pass.
     *
     * @return the choices, or null where the body must be parsed as a tree
     */
    List<Completion> parseStreaming(String body, long seed) {
        try (JsonParser p = FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            List<Indexed> choices = null;
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("choices")) {
                    if (v != JsonToken.START_ARRAY) {
                        return null;
                    }
                    choices = new ArrayList<>();
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        choices.add(choice(p, seed));
                    }
                } else {
                    p.skipChildren();
                }
            }
            // the tree parse reads the first value only: what follows it does not matter
            if (choices == null || choices.isEmpty()) {
                return null;
            }
            choices.sort(Comparator.comparingInt(Indexed::index));
            List<Completion> out = new ArrayList<>(choices.size());
            choices.forEach(c -> out.add(c.completion()));
            return out;
        } catch (NotStreamable | IOException | RuntimeException e) {
            return null;
        }
    }

    private Indexed choice(JsonParser p, long seed) throws IOException, NotStreamable {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw NotStreamable.INSTANCE;
        }
        int index = 0;
        String text = null;
        String content = null;
        String finish = "";
        List<TokenStep> steps = null;
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            switch (name) {
                case "index" -> index = v == JsonToken.VALUE_NUMBER_INT ? intValue(p) : missingOrThrow(v, 0);
                case "text" -> text = v == JsonToken.VALUE_STRING ? p.getText() : missingOrThrow(v, null);
                case "message" -> content = message(p, v);
                case "finish_reason" -> {
                    finish = v == JsonToken.VALUE_STRING ? p.getText() : "";
                    p.skipChildren();
                }
                case "logprobs" -> {
                    if (topLogprobs > 0) {
                        steps = logprobs(p, v);
                    } else {
                        p.skipChildren();
                    }
                }
                default -> p.skipChildren();
            }
        }
        String chosen = text != null ? text : content;
        if (chosen == null || (topLogprobs > 0 && steps == null)) {
            throw NotStreamable.INSTANCE;
        }
        return new Indexed(index, new Completion(chosen, steps == null ? List.of() : steps, finish, seed));
    }

    /** A JSON null stands for an absent field; any other type is the tree parse's to judge. */
    private static <T> T missingOrThrow(JsonToken v, T missing) throws NotStreamable {
        if (v != JsonToken.VALUE_NULL) {
            throw NotStreamable.INSTANCE;
        }
        return missing;
    }

    private static int intValue(JsonParser p) throws IOException, NotStreamable {
        if (p.getNumberType() != JsonParser.NumberType.INT) {
            throw NotStreamable.INSTANCE;
        }
        return p.getIntValue();
    }

    private static String message(JsonParser p, JsonToken v) throws IOException, NotStreamable {
        if (v != JsonToken.START_OBJECT) {
            return missingOrThrow(v, null);
        }
        String content = null;
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken x = p.nextToken();
            if (name.equals("content")) {
                content = x == JsonToken.VALUE_STRING ? p.getText() : missingOrThrow(x, null);
            } else {
                p.skipChildren();
            }
        }
        return content;
    }

    /** The chat layout, {@code logprobs.content[]}; anything else is left to the tree parse. */
    private List<TokenStep> logprobs(JsonParser p, JsonToken v) throws IOException, NotStreamable {
        if (v != JsonToken.START_OBJECT) {
            throw NotStreamable.INSTANCE;
        }
        List<TokenStep> steps = null;
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken x = p.nextToken();
            if (name.equals("content")) {
                if (x != JsonToken.START_ARRAY) {
                    throw NotStreamable.INSTANCE;
                }
                steps = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    steps.add(streamedStep(p));
                }
            } else if (name.equals("tokens")) {
                throw NotStreamable.INSTANCE;
            } else {
                p.skipChildren();
            }
        }
        if (steps == null) {
            throw NotStreamable.INSTANCE;
        }
        return steps;
    }

    /** One entry of {@code logprobs.content[]} with its top-K alternatives. */
    private TokenStep streamedStep(JsonParser p) throws IOException, NotStreamable {
        Alt own = alt(p, true);
        return step(own.id, own.token, own.logprob, own.alts);
    }

    private record Alt(int id, String token, float logprob, List<Alt> alts) {
        Alt(int id, String token, float logprob) {
            this(id, token, logprob, null);
        }
    }

    /**
     * An entry of {@code logprobs.content[]} ({@code withTop}: with its {@code top_logprobs[]}) or one of its
     * alternatives: token, log-probability (as the tree parse clamps it) and id.
     */
    private Alt alt(JsonParser p, boolean withTop) throws IOException, NotStreamable {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw NotStreamable.INSTANCE;
        }
        String token = null;
        double logprob = Double.NaN;
        boolean hasId = false;
        int id = -1;
        List<Alt> alts = null;
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken x = p.nextToken();
            switch (name) {
                case "token" -> {
                    if (x != JsonToken.VALUE_STRING) {
                        throw NotStreamable.INSTANCE;
                    }
                    token = p.getText();
                }
                case "logprob" -> {
                    if (x != JsonToken.VALUE_NUMBER_INT && x != JsonToken.VALUE_NUMBER_FLOAT) {
                        throw NotStreamable.INSTANCE;
                    }
                    logprob = p.getDoubleValue();
                }
                case "id" -> {
                    if (x == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
                        hasId = true;
                        id = p.getIntValue();
                    } else if (x == JsonToken.VALUE_NUMBER_INT || x == JsonToken.VALUE_NUMBER_FLOAT) {
                        throw NotStreamable.INSTANCE; // the tree parse's integer conversions decide
                    } else {
                        hasId = false; // not a number: the id comes from the token's text
                        p.skipChildren();
                    }
                }
                case "top_logprobs" -> {
                    if (!withTop) {
                        p.skipChildren();
                        break;
                    }
                    if (x != JsonToken.START_ARRAY) {
                        throw NotStreamable.INSTANCE;
                    }
                    alts = new ArrayList<>();
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        alts.add(alt(p, false));
                    }
                }
                default -> p.skipChildren();
            }
        }
        if (token == null || Double.isNaN(logprob) || logprob > 1e-3 || (withTop && (alts == null || alts.isEmpty()))) {
            throw NotStreamable.INSTANCE;
        }
        return new Alt(hasId ? id : idFromText(token), token, (float) Math.min(logprob, 0), alts);
    }


    private TokenStep step(int id, String token, float logprob, List<Alt> alts) {
        alts.sort(Comparator.comparingDouble((Alt a) -> a.logprob).reversed());
        int n = Math.min(alts.size(), topLogprobs);
        int[] ids = new int[n];
        String[] toks = new String[n];
        float[] lps = new float[n];
        for (int j = 0; j < n; j++) {
            ids[j] = alts.get(j).id;
            toks[j] = alts.get(j).token;
            lps[j] = alts.get(j).logprob;
        }
        return new TokenStep(id, token, logprob, ids, toks, lps);
    }

    private static String text(JsonNode n, String field, String where, String body) {
        JsonNode v = n == null ? null : n.get(field);
        if (v == null || !v.isTextual()) {
            throw malformed(where, "field " + field + ": missing or not a string", body);
        }
        return v.asText();
    }

    private static float logprob(JsonNode v, String where, String body) {
        if (v == null || !v.isNumber()) {
            throw malformed(where, "missing or not a number: " + v, body);
        }
        double d = v.asDouble();
        if (Double.isNaN(d) || d > 1e-3) {
            throw malformed(where, "log-probability " + d + " is not <= 0", body);
        }
        return (float) Math.min(d, 0);
    }

    private static int id(JsonNode n, String token) {
        JsonNode v = n.get("id");
        if (v != null && v.canConvertToInt()) {
            return v.asInt();
        }
        return idFromText(token);
    }

    private static int idFromText(String token) {
        if (token.startsWith("token_id:")) {
            try {
                return Integer.parseInt(token.substring("token_id:".length()));
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    static TeacherServerException malformed(String where, String what, String body) {
        return new TeacherServerException(where + ": " + what + "; body: " + io.distill4j.data.Errors.snippet(body, 200),
                true, null);
    }
}

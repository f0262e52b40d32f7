package io.distill4j.teacher.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A scripted OpenAI-compatible server on 127.0.0.1 for the HTTP teacher's tests: each POST is answered
 * by a {@link Script} that sees the request number and body; the server records bodies, every request's
 * path and headers, and the most requests it had in flight at once. Over https when given a TLS context;
 * with {@link #requireKey} it answers 401 to every request without {@code Authorization: Bearer <key>},
 * as vLLM started with {@code --api-key} does, echoing the header it got (a careless server).
 */
public final class FakeOpenAiServer implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    /** One scripted answer. */
    public record Reply(int status, String body, Map<String, String> headers, long delayMillis) {
        public static Reply ok(String body) {
            return new Reply(200, body, Map.of(), 0);
        }

        public static Reply status(int status, String body) {
            return new Reply(status, body, Map.of(), 0);
        }

        Reply delayed(long millis) {
            return new Reply(status, body, headers, millis);
        }

        Reply withHeader(String name, String value) {
            return new Reply(status, body, Map.of(name, value), delayMillis);
        }
    }

    /** Decides the answer to the n-th POST (0-based) with the given body. */
    @FunctionalInterface
    public interface Script {
        Reply answer(int n, JsonNode body);
    }

    private final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(32);
    final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
    final List<JsonNode> tokenizeBodies = new CopyOnWriteArrayList<>();
    private final AtomicInteger posts = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    private volatile String models = "{\"object\":\"list\",\"data\":[{\"id\":\"fake-model\",\"meta\":{\"n_vocab\":1000}}]}";

    /** Bodies of POSTs to llama.cpp's native {@code /completion}. */
    final List<JsonNode> llamaBodies = new CopyOnWriteArrayList<>();
    private final AtomicInteger llamaPosts = new AtomicInteger();
    private volatile Script llamaScript;

    /** @param script answers {@code POST /completion} (llama.cpp's own endpoint), or null for 404 as vLLM does */
    public void setLlamaScript(Script script) {
        llamaScript = script;
    }

    /** One request as received: its path and headers (lower-case names, first values). */
    public record Seen(String path, Map<String, String> headers) {
    }

    /** Every request received, in arrival order, refused ones included. */
    public final List<Seen> seen = new CopyOnWriteArrayList<>();
    /** Requests answered 401 for want of the key. */
    public final AtomicInteger rejected = new AtomicInteger();
    private volatile String requiredKey;
    private final boolean https;

    public FakeOpenAiServer(Script script) throws IOException {
        this(script, null);
    }

    /**
     * Starts the server.
     *
     * @param script answers POSTs under /v1/
     * @param tls the server's TLS context (https), or null for http
     */
    public FakeOpenAiServer(Script script, SSLContext tls) throws IOException {
        InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        if (tls == null) {
            server = HttpServer.create(at, 64);
        } else {
            HttpsServer s = HttpsServer.create(at, 64);
            s.setHttpsConfigurator(new HttpsConfigurator(tls));
            server = s;
        }
        https = tls != null;
        server.setExecutor(pool);
        context("/v1/models", ex -> send(ex, Reply.ok(models)));
        context("/tokenize", ex -> {
            JsonNode body = JSON.readTree(ex.getRequestBody());
            tokenizeBodies.add(body);
            String text = body.path("content").asText();
            StringBuilder ids = new StringBuilder(body.path("add_special").asBoolean() ? "1" : "");
            for (char c : text.toCharArray()) { // one token per character, id = code point + 3
                ids.append(ids.length() == 0 ? "" : ",").append(c + 3);
            }
            send(ex, Reply.ok("{\"tokens\":[" + ids + "]}"));
        });
        context("/completion", ex -> {
            JsonNode body = JSON.readTree(ex.getRequestBody());
            llamaBodies.add(body);
            Script s = llamaScript;
            send(ex, s == null ? Reply.status(404, "{\"error\":{\"code\":404,\"message\":\"File Not Found\"}}")
                    : s.answer(llamaPosts.getAndIncrement(), body));
        });
        context("/v1/", ex -> {
            int now = inFlight.incrementAndGet();
            maxInFlight.accumulateAndGet(now, Math::max);
            try {
                JsonNode body = JSON.readTree(ex.getRequestBody());
                int n = posts.getAndIncrement();
                bodies.add(body);
                Reply r = script.answer(n, body);
                if (r.delayMillis() > 0) {
                    Thread.sleep(r.delayMillis());
                }
                send(ex, r);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                send(ex, Reply.status(599, "script failed: " + e));
            } finally {
                inFlight.decrementAndGet();
            }
        });
        server.start();
    }

    /** Records each request and, when a key is required, refuses those without it. */
    private void context(String path, HttpHandler handler) {
        server.createContext(path, ex -> {
            Map<String, String> h = new LinkedHashMap<>();
            ex.getRequestHeaders().forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v.get(0)));
            seen.add(new Seen(ex.getRequestURI().getPath(), h));
            String key = requiredKey;
            String got = h.get("authorization");
            if (key != null && !("Bearer " + key).equals(got)) {
                rejected.incrementAndGet();
                ex.getRequestBody().readAllBytes();
                send(ex, Reply.status(401, "{\"error\":{\"message\":\"Unauthorized: invalid credentials '" + got
                        + "'\",\"type\":\"invalid_request_error\"}}"));
                return;
            }
            handler.handle(ex);
        });
    }

    /** @param key the key every request must carry as {@code Authorization: Bearer <key>}, or null for none */
    public void requireKey(String key) {
        requiredKey = key;
    }

    private static void send(HttpExchange ex, Reply r) throws IOException {
        byte[] b = r.body().getBytes(StandardCharsets.UTF_8);
        r.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        ex.getResponseHeaders().add("Content-Type", "application/json");
        try {
            ex.sendResponseHeaders(r.status(), b.length == 0 ? -1 : b.length);
            if (b.length > 0) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(b);
                }
            }
        } catch (IOException e) {
            // the client gave up (timeout test)
        } finally {
            ex.close();
        }
    }

    public String baseUri() {
        return (https ? "https" : "http") + "://127.0.0.1:" + server.getAddress().getPort();
    }

    /** @return the bodies of the POSTs under /v1/ so far, in arrival order */
    public List<JsonNode> bodies() {
        return List.copyOf(bodies);
    }

    public int posts() {
        return posts.get();
    }

    /** @param json the body of {@code GET /v1/models} from now on */
    public void setModels(String json) {
        models = json;
    }

    /**
     * A Hugging Face tokenizer.json that encodes as this server's {@code /tokenize} does for ' ' and a-z: one token per
     * character, id = code point + 3, BOS {@code <s>} = 1 in front (a character BPE without merges).
     *
     * @return the file's text
     */
    public static String tokenizerJson() {
        StringBuilder vocab = new StringBuilder("\"<unk>\": 0, \"<s>\": 1, \"</s>\": 2, \" \": 35");
        for (char c = 'a'; c <= 'z'; c++) {
            vocab.append(", \"").append(c).append("\": ").append(c + 3);
        }
        String special = "\"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false,"
                + " \"special\": true";
        return "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [{\"id\": 0,"
                + " \"content\": \"<unk>\", " + special + "}, {\"id\": 1, \"content\": \"<s>\", " + special + "},"
                + " {\"id\": 2, \"content\": \"</s>\", " + special + "}], \"normalizer\": null, \"pre_tokenizer\": null,"
                + " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\":"
                + " \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\":"
                + " [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\","
                + " \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], \"special_tokens\": {\"<s>\":"
                + " {\"id\": \"<s>\", \"ids\": [1], \"tokens\": [\"<s>\"]}}}, \"decoder\": null, \"model\":"
                + " {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": \"<unk>\", \"continuing_subword_prefix\":"
                + " null, \"end_of_word_suffix\": null, \"fuse_unk\": false, \"byte_fallback\": false, \"vocab\": {"
                + vocab + "}, \"merges\": []}}";
    }

    /** The chat/llama.cpp layout: logprobs.content[] with ids. Token t of choice c is id seed % 900 + 10 c + t. */
    public static String contentReply(JsonNode request, int choices, int tokens) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode cs = root.putArray("choices");
        long seed = request.path("seed").asLong();
        boolean chat = request.has("messages");
        for (int c = 0; c < choices; c++) {
            ObjectNode ch = cs.addObject();
            ch.put("index", c);
            StringBuilder text = new StringBuilder();
            ArrayNode content = ch.putObject("logprobs").putArray("content");
            for (int t = 0; t < tokens; t++) {
                int id = (int) (seed % 900) + 10 * c + t;
                text.append("t").append(id);
                ObjectNode e = content.addObject();
                e.put("id", id).put("token", "t" + id).put("logprob", -0.2);
                ArrayNode top = e.putArray("top_logprobs");
                // deliberately out of order: the parser sorts
                top.addObject().put("id", id + 1).put("token", "t" + (id + 1)).put("logprob", -2.5);
                top.addObject().put("id", id).put("token", "t" + id).put("logprob", -0.2);
                top.addObject().put("id", id + 2).put("token", "t" + (id + 2)).put("logprob", -4.0);
            }
            if (chat) {
                ch.putObject("message").put("role", "assistant").put("content", text.toString());
            } else {
                ch.put("text", text.toString());
            }
            ch.put("finish_reason", "length");
        }
        return root.toString();
    }

    /** vLLM's legacy completions layout with token_id:N tokens. */
    public static String legacyReply(JsonNode request, int choices, int tokens) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode cs = root.putArray("choices");
        long seed = request.path("seed").asLong();
        for (int c = 0; c < choices; c++) {
            ObjectNode ch = cs.addObject();
            ch.put("index", c);
            ch.put("text", "legacy-" + seed + "-" + c);
            ch.put("finish_reason", "stop");
            ObjectNode lp = ch.putObject("logprobs");
            ArrayNode toks = lp.putArray("tokens");
            ArrayNode tlp = lp.putArray("token_logprobs");
            ArrayNode top = lp.putArray("top_logprobs");
            lp.putArray("text_offset");
            for (int t = 0; t < tokens; t++) {
                int id = 100 + 10 * c + t;
                toks.add("token_id:" + id);
                tlp.add(-0.5);
                ObjectNode m = top.addObject();
                m.put("token_id:" + (id + 1), -3.0);
                m.put("token_id:" + id, -0.5);
            }
        }
        return root.toString();
    }

    /**
     * The fake teacher's next-token log-probabilities after a prefix, over a vocabulary of {@code vocab} ids:
     * log-softmax of logits {@code 3 sin(0.37 h + 1.3 j)}, h a hash of the prefix, in double precision.
     *
     * @param prefix the tokens so far
     * @param vocab V
     * @return V log-probabilities
     */
    public static double[] nextLogprobs(int[] prefix, int vocab) {
        long h = 17;
        for (int id : prefix) {
            h = h * 31 + id;
        }
        double[] z = new double[vocab];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            z[j] = 3 * Math.sin(0.37 * (h % 1000) + 1.3 * j);
            max = Math.max(max, z[j]);
        }
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        for (int j = 0; j < vocab; j++) {
            z[j] -= lse;
        }
        return z;
    }

    /** Token ids by descending log-probability. */
    public static int[] ranked(double[] lp) {
        return java.util.stream.IntStream.range(0, lp.length).boxed()
                .sorted((a, b) -> Double.compare(lp[b], lp[a])).mapToInt(Integer::intValue).toArray();
    }

    private static int[] promptIds(JsonNode request) {
        JsonNode p = request.get("prompt");
        int[] ids = new int[p.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = p.get(i).asInt();
        }
        return ids;
    }

    /**
     * vLLM's answer to {@code /v1/completions} with {@code prompt_logprobs: K} and a prompt of token ids:
     * {@code choices[0].prompt_logprobs} is null at position 0 and, at position i, a map from token id to
     * {@code {logprob, rank, decoded_token}} holding the top K and the prompt's token at i (with its own rank).
     *
     * @param request the request body
     * @param vocab the fake teacher's vocabulary size
     * @return the body
     */
    public static String promptLogprobsReply(JsonNode request, int vocab) {
        int[] ids = promptIds(request);
        int k = request.get("prompt_logprobs").asInt();
        ObjectNode root = JSON.createObjectNode();
        ObjectNode ch = root.putArray("choices").addObject();
        ch.put("index", 0).put("text", "t1").put("finish_reason", "length").putNull("logprobs");
        ArrayNode lps = ch.putArray("prompt_logprobs");
        lps.addNull();
        for (int i = 1; i < ids.length; i++) {
            double[] lp = nextLogprobs(java.util.Arrays.copyOf(ids, i), vocab);
            int[] order = ranked(lp);
            ObjectNode m = lps.addObject();
            for (int r = 0; r < order.length; r++) {
                if (r < k || order[r] == ids[i]) {
                    m.putObject(Integer.toString(order[r])).put("logprob", lp[order[r]]).put("rank", r + 1)
                            .put("decoded_token", "t" + order[r]);
                }
            }
        }
        return root.toString();
    }

    /**
     * llama.cpp's answer to {@code /completion} with {@code n_probs: K}, {@code n_predict: 1} and a prompt of
     * token ids: {@code completion_probabilities[0]} with the greedy token and its {@code top_logprobs[]}
     * ({@code id}, {@code token}, {@code bytes}, {@code logprob}).
     *
     * @param request the request body
     * @param vocab the fake teacher's vocabulary size
     * @return the body
     */
    public static String nProbsReply(JsonNode request, int vocab) {
        double[] lp = nextLogprobs(promptIds(request), vocab);
        int[] order = ranked(lp);
        int k = request.get("n_probs").asInt();
        ObjectNode root = JSON.createObjectNode();
        root.put("content", "t" + order[0]).put("stop", true);
        ObjectNode e = root.putArray("completion_probabilities").addObject();
        e.put("id", order[0]).put("token", "t" + order[0]).put("logprob", lp[order[0]]);
        e.putArray("bytes").add(116);
        ArrayNode top = e.putArray("top_logprobs");
        for (int r = 0; r < Math.min(k, vocab); r++) {
            ObjectNode a = top.addObject();
            a.put("id", order[r]).put("token", "t" + order[r]).put("logprob", lp[order[r]]);
            a.putArray("bytes").add(116);
        }
        return root.toString();
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}

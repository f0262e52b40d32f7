package io.distill4j.teacher.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.teacher.SampleProgress;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A teacher behind an OpenAI-compatible HTTP server (vLLM, llama.cpp's llama-server, OpenAI): k sampled
 * responses per prompt with their per-position top-K log-probabilities.
 *
 * <p>Requests go out over HTTP/1.1 ({@link Http1Client}: kept-alive connections, {@code TCP_NODELAY}, each
 * request in one write) from a pool of {@code concurrency} threads, so at most that many completions are in
 * flight; prompts run ahead of the sink by {@link #lookahead()} so that a slow moment of the sink does not
 * empty the pool. A transient failure (HTTP 429, 408 or 5xx, a timeout, a
 * refused or reset connection, malformed or partial JSON) is retried up to {@code maxRetries} times with
 * exponential back-off and full jitter, honouring a {@code Retry-After} header; any other failure stops
 * the run with a {@link TeacherServerException} naming the address, the prompt and the fault.
 *
 * <p>With {@link HttpTeacherConfig.NMode#AUTO} the teacher first asks for {@code n = k} choices on a
 * one-token probe; a server that rejects {@code n > 1} or returns fewer choices gets k requests per
 * prompt, request j carrying its own seed. Results reach the sink in prompt order, so a cache that
 * appends them holds a prefix of the prompts at any moment and a restart asks only for the missing ones.
 *
 * <p>Credentials ({@link HttpTeacherConfig.Auth}) are read when the teacher is created, before any request:
 * the API key goes out as {@code Authorization: Bearer <key>} on every request, the extra headers with it,
 * and https connections trust the JDK's trust store plus the configured CA certificates. A 401 or 403 stops
 * the run at once, not retried, naming the server and where the key came from; no message, log line or
 * provenance entry holds a secret (text quoted from a server is redacted).
 *
 * <p>{@link #score} scores continuations the server did not generate (on-policy distillation): the top-K
 * log-probabilities at every position, through vLLM's {@code prompt_logprobs} or llama.cpp's {@code n_probs}
 * ({@link ScoringRoute}).
 */
public final class HttpTeacher {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LogManager.getLogger(HttpTeacher.class);

    private final HttpTeacherConfig config;
    private final Credentials credentials;
    private final Http1Client client;
    private final ResponseParser parser;
    private final URI endpoint;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private volatile Boolean multi;
    private volatile Map<String, Object> serverInfo;

    /**
     * Creates the teacher, reading credentials from the process environment; nothing is sent until
     * {@link #negotiate()} or {@link #sample}.
     *
     * @param config the validated settings
     * @throws io.distill4j.data.BadInputException if a credential cannot be read (see
     *     {@link #HttpTeacher(HttpTeacherConfig, Function)})
     */
    public HttpTeacher(HttpTeacherConfig config) {
        this(config, System::getenv);
    }

    /**
     * Creates the teacher, reading its credentials now through {@code env}; nothing is sent until
     * {@link #negotiate()} or {@link #sample}.
     *
     * @param config the validated settings
     * @param env looks up environment variables ({@code System::getenv}, or a map's {@code get} in tests)
     * @throws io.distill4j.data.BadInputException before any request, naming the config field and the variable
     *     or file (never a value) when a variable is unset or empty, a key file is missing or unreadable, or the
     *     CA file holds no certificate; the message starts with the field ({@code apiKeyEnv: ...})
     */
    public HttpTeacher(HttpTeacherConfig config, Function<String, String> env) {
        this.config = Objects.requireNonNull(config, "config");
        this.credentials = Credentials.resolve(config.auth(), config.baseUri(), Objects.requireNonNull(env, "env"));
        this.client = new Http1Client(config.baseUri(), credentials.sslContext(), config.connectTimeout());
        if (!config.auth().describe().isEmpty()) {
            LOG.debug("{}: sending {}{}", config.baseUri(), config.auth().keySource(),
                    config.auth().headers().isEmpty() ? "" : " and headers " + config.auth().headers().keySet()
                            + " from environment variables " + config.auth().headers().values());
        }
        this.parser = new ResponseParser(config.topLogprobs());
        this.endpoint = resolve(config.endpoint().path());
        if (config.nMode() != HttpTeacherConfig.NMode.AUTO) {
            multi = config.nMode() == HttpTeacherConfig.NMode.MULTI;
        }
    }

    private URI resolve(String path) {
        String base = config.baseUri().toString();
        return URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) + path : base + path);
    }

    /** @return the settings */
    public HttpTeacherConfig config() {
        return config;
    }

    /** @return requests sent so far (retries included) */
    public long requestsSent() {
        return requests.get();
    }

    /** @return retries after transient failures so far */
    public long retriesDone() {
        return retries.get();
    }

    /**
     * Settles how k responses are requested and reads the server's model list: {@code GET /v1/models}
     * (its {@code id}, and {@code meta.n_vocab} where llama.cpp reports it) and, in AUTO mode, a one-token
     * probe with {@code n = k}. Called by {@link #sample} when needed; idempotent.
     *
     * @return whether one request per prompt asks for all k responses
     * @throws TeacherServerException if the server cannot be reached or rejects single requests too
     */
    public synchronized boolean negotiate() {
        if (serverInfo == null) {
            serverInfo = readServerInfo();
        }
        if (multi == null) {
            if (config.k() == 1) {
                multi = true;
            } else {
                multi = probeMulti();
            }
        }
        return multi;
    }

    private Map<String, Object> readServerInfo() {
        URI models = resolve("/v1/models");
        Map<String, Object> info = new LinkedHashMap<>();
        Reply r = exchangeWhileBusy(new Req("GET", models, null), models + " (server info)");
        if (r.statusCode() / 100 != 2) {
            return info; // not every server lists models; the run does not need it
        }
        try {
            JsonNode first = JSON.readTree(r.body()).path("data").path(0);
            if (first.hasNonNull("id")) {
                info.put("serverModel", first.get("id").asText());
            }
            if (first.path("meta").path("n_vocab").canConvertToInt()) {
                info.put("vocabularySize", first.get("meta").get("n_vocab").asInt());
            }
        } catch (IOException e) {
            // a model list we cannot read is not needed for sampling
        }
        return info;
    }

    /**
     * The server-reported model name and vocabulary size, when {@code GET /v1/models} gives them.
     *
     * @return {@code serverModel} and {@code vocabularySize} entries, possibly empty
     */
    public Map<String, Object> serverInfo() {
        negotiate();
        return serverInfo;
    }

    private boolean probeMulti() {
        String where = endpoint + " (probe n=" + config.k() + ")";
        Reply r = exchangeWhileBusy(post(body("Hello", config.k(), 1, seedFor(0, 0))), where);
        if (r.statusCode() / 100 == 2) {
            try {
                return parse(r.body(), where, 0).size() >= config.k();
            } catch (TeacherServerException e) {
                return false; // the real requests report what is wrong with the responses
            }
        }
        // rejected n > 1 (llama.cpp allows n up to its parallel slots): one request per sample
        return false;
    }

    /** Sends, retrying transport failures and busy answers (429, 408, 503); returns any other response. */
    private Reply exchangeWhileBusy(Req request, String where) {
        TeacherServerException last = null;
        for (int attempt = 0; attempt <= config.maxRetries(); attempt++) {
            if (attempt > 0) {
                retries.incrementAndGet();
                sleep(backoff(attempt, last));
            }
            try {
                Reply r = exchange(request, where);
                int status = r.statusCode();
                if (status != 429 && status != 408 && status != 503) {
                    return r;
                }
                last = new RetryAfter(where + ": HTTP " + status + " " + errorMessage(r.body()),
                        r.retryAfter());
            } catch (TeacherServerException e) {
                if (!e.retryable()) {
                    throw e;
                }
                last = e;
            }
        }
        throw new TeacherServerException(last.getMessage() + " (gave up after " + (config.maxRetries() + 1) + " attempts)",
                false, last);
    }

    /** The text whose token ids fingerprint a server's tokenizer. */
    public static final String TOKENIZER_PROBE = "The quick brown fox jumps over the lazy dog. 0123456789 "
            + "Ünïcödé, 日本語, emoji \uD83D\uDE00; tabs\tand\nnewlines.";

    /**
     * Tokenizes a text with the server's tokenizer: {@code POST /tokenize} with llama.cpp's fields
     * ({@code content}, {@code add_special}) and vLLM's ({@code prompt}, {@code model},
     * {@code add_special_tokens}); both answer {@code {"tokens": [ids]}}.
     *
     * @param text the text
     * @param addSpecial whether to add the model's special tokens (BOS) as a prompt gets them
     * @return the token ids
     * @throws TeacherServerException if the server has no tokenize endpoint or answers without ids
     */
    public int[] tokenize(String text, boolean addSpecial) {
        URI uri = resolve("/tokenize");
        ObjectNode b = JSON.createObjectNode();
        b.put("content", text).put("add_special", addSpecial).put("prompt", text).put("add_special_tokens", addSpecial);
        if (config.model() != null) {
            b.put("model", config.model());
        }
        String where = uri.toString();
        Reply r;
        try {
            r = exchangeWhileBusy(new Req("POST", uri, JSON.writeValueAsBytes(b)), where);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise a request body", e);
        }
        if (r.statusCode() / 100 != 2) {
            throw new TeacherServerException(where + ": HTTP " + r.statusCode() + " " + errorMessage(r.body())
                    + " (the server must offer /tokenize, as llama.cpp and vLLM do)", false, null);
        }
        try {
            JsonNode tokens = JSON.readTree(r.body()).get("tokens");
            if (tokens == null || !tokens.isArray()) {
                throw credentials.redact(ResponseParser.malformed(where, "field tokens: missing or not an array", r.body()));
            }
            int[] ids = new int[tokens.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode t = tokens.get(i);
                JsonNode id = t.isObject() ? t.get("id") : t;
                if (id == null || !id.canConvertToInt()) {
                    throw credentials.redact(ResponseParser.malformed(where, "field tokens[" + i + "]: not a token id",
                            r.body()));
                }
                ids[i] = id.asInt();
            }
            return ids;
        } catch (IOException e) {
            throw credentials.redact(ResponseParser.malformed(where, "malformed JSON", r.body()));
        }
    }

    /**
     * A fingerprint of the server's tokenizer: the SHA-256 of the ids of {@link #TOKENIZER_PROBE}. Two
     * servers with the same fingerprint split text alike; a cache records it, and a resumed run against a
     * server with another tokenizer is refused.
     *
     * @return lower-case hex
     */
    public String tokenizerFingerprint() {
        int[] ids = tokenize(TOKENIZER_PROBE, false);
        java.security.MessageDigest d = io.distill4j.data.Sha256.newDigest();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4 * ids.length);
        for (int id : ids) {
            buf.putInt(id);
        }
        d.update(buf.array());
        return java.util.HexFormat.of().formatHex(d.digest());
    }

    /** @return the teacher's settings and the server's answers, for a cache's provenance */
    public Map<String, Object> provenance() {
        negotiate();
        Map<String, Object> p = new LinkedHashMap<>(config.describe());
        p.put("requestsPerPrompt", multi ? 1 : config.k());
        p.putAll(serverInfo);
        return p;
    }

    /**
     * The seed of request j for prompt {@code item}: derived from the base seed, the item and j alone,
     * non-negative and below 2^31 (servers take 32-bit seeds).
     *
     * @param item the prompt's index
     * @param j the sample's index (0 when one request asks for all k)
     * @return the seed
     */
    public long seedFor(long item, int j) {
        long z = config.seed() + 0x9E3779B97F4A7C15L * (item * config.k() + j + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) >>> 33;
    }

    /**
     * Samples k responses for one prompt, blocking.
     *
     * @param prompt the prompt
     * @param item its index (seeds derive from it)
     * @return the k responses in sample order
     */
    public List<Completion> complete(String prompt, long item) {
        negotiate();
        if (multi) {
            return completeMulti(prompt, item);
        }
        List<Completion> out = new ArrayList<>(config.k());
        for (int j = 0; j < config.k(); j++) {
            out.add(completeOne(prompt, item, j));
        }
        return out;
    }

    private List<Completion> completeMulti(String prompt, long item) {
        String where = endpoint + ", item " + item;
        List<Completion> c = postWithRetries(body(prompt, config.k(), config.maxTokens(), seedFor(item, 0)), where,
                seedFor(item, 0));
        if (c.size() != config.k()) {
            throw new TeacherServerException(where + ": asked for n=" + config.k() + " choices, got " + c.size()
                    + " (set nMode to SINGLE for this server)", false, null);
        }
        return c;
    }

    private Completion completeOne(String prompt, long item, int j) {
        long seed = seedFor(item, j);
        String where = endpoint + ", item " + item + ", sample " + j;
        List<Completion> c = postWithRetries(body(prompt, 1, config.maxTokens(), seed), where, seed);
        return c.get(0);
    }

    /**
     * Samples k responses for every prompt from {@code prompts[from]} on, with at most {@code concurrency}
     * completion requests in flight, and hands each prompt's responses to the sink in prompt order.
     *
     * <p>When a request fails for good, the prompts before it have already reached the sink; the run then
     * stops and the exception is rethrown, so a cache fed by the sink loses nothing and a restart from
     * its item count asks only for the missing prompts.
     *
     * @param prompts all prompts of the run
     * @param from the first prompt to sample (the number a resumed cache already holds)
     * @param sink receives each prompt's samples, in order, on the calling thread
     * @param progress told the number of prompts done after each one
     * @throws TeacherServerException when a request fails for good
     */
    public void sample(List<String> prompts, long from, Consumer<PromptSamples> sink, SampleProgress progress) {
        sample(prompts, from, false, sink, progress);
    }

    /**
     * As {@link #sample(List, long, Consumer, SampleProgress)}, optionally also tokenizing each prompt
     * through the server ({@link #tokenize}, special tokens added): one {@code /tokenize} request at a time
     * beside the {@code concurrency} completions, in prompt order.
     *
     * @param prompts all prompts of the run
     * @param from the first prompt to sample
     * @param withPromptIds whether each {@link PromptSamples} carries the prompt's token ids
     * @param sink receives each prompt's samples, in order, on the calling thread
     * @param progress told the number of prompts done after each one
     * @throws TeacherServerException when a request fails for good
     */
    public void sample(List<String> prompts, long from, boolean withPromptIds, Consumer<PromptSamples> sink,
            SampleProgress progress) {
        int n = prompts.size();
        if (from < 0 || from > n) {
            throw new IllegalArgumentException("from must be in [0, " + n + "], got " + from);
        }
        negotiate();
        int window = lookahead();
        AtomicInteger threads = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(config.concurrency(), r -> {
            Thread t = new Thread(r, "distill4j-http-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        // prompts are tokenized one at a time on a lane of their own, so that the cheap /tokenize requests
        // neither take a completion's place nor wait behind the completions
        ExecutorService tokenizer = withPromptIds ? Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "distill4j-http-tokenize");
            t.setDaemon(true);
            return t;
        }) : null;
        List<CompletableFuture<List<Completion>>> pending = new ArrayList<>();
        List<CompletableFuture<int[]>> ids = new ArrayList<>();
        try {
            if (from == n) {
                progress.update(from, n);
            }
            int submitted = (int) from;
            for (int item = (int) from; item < n; item++) {
                while (submitted < n && submitted < item + window) {
                    pending.add(submit(pool, prompts.get(submitted), submitted));
                    String p = prompts.get(submitted);
                    ids.add(withPromptIds ? CompletableFuture.supplyAsync(() -> tokenize(p, true), tokenizer)
                            : CompletableFuture.completedFuture(null));
                    submitted++;
                }
                if (item == from) {
                    // told once the first requests are out: a progress display's start (a terminal probe that
                    // runs external commands, 0.1-0.9 s) then overlaps them instead of holding them back
                    progress.update(from, n);
                }
                CompletableFuture<List<Completion>> f = pending.get(item - (int) from);
                List<Completion> result;
                int[] promptIds;
                try {
                    result = f.join();
                    promptIds = ids.get(item - (int) from).join();
                } catch (CompletionException | CancellationException e) {
                    Throwable cause = e.getCause() == null ? e : e.getCause();
                    if (cause instanceof TeacherServerException t) {
                        throw t;
                    }
                    throw new TeacherServerException(endpoint + ", item " + item + ": " + cause, false, cause);
                }
                pending.set(item - (int) from, null);
                ids.set(item - (int) from, null);
                sink.accept(new PromptSamples(item, prompts.get(item), result, promptIds));
                progress.update(item + 1L, n);
            }
        } finally {
            for (CompletableFuture<List<Completion>> f : pending) {
                if (f != null) {
                    f.cancel(true);
                }
            }
            for (CompletableFuture<int[]> f : ids) {
                if (f != null) {
                    f.cancel(true);
                }
            }
            pool.shutdownNow();
            if (tokenizer != null) {
                tokenizer.shutdownNow();
            }
            client.closeIdle();
        }
    }

    /** Token entries (sampled and alternatives) that the answered-but-unconsumed prompts may hold at most. */
    private static final long LOOKAHEAD_TOKENS = 1L << 20;

    /**
     * How many prompts run ahead of the one the sink waits for. Requests leave in prompt order from a queue
     * that holds this many prompts, so the pool stays busy while the sink is slow for a moment (a cache
     * shard being compressed and synced, a collection): at least two requests per slot, up to 32, fewer
     * when long answers with many alternatives would hold more than {@value #LOOKAHEAD_TOKENS} token
     * entries.
     *
     * @return prompts in flight or answered ahead of the sink, at least 2
     */
    int lookahead() {
        int perItem = multi ? 1 : config.k();
        long perRequest = (long) config.maxTokens() * (multi ? config.k() : 1) * (config.topLogprobs() + 1L);
        long requests = Math.max(2L * config.concurrency(), Math.min(32L * config.concurrency(),
                LOOKAHEAD_TOKENS / Math.max(1, perRequest)));
        return (int) Math.max(2, (requests + perItem - 1) / perItem);
    }

    private CompletableFuture<List<Completion>> submit(ExecutorService pool, String prompt, long item) {
        if (multi) {
            return CompletableFuture.supplyAsync(() -> completeMulti(prompt, item), pool);
        }
        List<CompletableFuture<Completion>> parts = new ArrayList<>();
        for (int j = 0; j < config.k(); j++) {
            int jj = j;
            parts.add(CompletableFuture.supplyAsync(() -> completeOne(prompt, item, jj), pool));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                .thenApply(v -> parts.stream().map(CompletableFuture::join).toList());
    }

    private ObjectNode body(String prompt, int n, int maxTokens, long seed) {
        ObjectNode b = JSON.createObjectNode();
        if (config.model() != null) {
            b.put("model", config.model());
        }
        if (config.endpoint() == HttpTeacherConfig.Endpoint.CHAT) {
            ArrayNode messages = b.putArray("messages");
            if (config.systemPrompt() != null) {
                messages.addObject().put("role", "system").put("content", config.systemPrompt());
            }
            messages.addObject().put("role", "user").put("content", prompt);
            if (config.topLogprobs() > 0) {
                b.put("logprobs", true);
                b.put("top_logprobs", config.topLogprobs());
            }
        } else {
            b.put("prompt", prompt);
            if (config.topLogprobs() > 0) {
                b.put("logprobs", config.topLogprobs());
            }
        }
        b.put("max_tokens", maxTokens);
        b.put("temperature", config.temperature());
        b.put("top_p", config.topP());
        if (config.topK() > 0) {
            b.put("top_k", config.topK());
        }
        if (config.repetitionPenalty() != 1.0) {
            b.put("repetition_penalty", config.repetitionPenalty());
            b.put("repeat_penalty", config.repetitionPenalty());
        }
        if (n != 1) {
            b.put("n", n);
        }
        b.put("seed", seed);
        if (!config.stop().isEmpty()) {
            ArrayNode s = b.putArray("stop");
            config.stop().forEach(s::add);
        }
        b.put("stream", false);
        for (Map.Entry<String, Object> e : config.extraBody().entrySet()) {
            b.set(e.getKey(), JSON.valueToTree(e.getValue()));
        }
        return b;
    }

    /**
     * How a server scores a given continuation: the teacher's top-K log-probabilities at every position of a
     * sequence that the teacher did not generate (on-policy distillation scores the student's own tokens).
     */
    public enum ScoringRoute {
        /**
         * vLLM: one {@code POST /v1/completions} per sequence with {@code prompt_logprobs: K} and
         * {@code max_tokens: 1}; the answer's {@code choices[0].prompt_logprobs[i]} maps token ids to the
         * log-probabilities of position i given the tokens before it (the top K and the token at i).
         */
        PROMPT_LOGPROBS,
        /**
         * llama.cpp's llama-server: top-K probabilities ({@code n_probs}) only for generated tokens, so one
         * {@code POST /completion} per position, the prompt being the sequence up to that position, with
         * {@code n_predict: 1}, {@code n_probs: K} and {@code cache_prompt: true} (the shared prefix is reused
         * from the slot's KV cache); {@code completion_probabilities[0].top_logprobs} is read.
         */
        PER_POSITION
    }

    private volatile ScoringRoute route;

    /**
     * Finds how this server scores a given continuation, asking once: first vLLM's {@code prompt_logprobs} on
     * {@code /v1/completions}, then llama.cpp's {@code n_probs} on {@code /completion}.
     *
     * @param probe a token sequence of at least two ids in the server's vocabulary (a real prompt and
     *     continuation: the answer is checked to hold a position's top-K)
     * @return the route
     * @throws TeacherServerException (not retryable) when the server offers neither, naming what each route answered
     */
    public synchronized ScoringRoute scoringRoute(int[] probe) {
        if (route != null) {
            return route;
        }
        if (probe.length < 2) {
            throw new IllegalArgumentException("the probe needs at least two tokens, got " + probe.length);
        }
        requireScoringK();
        URI vllm = resolve("/v1/completions");
        Reply r = exchangeWhileBusy(postJson(vllm, scoreBody(probe, true)), vllm + " (scoring probe)");
        String vllmSaid;
        if (r.statusCode() / 100 == 2) {
            try {
                parser.promptLogprobs(r.body(), vllm.toString(), probe, 1, probe.length - 1, config.topLogprobs());
                return route = ScoringRoute.PROMPT_LOGPROBS;
            } catch (TeacherServerException e) {
                vllmSaid = "answered without prompt_logprobs (" + e.getMessage() + ")";
            }
        } else {
            vllmSaid = "HTTP " + r.statusCode() + " " + errorMessage(r.body());
        }
        URI llama = resolve("/completion");
        int[] prefix = java.util.Arrays.copyOf(probe, probe.length - 1);
        r = exchangeWhileBusy(postJson(llama, scoreBody(prefix, false)), llama + " (scoring probe)");
        String llamaSaid;
        if (r.statusCode() / 100 == 2) {
            try {
                parser.nextTokenLogprobs(r.body(), llama.toString(), probe[probe.length - 1], config.topLogprobs());
                return route = ScoringRoute.PER_POSITION;
            } catch (TeacherServerException e) {
                llamaSaid = "answered without completion_probabilities[].top_logprobs with token ids ("
                        + e.getMessage() + ")";
            }
        } else {
            llamaSaid = "HTTP " + r.statusCode() + " " + errorMessage(r.body());
        }
        throw new TeacherServerException(config.baseUri() + ": the server offers no way to score a given continuation:"
                + " /v1/completions with prompt_logprobs (vLLM) " + credentials.redact(vllmSaid)
                + "; /completion with n_probs (llama.cpp's llama-server) " + credentials.redact(llamaSaid), false, null);
    }

    private void requireScoringK() {
        if (config.topLogprobs() <= 0) {
            throw new IllegalArgumentException("topLogprobs is 0: scoring a continuation needs the teacher's top-K"
                    + " log-probabilities (set topLogprobs, e.g. 5)");
        }
    }

    /**
     * Scores given continuations: for every row and every continuation position t, the teacher's top-K
     * log-probabilities of the next token given the prompt and the continuation's first t tokens, with
     * {@code K = topLogprobs}. With {@link ScoringRoute#PROMPT_LOGPROBS} one request per row, with
     * {@link ScoringRoute#PER_POSITION} one per position; at most {@code concurrency} requests are in flight,
     * each retried as {@link #sample} retries.
     *
     * @param prompts the prompts' token ids (not empty), in the server's vocabulary
     * @param continuations the continuations' token ids, one per prompt
     * @return per row, per continuation position: a step whose {@code id} is the continuation's token there, its
     *     {@code logprob} the teacher's log-probability of it (NaN where the route gives only the top K and it is
     *     not among them), and the top K ids and log-probabilities, most probable first
     *     ({@link TokenStep#tailLogMass()} is the mass outside them)
     * @throws TeacherServerException when a request fails for good, the server offers no scoring route, or an
     *     answer holds fewer than K alternatives at a position
     */
    public List<List<TokenStep>> score(List<int[]> prompts, List<int[]> continuations) {
        if (prompts.size() != continuations.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + continuations.size() + " continuations");
        }
        requireScoringK();
        int[] probe = null;
        for (int r = 0; r < prompts.size() && probe == null; r++) {
            if (prompts.get(r).length == 0) {
                throw new IllegalArgumentException("prompt " + r + " is empty");
            }
            if (continuations.get(r).length > 0) {
                probe = concat(prompts.get(r), continuations.get(r), continuations.get(r).length);
            }
        }
        List<List<TokenStep>> out = new ArrayList<>(prompts.size());
        if (probe == null) {
            prompts.forEach(p -> out.add(List.of()));
            return out;
        }
        ScoringRoute how = scoringRoute(probe);
        AtomicInteger threads = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(config.concurrency(), r -> {
            Thread t = new Thread(r, "distill4j-http-score-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        List<List<CompletableFuture<List<TokenStep>>>> parts = new ArrayList<>();
        try {
            for (int r = 0; r < prompts.size(); r++) {
                int[] p = prompts.get(r);
                int[] c = continuations.get(r);
                List<CompletableFuture<List<TokenStep>>> row = new ArrayList<>();
                String where = "row " + r;
                if (c.length == 0) {
                    // nothing to score
                } else if (how == ScoringRoute.PROMPT_LOGPROBS) {
                    row.add(CompletableFuture.supplyAsync(() -> scoreSequence(p, c, where), pool));
                } else {
                    for (int t = 0; t < c.length; t++) {
                        int tt = t;
                        row.add(CompletableFuture.supplyAsync(() -> List.of(scorePosition(p, c, tt, where)), pool));
                    }
                }
                parts.add(row);
            }
            for (List<CompletableFuture<List<TokenStep>>> row : parts) {
                List<TokenStep> steps = new ArrayList<>();
                for (CompletableFuture<List<TokenStep>> f : row) {
                    try {
                        steps.addAll(f.join());
                    } catch (CompletionException | CancellationException e) {
                        Throwable cause = e.getCause() == null ? e : e.getCause();
                        if (cause instanceof TeacherServerException t) {
                            throw t;
                        }
                        throw new TeacherServerException(config.baseUri() + " (scoring): " + cause, false, cause);
                    }
                }
                out.add(steps);
            }
            return out;
        } finally {
            parts.forEach(row -> row.forEach(f -> f.cancel(true)));
            pool.shutdownNow();
        }
    }

    private List<TokenStep> scoreSequence(int[] prompt, int[] continuation, String row) {
        URI uri = resolve("/v1/completions");
        int[] all = concat(prompt, continuation, continuation.length);
        String where = uri + ", " + row;
        return withRetries(postJson(uri, scoreBody(all, true)), where, body -> parser.promptLogprobs(body, where, all,
                prompt.length, continuation.length, config.topLogprobs()));
    }

    private TokenStep scorePosition(int[] prompt, int[] continuation, int t, String row) {
        URI uri = resolve("/completion");
        String where = uri + ", " + row + ", position " + t;
        return withRetries(postJson(uri, scoreBody(concat(prompt, continuation, t), false)), where,
                body -> parser.nextTokenLogprobs(body, where, continuation[t], config.topLogprobs()));
    }

    private static int[] concat(int[] a, int[] b, int bLength) {
        int[] out = java.util.Arrays.copyOf(a, a.length + bLength);
        System.arraycopy(b, 0, out, a.length, bLength);
        return out;
    }

    /** The body of a scoring request: vLLM's (prompt_logprobs) or llama.cpp's (n_probs), the prompt as token ids. */
    private ObjectNode scoreBody(int[] ids, boolean vllm) {
        ObjectNode b = JSON.createObjectNode();
        if (config.model() != null) {
            b.put("model", config.model());
        }
        ArrayNode p = b.putArray("prompt");
        for (int id : ids) {
            p.add(id);
        }
        b.put("temperature", 0.0);
        if (vllm) {
            b.put("max_tokens", 1);
            b.put("prompt_logprobs", config.topLogprobs());
        } else {
            b.put("n_predict", 1);
            b.put("n_probs", config.topLogprobs());
            b.put("cache_prompt", true);
        }
        b.put("stream", false);
        return b;
    }

    private Req postJson(URI uri, ObjectNode body) {
        try {
            return new Req("POST", uri, JSON.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise a request body", e);
        }
    }

    /** A request: method, address and body (null for none); the key and extra headers go with every one. */
    private record Req(String method, URI uri, byte[] body) {
    }

    /** A response: status, body text and the {@code Retry-After} header (null when absent). */
    private record Reply(int statusCode, String body, String retryAfter) {
    }

    private Req post(ObjectNode body) {
        try {
            return new Req("POST", endpoint, JSON.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise a request body", e);
        }
    }

    /** Posts with retries; parses inside the loop so that malformed responses are retried as well. */
    private List<Completion> postWithRetries(ObjectNode body, String where, long seed) {
        return withRetries(post(body), where, text -> parse(text, where, seed));
    }

    /**
     * Sends with retries; parses a 2xx body inside the loop so that malformed responses are retried as well;
     * a fault that quotes a body has the secrets removed.
     */
    private <T> T withRetries(Req request, String where, Function<String, T> parse) {
        TeacherServerException last = null;
        for (int attempt = 0; attempt <= config.maxRetries(); attempt++) {
            if (attempt > 0) {
                retries.incrementAndGet();
                sleep(backoff(attempt, last));
            }
            Reply r;
            try {
                r = exchange(request, where);
            } catch (TeacherServerException e) {
                if (!e.retryable()) {
                    throw e;
                }
                last = e;
                continue;
            }
            int status = r.statusCode();
            if (status / 100 == 2) {
                try {
                    return parse.apply(r.body());
                } catch (TeacherServerException e) {
                    if (!e.retryable()) {
                        throw credentials.redact(e);
                    }
                    last = credentials.redact(e);
                    continue;
                }
            }
            String message = where + ": HTTP " + status + " " + errorMessage(r.body());
            boolean transientStatus = status == 429 || status == 408 || status / 100 == 5;
            if (!transientStatus) {
                throw new TeacherServerException(message, false, null);
            }
            last = new RetryAfter(message, r.retryAfter());
        }
        throw new TeacherServerException(last.getMessage() + " (gave up after " + (config.maxRetries() + 1) + " attempts)",
                false, last);
    }

    /** Parses a response body; a fault that quotes it has the secrets removed. */
    private List<Completion> parse(String body, String where, long seed) {
        try {
            return parser.parse(body, where, seed);
        } catch (TeacherServerException e) {
            throw credentials.redact(e);
        }
    }

    /**
     * Sends one request; transport failures become retryable exceptions. A refused key (401, 403) and a
     * server certificate that is not trusted are not transient: they stop the run at once.
     */
    private Reply exchange(Req request, String where) {
        requests.incrementAndGet();
        Reply r;
        try {
            Http1Client.Response x = client.send(request.method(), request.uri(), request.body() == null ? credentials.headers()
                    : credentials.jsonHeaders(), request.body(), config.requestTimeout());
            r = new Reply(x.status(), x.text(), x.header("retry-after"));
        } catch (Http1Client.ConnectTimeoutException e) {
            throw new TeacherServerException(where + ": cannot connect within " + config.connectTimeout().toMillis() + " ms",
                    true, e);
        } catch (Http1Client.RequestTimeoutException e) {
            throw new TeacherServerException(where + ": no response within " + config.requestTimeout().toMillis() + " ms",
                    true, e);
        } catch (ConnectException e) {
            throw new TeacherServerException(where + ": cannot connect (" + (e.getMessage() == null ? "connection refused"
                    : e.getMessage()) + "); is the server running?", true, e);
        } catch (IOException e) {
            if (certificateFault(e)) {
                throw tlsFailure(where, e);
            }
            throw new TeacherServerException(where + ": transport error: " + e, true, e);
        }
        int status = r.statusCode();
        if (status == 401 || status == 403) {
            throw new TeacherServerException(where + ": HTTP " + status + (status == 401 ? " (unauthorized)" : " (forbidden)")
                    + ": " + refusal(status) + " (not retried)", false, null);
        }
        return r;
    }

    /** Whether a TLS fault is the server's certificate (untrusted, expired, another host's): not transient. */
    private static boolean certificateFault(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateException) {
                return true;
            }
        }
        return false;
    }

    /** A server certificate that is not trusted: not retried; says what to check. */
    private TeacherServerException tlsFailure(String where, IOException e) {
        Path ca = config.auth().caCertificates();
        return new TeacherServerException(where + ": TLS handshake failed: the server's certificate is not trusted (" + e.getMessage() + "); " + (ca == null
                ? "if the server's certificate is self-signed or from a private CA, name the CA's PEM file in caCertificates"
                : "does " + ca + " (caCertificates) hold the CA of the server's certificate, issued for this host name?"),
                false, null);
    }

    /** Why a server refused the request, naming where the key came from; the server's text is not quoted. */
    private String refusal(int status) {
        HttpTeacherConfig.Auth a = config.auth();
        if (!a.hasApiKey() && a.headers().isEmpty()) {
            return "the server wants credentials and none were sent; name the environment variable that holds the API key "
                    + "in apiKeyEnv (or its file in apiKeyFile)";
        }
        String sent = a.hasApiKey() ? a.keySource() : "headers " + a.headers().keySet() + " from environment variables "
                + a.headers().values();
        return status == 401 ? "the server refused " + sent + "; check that it holds the key the server was started with"
                : "the server refused access with " + sent + " (is the key allowed this model and endpoint?)";
    }

    /** The server's error message from a body, with the secrets removed. */
    private String errorMessage(String body) {
        return credentials.redact(quote(body));
    }

    private static String quote(String body) {
        try {
            JsonNode n = JSON.readTree(body);
            JsonNode m = n.path("error").path("message");
            if (m.isTextual()) {
                return m.asText();
            }
            if (n.path("error").isTextual()) {
                return n.get("error").asText();
            }
        } catch (IOException e) {
            // not JSON: quote the start of the body
        }
        return io.distill4j.data.Errors.snippet(body.strip(), 200);
    }

    private long backoff(int attempt, TeacherServerException last) {
        long cap = config.maxBackoff().toMillis();
        if (last instanceof RetryAfter ra && ra.after != null) {
            try {
                return Math.min(cap, Math.max(0, Long.parseLong(ra.after.trim()) * 1000));
            } catch (NumberFormatException e) {
                // an HTTP date: fall back to our own back-off
            }
        }
        long base = config.initialBackoff().toMillis() << Math.min(attempt - 1, 20);
        long ceiling = Math.min(cap, Math.max(base, 0));
        return ceiling <= 0 ? 0 : ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while backing off");
        }
    }

    /** A retryable HTTP status with the server's {@code Retry-After}, if any. */
    private static final class RetryAfter extends TeacherServerException {
        private static final long serialVersionUID = 1L;
        private final String after;

        RetryAfter(String message, String after) {
            super(message, true, null);
            this.after = after;
        }
    }

    /**
     * Checks that every sampled and top-K token of a prompt's responses has an id inside a vocabulary of
     * the given size: the guard against writing one tokenizer's ids into a cache of another.
     *
     * @param samples a prompt's responses
     * @param vocabularySize V, positive
     * @throws TeacherServerException naming the item, sample, position and id at fault
     */
    public static void requireTokenIds(PromptSamples samples, int vocabularySize) {
        for (int j = 0; j < samples.completions().size(); j++) {
            List<TokenStep> steps = samples.completions().get(j).steps();
            for (int t = 0; t < steps.size(); t++) {
                TokenStep s = steps.get(t);
                String where = "item " + samples.item() + ", sample " + j + ", position " + t;
                checkId(s.id(), s.token(), vocabularySize, where);
                for (int q = 0; q < s.topK(); q++) {
                    checkId(s.topIds()[q], s.topTokens()[q], vocabularySize, where + ", top-" + (q + 1));
                }
            }
        }
    }

    private static void checkId(int id, String token, int v, String where) {
        if (id < 0) {
            throw new TeacherServerException(where + ": the server gave no id for token '" + token
                    + "' (vLLM: set extraBody return_tokens_as_token_ids: true)", false, null);
        }
        if (id >= v) {
            throw new TeacherServerException(where + ": token id " + id + " ('" + token + "') is outside the vocabulary of "
                    + v + ": the teacher's tokenizer differs from the cache's", false, null);
        }
    }
}

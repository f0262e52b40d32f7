package io.distill4j.teacher.http;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Settings of an {@link HttpTeacher}: the server, the sampling parameters and the transport policy.
 * Build with {@link #builder()}; {@link Builder#build()} validates every field.
 *
 * @param baseUri the server's base address, such as {@code http://127.0.0.1:8080} (the endpoint path is appended)
 * @param model the model name sent in each request, or {@code null} to send none (llama.cpp serves one model)
 * @param endpoint {@code /v1/completions} or {@code /v1/chat/completions}
 * @param systemPrompt a system message for chat requests, or {@code null}
 * @param k responses per prompt, positive
 * @param maxTokens the most tokens per response, positive
 * @param temperature the sampling temperature, >= 0
 * @param topP nucleus sampling mass, in (0, 1]
 * @param topK top-k sampling cut-off, 0 for none (sent as {@code top_k}, a vLLM and llama.cpp extension)
 * @param repetitionPenalty the repetition penalty, positive, 1 for none (sent as vLLM's
 *     {@code repetition_penalty} and llama.cpp's {@code repeat_penalty})
 * @param topLogprobs K alternatives recorded per position, 0 to request no log-probabilities
 * @param seed the base seed; each request's seed is derived from it, the prompt's index and the sample's index
 * @param stop stop sequences, possibly empty
 * @param nMode whether to ask for k responses in one request ({@code n = k}) or send k requests
 * @param concurrency the most completion requests in flight at once (a sequence cache adds one {@code /tokenize}
 *     request beside them), positive
 * @param maxRetries retries of a request after a transient failure (429, 5xx, timeout, refused connection,
 *     malformed JSON), >= 0
 * @param initialBackoff the wait before the first retry; it doubles per retry, with full jitter
 * @param maxBackoff the longest wait between retries (also caps a server's Retry-After)
 * @param connectTimeout the TCP connect timeout
 * @param requestTimeout the whole request's timeout
 * @param extraBody further JSON fields merged into every request body (server-specific options)
 * @param auth where the API key, extra headers and private CA certificates come from (never the secrets)
 * @param servers every server of the job, {@code baseUri} among them: replicas of one model that a distributed
 *     engine fans prompt ranges out over ({@link #onServer}); one element, {@code baseUri}, for a single server
 */
public record HttpTeacherConfig(URI baseUri, String model, Endpoint endpoint, String systemPrompt, int k, int maxTokens,
        double temperature, double topP, int topK, double repetitionPenalty, int topLogprobs, long seed, List<String> stop,
        NMode nMode, int concurrency, int maxRetries, Duration initialBackoff, Duration maxBackoff, Duration connectTimeout,
        Duration requestTimeout, Map<String, Object> extraBody, Auth auth, List<URI> servers) {

    /** The OpenAI-compatible endpoints. */
    public enum Endpoint {
        /** {@code POST /v1/completions}: a raw prompt. */
        COMPLETIONS("/v1/completions"),
        /** {@code POST /v1/chat/completions}: the prompt as one user message. */
        CHAT("/v1/chat/completions");

        private final String path;

        Endpoint(String path) {
            this.path = path;
        }

        /** @return the request path */
        public String path() {
            return path;
        }
    }

    /** How k responses per prompt are requested. */
    public enum NMode {
        /** Try {@code n = k} once; if the server rejects it or returns fewer choices, send k requests. */
        AUTO,
        /** Always one request with {@code n = k}. */
        MULTI,
        /** Always k requests with distinct seeds. */
        SINGLE
    }

    /** Copies the collections; no servers (null or empty) means {@code baseUri} alone. */
    public HttpTeacherConfig {
        stop = List.copyOf(stop);
        extraBody = Map.copyOf(extraBody);
        auth = auth == null ? Auth.NONE : auth;
        servers = servers == null || servers.isEmpty() ? List.of(baseUri) : List.copyOf(servers);
        if (!servers.contains(baseUri)) {
            throw new IllegalArgumentException("baseUri " + baseUri + " is not one of the servers " + servers);
        }
    }

    /**
     * The same settings talking to one server of the list: server {@code i % servers().size()}. Everything a cache
     * records ({@link #describe()}) stays the same, so prompt ranges sampled from different replicas make one cache.
     *
     * @param i the index (a task's partition, say), not negative
     * @return the settings with that server as {@code baseUri}
     */
    public HttpTeacherConfig onServer(int i) {
        if (i < 0) {
            throw new IllegalArgumentException("server index must not be negative, got " + i);
        }
        return new HttpTeacherConfig(servers.get(i % servers.size()), model, endpoint, systemPrompt, k, maxTokens,
                temperature, topP, topK, repetitionPenalty, topLogprobs, seed, stop, nMode, concurrency, maxRetries,
                initialBackoff, maxBackoff, connectTimeout, requestTimeout, extraBody, auth, servers);
    }

    /**
     * Where a server's credentials come from: names of environment variables and paths of files, never the
     * secrets themselves, so this record may be printed, logged and recorded in a cache's provenance. The
     * secrets are read when an {@link HttpTeacher} is created, and only there.
     *
     * @param apiKeyEnv the environment variable holding the API key (sent as {@code Authorization: Bearer
     *     <key>}), or null
     * @param apiKeyFile a file holding the API key on one line, or null; a warning is logged when its group or
     *     others may read it
     * @param headers extra request headers: header name to the environment variable holding its value
     * @param caCertificates a PEM file of one or more CA certificates trusted in addition to the JDK's trust
     *     store (a private CA, a self-signed server), or null
     */
    public record Auth(String apiKeyEnv, Path apiKeyFile, Map<String, String> headers, Path caCertificates) {

        /** No key, no headers, the JDK's trust store only. */
        public static final Auth NONE = new Auth(null, null, Map.of(), null);

        /** Copies the headers, keeping their order. */
        public Auth {
            headers = headers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        }

        /** @return whether an API key is configured (from a variable or a file) */
        public boolean hasApiKey() {
            return apiKeyEnv != null || apiKeyFile != null;
        }

        /**
         * Where the API key comes from, for messages.
         *
         * @return for example {@code the API key from environment variable VLLM_API_KEY}, or {@code no API key}
         */
        public String keySource() {
            if (apiKeyEnv != null) {
                return "the API key from environment variable " + apiKeyEnv;
            }
            return apiKeyFile != null ? "the API key from file " + apiKeyFile : "no API key";
        }

        /**
         * The record of a cache's provenance: that a key was used and where it came from, and which headers were
         * sent from which variables. Empty when none are. The CA file is left out, like every transport setting
         * (moving it must not stop a resumed run).
         *
         * @return variable names and paths only
         */
        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            if (apiKeyEnv != null) {
                m.put("apiKeyEnv", apiKeyEnv);
            }
            if (apiKeyFile != null) {
                m.put("apiKeyFile", apiKeyFile.toString());
            }
            if (!headers.isEmpty()) {
                m.put("headers", new TreeMap<>(headers));
            }
            return m;
        }
    }

    /** @return a builder with defaults: completions, k 4, 64 tokens, temperature 1, top-5 log-probs, 8 in flight */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the settings recorded in a cache's provenance (no transport settings) */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "openai-http");
        // one server: its address (as before lists existed); several: all of them, whichever one this teacher uses
        m.put("server", servers.size() == 1 ? baseUri.toString() : servers.stream().map(URI::toString).toList());
        m.put("endpoint", endpoint.path());
        if (model != null) {
            m.put("model", model);
        }
        if (systemPrompt != null) {
            m.put("systemPrompt", systemPrompt);
        }
        m.put("k", k);
        m.put("maxTokens", maxTokens);
        m.put("temperature", temperature);
        m.put("topP", topP);
        m.put("topK", topK);
        m.put("repetitionPenalty", repetitionPenalty);
        m.put("topLogprobs", topLogprobs);
        m.put("seed", seed);
        m.put("stop", stop);
        if (!extraBody.isEmpty()) {
            m.put("extraBody", new TreeMap<>(extraBody));
        }
        Map<String, Object> a = auth.describe();
        if (!a.isEmpty()) {
            m.put("auth", a);
        }
        return m;
    }

    /** Builder of {@link HttpTeacherConfig}; {@link #build()} validates. */
    public static final class Builder {
        private URI baseUri;
        private List<URI> servers = List.of();
        private String model;
        private Endpoint endpoint = Endpoint.COMPLETIONS;
        private String systemPrompt;
        private int k = 4;
        private int maxTokens = 64;
        private double temperature = 1.0;
        private double topP = 1.0;
        private int topK;
        private double repetitionPenalty = 1.0;
        private int topLogprobs = 5;
        private long seed;
        private List<String> stop = List.of();
        private NMode nMode = NMode.AUTO;
        private int concurrency = 8;
        private int maxRetries = 5;
        private Duration initialBackoff = Duration.ofMillis(200);
        private Duration maxBackoff = Duration.ofSeconds(10);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration requestTimeout = Duration.ofSeconds(120);
        private Map<String, Object> extraBody = Map.of();
        private String apiKeyEnv;
        private Path apiKeyFile;
        private Map<String, String> headers = Map.of();
        private Path caCertificates;

        private Builder() {
        }

        /** @param v the server's base address (the only server) @return this builder */
        public Builder setBaseUri(URI v) {
            baseUri = v;
            servers = List.of();
            return this;
        }

        /**
         * Sets several servers of one model (replicas) from text; the first is {@code baseUri}, the one a single
         * machine's run talks to.
         *
         * @param v the base addresses, at least one, no repeats
         * @return this builder
         * @throws IllegalArgumentException if the list is empty or repeats an address, or one is not a URI (see
         *     {@link #setBaseUri(String)}; the message names its position)
         */
        public Builder setServers(List<String> v) {
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException("servers: give at least one base address");
            }
            List<URI> all = new java.util.ArrayList<>();
            for (int i = 0; i < v.size(); i++) {
                try {
                    all.add(new URI(v.get(i)));
                } catch (URISyntaxException | NullPointerException e) {
                    throw new IllegalArgumentException("server " + i + " is not a valid URI (the address is not shown, in"
                            + " case it holds a password)");
                }
                if (all.indexOf(all.get(i)) != i) {
                    throw new IllegalArgumentException("server " + i + " repeats server " + all.indexOf(all.get(i)) + ": "
                            + all.get(i));
                }
            }
            baseUri = all.get(0);
            servers = List.copyOf(all);
            return this;
        }

        /**
         * Sets the base address from text.
         *
         * @param v the base address, such as {@code http://127.0.0.1:8080}
         * @return this builder
         * @throws IllegalArgumentException if it is not a URI; the message does not quote the text, which may
         *     hold a password
         */
        public Builder setBaseUri(String v) {
            try {
                return setBaseUri(new URI(v));
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("baseUri is not a valid URI (" + e.getReason() + " at index " + e.getIndex()
                        + "; the address is not shown, in case it holds a password)");
            }
        }

        /** @param v the model name, or null for none @return this builder */
        public Builder optModel(String v) {
            model = v;
            return this;
        }

        /** @param v the endpoint @return this builder */
        public Builder optEndpoint(Endpoint v) {
            endpoint = v;
            return this;
        }

        /** @param v a system message for chat requests, or null @return this builder */
        public Builder optSystemPrompt(String v) {
            systemPrompt = v;
            return this;
        }

        /** @param v responses per prompt @return this builder */
        public Builder setK(int v) {
            k = v;
            return this;
        }

        /** @param v most tokens per response @return this builder */
        public Builder optMaxTokens(int v) {
            maxTokens = v;
            return this;
        }

        /** @param v sampling temperature @return this builder */
        public Builder optTemperature(double v) {
            temperature = v;
            return this;
        }

        /** @param v nucleus mass @return this builder */
        public Builder optTopP(double v) {
            topP = v;
            return this;
        }

        /** @param v top-k cut-off, 0 for none @return this builder */
        public Builder optTopK(int v) {
            topK = v;
            return this;
        }

        /** @param v repetition penalty, 1 for none @return this builder */
        public Builder optRepetitionPenalty(double v) {
            repetitionPenalty = v;
            return this;
        }

        /** @param v K alternatives per position, 0 for none @return this builder */
        public Builder optTopLogprobs(int v) {
            topLogprobs = v;
            return this;
        }

        /** @param v the base seed @return this builder */
        public Builder optSeed(long v) {
            seed = v;
            return this;
        }

        /** @param v stop sequences @return this builder */
        public Builder optStop(List<String> v) {
            stop = v;
            return this;
        }

        /** @param v how k responses are requested @return this builder */
        public Builder optNMode(NMode v) {
            nMode = v;
            return this;
        }

        /** @param v requests in flight @return this builder */
        public Builder optConcurrency(int v) {
            concurrency = v;
            return this;
        }

        /** @param v retries after transient failures @return this builder */
        public Builder optMaxRetries(int v) {
            maxRetries = v;
            return this;
        }

        /**
         * Sets the back-off between retries.
         *
         * @param initial the first wait
         * @param max the longest wait
         * @return this builder
         */
        public Builder optBackoff(Duration initial, Duration max) {
            initialBackoff = initial;
            maxBackoff = max;
            return this;
        }

        /** @param v the connect timeout @return this builder */
        public Builder optConnectTimeout(Duration v) {
            connectTimeout = v;
            return this;
        }

        /** @param v the request timeout @return this builder */
        public Builder optRequestTimeout(Duration v) {
            requestTimeout = v;
            return this;
        }

        /** @param v extra JSON fields for every request @return this builder */
        public Builder optExtraBody(Map<String, Object> v) {
            extraBody = v;
            return this;
        }

        /**
         * Names the environment variable that holds the API key, sent as {@code Authorization: Bearer <key>}.
         *
         * @param v a variable name such as {@code VLLM_API_KEY}, or null for none
         * @return this builder
         */
        public Builder optApiKeyEnv(String v) {
            apiKeyEnv = v;
            return this;
        }

        /**
         * Names a file that holds the API key on one line (readable by its owner only).
         *
         * @param v the file, or null for none
         * @return this builder
         */
        public Builder optApiKeyFile(Path v) {
            apiKeyFile = v;
            return this;
        }

        /**
         * Sets extra request headers whose values come from environment variables.
         *
         * @param v header name to variable name, such as {@code X-Org -> ORG_ID}
         * @return this builder
         */
        public Builder optHeaders(Map<String, String> v) {
            headers = v;
            return this;
        }

        /**
         * Trusts the CA certificates of a PEM file in addition to the JDK's trust store (https only).
         *
         * @param v the PEM file (one or more certificates), or null for the JDK's trust store alone
         * @return this builder
         */
        public Builder optCaCertificates(Path v) {
            caCertificates = v;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @return the configuration
         * @throws IllegalArgumentException naming the first invalid field and its value
         */
        public HttpTeacherConfig build() {
            if (baseUri == null) {
                throw new IllegalArgumentException("baseUri is required (for example http://127.0.0.1:8080)");
            }
            List<URI> all = servers.isEmpty() ? List.of(baseUri) : servers;
            for (URI server : all) {
                checkServer(server, all.size() == 1 ? "baseUri" : "server " + all.indexOf(server));
            }
            String scheme = baseUri.getScheme();
            if (all.stream().anyMatch(u -> !scheme.equals(u.getScheme()))) {
                throw new IllegalArgumentException("servers mix http and https: " + all);
            }
            positive("k", k);
            positive("maxTokens", maxTokens);
            positive("concurrency", concurrency);
            if (!(temperature >= 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
            }
            if (!(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
            }
            if (topK < 0) {
                throw new IllegalArgumentException("topK must be >= 0 (0 for none), got " + topK);
            }
            if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
                throw new IllegalArgumentException("repetitionPenalty must be positive and finite, got " + repetitionPenalty);
            }
            if (topLogprobs < 0 || topLogprobs > 20) {
                throw new IllegalArgumentException("topLogprobs must be in [0, 20] (the OpenAI API's limit), got " + topLogprobs);
            }
            if (maxRetries < 0) {
                throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
            }
            for (Duration d : List.of(initialBackoff, maxBackoff, connectTimeout, requestTimeout)) {
                if (d == null || d.isNegative()) {
                    throw new IllegalArgumentException("durations must be non-negative, got " + d);
                }
            }
            if (connectTimeout.isZero() || requestTimeout.isZero()) {
                throw new IllegalArgumentException("timeouts must be positive");
            }
            Objects.requireNonNull(endpoint, "endpoint");
            Objects.requireNonNull(nMode, "nMode");
            if (stop.stream().anyMatch(s -> s == null || s.isEmpty())) {
                throw new IllegalArgumentException("stop sequences must be non-empty, got " + stop);
            }
            Auth auth = auth("https".equals(scheme));
            return new HttpTeacherConfig(baseUri, model, endpoint, systemPrompt, k, maxTokens, temperature, topP, topK,
                    repetitionPenalty, topLogprobs, seed, stop, nMode, concurrency, maxRetries, initialBackoff, maxBackoff,
                    connectTimeout, requestTimeout, extraBody, auth, all);
        }

        /** The checks of one server's base address; {@code name} is {@code baseUri} or {@code server i}. */
        private static void checkServer(URI u, String name) {
            if (u.getRawUserInfo() != null || u.getRawAuthority() != null && u.getRawAuthority().contains("@")) {
                throw new IllegalArgumentException(name + " must not hold a user name or password (user:password@), got "
                        + redactUserInfo(u) + "; name the key's environment variable in apiKeyEnv (or its file in "
                        + "apiKeyFile) instead");
            }
            if (u.getRawQuery() != null || u.getRawFragment() != null) {
                throw new IllegalArgumentException(name + " must not have a query or fragment (the endpoint path is appended "
                        + "to it), got " + u);
            }
            String scheme = u.getScheme();
            if (!"http".equals(scheme) && !"https".equals(scheme) || u.getHost() == null) {
                throw new IllegalArgumentException(name + " must be an http(s) address with a host, got " + u);
            }
            if (u.getPath() != null && u.getPath().matches(".*/v1/?(chat/)?(completions)?/?$")) {
                throw new IllegalArgumentException(name + " must not include the endpoint path (/v1/...), got " + u);
            }
        }

        /** Header names this client sets itself, beyond those the JDK's client refuses. */
        private static final Set<String> MANAGED_HEADERS = Set.of("content-type", "transfer-encoding");
        /** A POSIX environment variable name. */
        private static final Pattern VARIABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

        private Auth auth(boolean https) {
            if (apiKeyEnv != null && apiKeyFile != null) {
                throw new IllegalArgumentException("give one of apiKeyEnv and apiKeyFile, not both");
            }
            if (apiKeyEnv != null) {
                requireVariable("apiKeyEnv", apiKeyEnv);
            }
            Map<String, String> h = headers == null ? Map.of() : headers;
            for (Map.Entry<String, String> e : h.entrySet()) {
                String name = e.getKey();
                if (name == null || name.isEmpty()) {
                    throw new IllegalArgumentException("headers: a header name is empty");
                }
                try {
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1/")).header(name, "x");
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException("headers." + name + ": " + ex.getMessage()
                            + " (the JDK's HTTP client does not let it be set)");
                }
                String lower = name.toLowerCase(Locale.ROOT);
                if (MANAGED_HEADERS.contains(lower)) {
                    throw new IllegalArgumentException("headers." + name + ": distill4j sets this header itself");
                }
                if (lower.equals("authorization") && (apiKeyEnv != null || apiKeyFile != null)) {
                    throw new IllegalArgumentException("headers." + name + ": the API key (apiKeyEnv or apiKeyFile) is sent "
                            + "as the Authorization header; give one or the other");
                }
                requireVariable("headers." + name, e.getValue());
            }
            if (caCertificates != null && !https) {
                throw new IllegalArgumentException("caCertificates is for https servers, but baseUri is " + baseUri);
            }
            if (apiKeyEnv == null && apiKeyFile == null && h.isEmpty() && caCertificates == null) {
                return Auth.NONE;
            }
            return new Auth(apiKeyEnv, apiKeyFile, h, caCertificates);
        }

        /** Refuses a value that is not a variable name without quoting it: it may be the secret itself. */
        private static void requireVariable(String field, String name) {
            if (name == null || !VARIABLE.matcher(name).matches()) {
                throw new IllegalArgumentException(field + ": expected the name of an environment variable (letters, digits "
                        + "and _, not starting with a digit); the value given is not one and is not shown, in case it is "
                        + "the secret itself");
            }
        }

        private static String redactUserInfo(URI u) {
            String port = u.getPort() < 0 ? "" : ":" + u.getPort();
            String host = u.getHost() == null ? "..." : u.getHost();
            return u.getScheme() + "://***@" + host + port + (u.getRawPath() == null ? "" : u.getRawPath());
        }

        private static void positive(String name, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(name + " must be positive, got " + v);
            }
        }
    }
}

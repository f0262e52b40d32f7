package io.distill4j.teacher.http;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

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
 * @param concurrency the most requests in flight at once, positive
 * @param maxRetries retries of a request after a transient failure (429, 5xx, timeout, refused connection,
 *     malformed JSON), >= 0
 * @param initialBackoff the wait before the first retry; it doubles per retry, with full jitter
 * @param maxBackoff the longest wait between retries (also caps a server's Retry-After)
 * @param connectTimeout the TCP connect timeout
 * @param requestTimeout the whole request's timeout
 * @param extraBody further JSON fields merged into every request body (server-specific options)
 */
public record HttpTeacherConfig(URI baseUri, String model, Endpoint endpoint, String systemPrompt, int k, int maxTokens,
        double temperature, double topP, int topK, double repetitionPenalty, int topLogprobs, long seed, List<String> stop,
        NMode nMode, int concurrency, int maxRetries, Duration initialBackoff, Duration maxBackoff, Duration connectTimeout,
        Duration requestTimeout, Map<String, Object> extraBody) {

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

    /** Copies the collections. */
    public HttpTeacherConfig {
        stop = List.copyOf(stop);
        extraBody = Map.copyOf(extraBody);
    }

    /** @return a builder with defaults: completions, k 4, 64 tokens, temperature 1, top-5 log-probs, 8 in flight */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the settings recorded in a cache's provenance (no transport settings) */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "openai-http");
        m.put("server", baseUri.toString());
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
            m.put("extraBody", new java.util.TreeMap<>(extraBody));
        }
        return m;
    }

    /** Builder of {@link HttpTeacherConfig}; {@link #build()} validates. */
    public static final class Builder {
        private URI baseUri;
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

        private Builder() {
        }

        /** @param v the server's base address @return this builder */
        public Builder setBaseUri(URI v) {
            baseUri = v;
            return this;
        }

        /** @param v the base address as text, such as {@code http://127.0.0.1:8080} @return this builder */
        public Builder setBaseUri(String v) {
            return setBaseUri(URI.create(v));
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
         * Validates and builds.
         *
         * @return the configuration
         * @throws IllegalArgumentException naming the first invalid field and its value
         */
        public HttpTeacherConfig build() {
            if (baseUri == null) {
                throw new IllegalArgumentException("baseUri is required (for example http://127.0.0.1:8080)");
            }
            String scheme = baseUri.getScheme();
            if (!"http".equals(scheme) && !"https".equals(scheme) || baseUri.getHost() == null) {
                throw new IllegalArgumentException("baseUri must be an http(s) address with a host, got " + baseUri);
            }
            if (baseUri.getPath() != null && baseUri.getPath().matches(".*/v1/?(chat/)?(completions)?/?$")) {
                throw new IllegalArgumentException("baseUri must not include the endpoint path (/v1/...), got " + baseUri);
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
            return new HttpTeacherConfig(baseUri, model, endpoint, systemPrompt, k, maxTokens, temperature, topP, topK,
                    repetitionPenalty, topLogprobs, seed, stop, nMode, concurrency, maxRetries, initialBackoff, maxBackoff,
                    connectTimeout, requestTimeout, extraBody);
        }

        private static void positive(String name, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(name + " must be positive, got " + v);
            }
        }
    }
}

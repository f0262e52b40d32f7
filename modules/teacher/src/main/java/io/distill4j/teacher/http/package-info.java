/**
 * A teacher behind an OpenAI-compatible HTTP server (vLLM, llama.cpp's llama-server, OpenAI).
 *
 * <p>{@link io.distill4j.teacher.http.HttpTeacher} samples k responses per prompt through
 * {@code /v1/completions} or {@code /v1/chat/completions} with bounded concurrency, retries with back-off
 * and an automatic fallback from {@code n = k} to k seeded requests, and hands each prompt's
 * {@link io.distill4j.teacher.http.PromptSamples} (token ids, per-position top-K log-probabilities, tail
 * mass) to a sink in prompt order. {@link io.distill4j.teacher.http.LlamaServer} starts a local
 * llama-server for tests and benchmarks.
 *
 * <p>Servers that want a key: {@link io.distill4j.teacher.http.HttpTeacherConfig.Auth} names the
 * environment variable or file of the API key, the variables of extra headers and a PEM file of private CA
 * certificates; the secrets are read once, when the teacher is created, and reach no message, log or
 * provenance entry.
 */
package io.distill4j.teacher.http;

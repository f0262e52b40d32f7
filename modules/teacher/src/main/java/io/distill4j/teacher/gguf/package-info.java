/**
 * GGUF, llama.cpp's model format: {@link io.distill4j.teacher.gguf.GgufWriter} writes metadata and float32
 * tensors; {@link io.distill4j.teacher.gguf.TinyLlamaGguf} writes a tiny random-weight Llama model with a
 * byte-fallback SentencePiece vocabulary, for serving with llama-server in tests and benchmarks.
 */
package io.distill4j.teacher.gguf;

/**
 * The all-MiniLM-L6-v2 sentence embedder (quantised ONNX, run by onnxruntime), registered as a
 * {@link io.distill4j.models.lm.SentenceEmbedder} service. It is its own artifact so that only the programs that
 * embed sentences (the {@code llm} experiment) carry onnxruntime and the model (about 110 MB of jars): put
 * {@code distill4j-minilm} on the class path to use it; {@code ./distill4j experiment llm} adds it by itself.
 */
package io.distill4j.minilm;

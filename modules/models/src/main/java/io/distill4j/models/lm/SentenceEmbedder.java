package io.distill4j.models.lm;

import io.distill4j.data.BadInputException;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Maps a text to a sentence embedding, for choosing among sampled answers ({@link AnswerSelection}) and for
 * scoring answers against references. Implementations register through {@link ServiceLoader} (the project's
 * own, all-MiniLM-L6-v2 as quantised ONNX, ships in {@code distill4j-minilm}), so that code which does not
 * embed sentences does not carry onnxruntime on its class path.
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
     * @throws BadInputException in one line naming the artifact to add, when none is registered or a registered
     *     one cannot be loaded (its onnxruntime jars missing)
     */
    static SentenceEmbedder load() {
        String add = "add io.distill4j:distill4j-minilm and its onnxruntime jars to the class path "
                + "(./distill4j experiment llm does so itself)";
        try {
            return ServiceLoader.load(SentenceEmbedder.class).findFirst().orElseThrow(() -> new BadInputException(
                    "no sentence embedder on the class path: " + add));
        } catch (ServiceConfigurationError | LinkageError e) {
            throw new BadInputException("the sentence embedder on the class path cannot be loaded (" + e.getMessage()
                    + "): " + add, e);
        }
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

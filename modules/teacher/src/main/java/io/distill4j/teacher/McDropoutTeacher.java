package io.distill4j.teacher;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.Sha256;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.TeacherCacheWriter;
import io.distill4j.trainer.StudentTrainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * A classification teacher sampled by MC dropout: each of the k samples of an input is the softmax of
 * one forward pass with dropout active.
 *
 * <p>Sampling is reproducible and resumable: the engine is re-seeded with {@code seed + firstRow} before
 * each batch, so a resumed run writes the same samples an uninterrupted one would.
 */
public final class McDropoutTeacher {

    private final Model model;
    private final int k;
    private final int classes;
    private final long seed;
    private final String description;

    /**
     * Creates the teacher.
     *
     * @param model a trained classifier whose block has dropout layers
     * @param k samples per input, positive
     * @param classes the number of classes the model outputs, positive
     * @param seed the sampling seed
     * @param description the architecture, recorded in the cache's provenance
     */
    public McDropoutTeacher(Model model, int k, int classes, long seed, String description) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (classes <= 0) {
            throw new IllegalArgumentException("classes must be positive, got " + classes);
        }
        this.model = model;
        this.k = k;
        this.classes = classes;
        this.seed = seed;
        this.description = description;
    }

    /**
     * Writes k samples for every input row into a cache directory, resuming after its last committed item.
     *
     * @param features the inputs, n rows
     * @param cacheDir the cache directory (created when missing)
     * @param batchSize inputs per forward pass, positive
     * @param progress told the number of items written after each batch
     * @return the cache, opened for reading
     */
    public TeacherCache sample(float[][] features, Path cacheDir, int batchSize, LongConsumer progress) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        int n = features.length;
        int d = features[0].length;
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("name", "mc-dropout");
        provenance.put("architecture", description);
        provenance.put("k", k);
        provenance.put("seed", seed);
        provenance.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(cacheDir, "classification", k, classes,
                "probabilities", provenance, Sha256.fingerprint(features), 4096)) {
            for (int start = (int) w.nextItem(); start < n; start += batchSize) {
                int end = Math.min(n, start + batchSize);
                Engine.getInstance().setRandomSeed((int) (seed + start));
                try (NDManager m = model.getNDManager().newSubManager()) {
                    float[] flat = new float[(end - start) * d];
                    for (int i = start; i < end; i++) {
                        System.arraycopy(features[i], 0, flat, (i - start) * d, d);
                    }
                    NDArray x = m.create(flat, new Shape(end - start, d));
                    NDArray p = StudentTrainer.mcDropout(model.getBlock(), x, k).transpose(1, 0, 2);
                    float[] values = p.toFloatArray();
                    int c = (int) p.getShape().get(2);
                    if (c != classes) {
                        throw new IllegalStateException("the model outputs " + c + " classes, the teacher was declared with " + classes);
                    }
                    for (int i = 0; i < end - start; i++) {
                        float[][] item = new float[k][c];
                        for (int j = 0; j < k; j++) {
                            System.arraycopy(values, (i * k + j) * c, item[j], 0, c);
                        }
                        w.append(item);
                    }
                }
                progress.accept(end);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(cacheDir + ": cannot write the teacher cache", e);
        }
        return TeacherCache.open(cacheDir);
    }
}

package io.distill4j.cli;

import io.distill4j.data.Require;
import io.distill4j.pipeline.Draws;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Settings of the demo: digits, an MC-dropout MLP teacher, k samples per input, M students per target.
 *
 * @param datasetDir the folder of scikit-learn's CSVs (holding {@code digits.csv})
 * @param runsDir where the run's folder {@code <timestamp>/} is created
 * @param k teacher samples per training input
 * @param students students (seeds) per target
 * @param teacherEpochs teacher training epochs
 * @param studentEpochs student training epochs
 * @param targets target-builder names, in table order
 * @param seed the base seed (split, teacher, sampling; student m uses seed + 1 + m)
 * @param labelNoise the fraction of training labels replaced by another class, in [0, 1): it makes the teacher
 *     honestly uncertain (the test labels stay clean)
 * @param teacherDropout the teacher's dropout rate, in [0, 1): its MC-dropout draws differ more with more
 * @param draws whether each student distils its own draws (the paper's design) or all share them
 */
public record DemoConfig(Path datasetDir, Path runsDir, int k, int students, int teacherEpochs, int studentEpochs,
        List<String> targets, long seed, double labelNoise, double teacherDropout, Draws draws) {

    /** The default label noise: 20% of the training labels flipped (chosen by measurement, see README). */
    public static final double DEFAULT_LABEL_NOISE = 0.2;
    /** The default teacher dropout. */
    public static final double DEFAULT_TEACHER_DROPOUT = 0.5;

    /** The default targets: one sample, mean of k, practical inverse-variance fusion. */
    public static final List<String> DEFAULT_TARGETS = List.of("single", "mean", "inverse-variance");

    /** Validates the counts. */
    public DemoConfig {
        Require.positive("k", k);
        if (students < 2) {
            throw new IllegalArgumentException("students must be at least 2 (inter-student variance), got " + students);
        }
        Require.positive("teacherEpochs", teacherEpochs);
        Require.positive("studentEpochs", studentEpochs);
        if (!(labelNoise >= 0 && labelNoise < 1)) {
            throw new IllegalArgumentException("label noise must be in [0, 1), got " + labelNoise);
        }
        if (!(teacherDropout >= 0 && teacherDropout < 1)) {
            throw new IllegalArgumentException("teacher dropout must be in [0, 1), got " + teacherDropout);
        }
        java.util.Objects.requireNonNull(draws, "draws");
        targets = List.copyOf(targets);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("targets must name at least one target builder");
        }
    }

    /** @return the settings as a map, for the run's provenance */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("dataset", datasetDir.resolve("digits.csv").toString());
        m.put("k", k);
        m.put("students", students);
        m.put("teacherEpochs", teacherEpochs);
        m.put("studentEpochs", studentEpochs);
        m.put("targets", targets);
        m.put("seed", seed);
        m.put("labelNoise", labelNoise);
        m.put("teacherDropout", teacherDropout);
        m.put("draws", draws.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        return m;
    }
}

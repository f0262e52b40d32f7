package io.distill4j.cli;

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
 */
public record DemoConfig(Path datasetDir, Path runsDir, int k, int students, int teacherEpochs, int studentEpochs,
        List<String> targets, long seed) {

    /** The default targets: one sample, mean of k, practical inverse-variance fusion. */
    public static final List<String> DEFAULT_TARGETS = List.of("single", "mean", "inverse-variance");

    /** Validates the counts. */
    public DemoConfig {
        positive("k", k);
        if (students < 2) {
            throw new IllegalArgumentException("students must be at least 2 (inter-student variance), got " + students);
        }
        positive("teacherEpochs", teacherEpochs);
        positive("studentEpochs", studentEpochs);
        targets = List.copyOf(targets);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("targets must name at least one target builder");
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }

    /** @return the settings as a map, for the run's provenance */
    public Map<String, Object> asMap() {
        return Map.of("dataset", datasetDir.resolve("digits.csv").toString(), "k", k, "students", students,
                "teacherEpochs", teacherEpochs, "studentEpochs", studentEpochs, "targets", targets, "seed", seed);
    }
}

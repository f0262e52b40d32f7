package io.distill4j.trainer;



import io.distill4j.models.Inference;
import io.distill4j.data.Rows;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Standard {@link MultiStudentRun.StudentScorer}s and {@link Validator}s for classification and regression. */
public final class Evaluators {

    /** Metrics a classification validator can watch, with whether higher is better. */
    public static final Map<String, Boolean> CLASSIFICATION_METRICS = Map.of("accuracy", true, "nll", false, "ece",
            false, "brier", false);

    private Evaluators() {
    }

    /**
     * Scores a classifier on held-out items: accuracy, nll, ece, brier, entropy, entropy_correct,
     * entropy_wrong; with teacher probabilities also divergence (mean KL(teacher || student)); with
     * {@code mcPasses} of at least 2 also intra_variance (over that many MC-dropout passes, seeded by the
     * student's seed). Predictions are the inference-mode probabilities.
     *
     * @param features the held-out rows
     * @param labels their classes
     * @param teacher the teacher's probabilities on the same rows, or null
     * @param mcPasses MC-dropout passes for the intra-student variance; 0 to skip
     * @return the evaluator
     */
    public static MultiStudentRun.StudentScorer classification(float[][] features, int[] labels, double[][] teacher,
            int mcPasses) {
        if (features.length != labels.length) {
            throw new IllegalArgumentException(features.length + " rows but " + labels.length + " labels");
        }
        if (teacher != null && teacher.length != labels.length) {
            throw new IllegalArgumentException(teacher.length + " teacher rows for " + labels.length + " items");
        }
        if (mcPasses == 1 || mcPasses < 0) {
            throw new IllegalArgumentException("mcPasses must be 0 or at least 2, got " + mcPasses);
        }
        return (seed, model) -> {
            double[][] p = Metrics.toDouble(Inference.probabilities(model, features, false));
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("accuracy", Metrics.accuracy(p, labels));
            m.put("nll", Metrics.nll(p, labels));
            m.put("ece", Metrics.ece(p, labels));
            m.put("brier", Metrics.brier(p, labels));
            m.put("entropy", Metrics.meanEntropy(p));
            Metrics.EntropySplit split = Metrics.entropyByCorrectness(p, labels);
            m.put("entropy_correct", split.correct());
            m.put("entropy_wrong", split.wrong());
            if (teacher != null) {
                m.put("divergence", Metrics.distillationDivergence(teacher, p));
            }
            if (mcPasses >= 2) {
                m.put("intra_variance", Metrics.intraStudentVariance(mcDropoutPasses(model, features, mcPasses, seed)));
            }
            return new MultiStudentRun.StudentScore(m, p);
        };
    }

    /**
     * Scores a regressor on held-out items: mse. Predictions are the outputs.
     *
     * @param features the held-out rows
     * @param targets their true values, n rows of D
     * @return the evaluator
     */
    public static MultiStudentRun.StudentScorer regression(float[][] features, double[][] targets) {
        if (features.length != targets.length) {
            throw new IllegalArgumentException(features.length + " rows but " + targets.length + " targets");
        }
        return (seed, model) -> {
            double[][] y = Metrics.toDouble(Inference.outputs(model, features, false));
            return new MultiStudentRun.StudentScore(Map.of("mse", Metrics.mse(y, targets)), y);
        };
    }

    /**
     * A validator of a classification metric.
     *
     * @param features held-out rows
     * @param labels their classes
     * @param metric one of {@link #CLASSIFICATION_METRICS}
     * @return the validator
     * @throws IllegalArgumentException naming the metric if it is unknown
     */
    public static Validator classificationValidator(float[][] features, int[] labels, String metric) {
        higherIsBetter(metric);
        return model -> {
            double[][] p = Metrics.toDouble(Inference.probabilities(model, features, false));
            switch (metric) {
                case "accuracy":
                    return Metrics.accuracy(p, labels);
                case "nll":
                    return Metrics.nll(p, labels);
                case "ece":
                    return Metrics.ece(p, labels);
                default:
                    return Metrics.brier(p, labels);
            }
        };
    }

    /**
     * A validator of the mean squared error.
     *
     * @param features held-out rows
     * @param targets their values
     * @return the validator
     */
    public static Validator mseValidator(float[][] features, double[][] targets) {
        return model -> Metrics.mse(Metrics.toDouble(Inference.outputs(model, features, false)), targets);
    }

    /**
     * Whether a higher value of a validation metric is better.
     *
     * @param metric accuracy, nll, ece, brier or mse
     * @return true for accuracy
     * @throws IllegalArgumentException naming the metric if it is unknown
     */
    public static boolean higherIsBetter(String metric) {
        if ("mse".equals(metric)) {
            return false;
        }
        Boolean b = CLASSIFICATION_METRICS.get(metric);
        if (b == null) {
            throw new IllegalArgumentException("unknown validation metric '" + metric + "' (known: "
                    + List.of("accuracy", "nll", "ece", "brier", "mse") + ")");
        }
        return b;
    }

    /**
     * MC-dropout probabilities of a classifier, seeded for reproducibility.
     *
     * @param model the classifier
     * @param features the rows
     * @param passes the passes S
     * @param seed seeds the dropout masks
     * @return {@code [s][item][class]}
     */
    public static double[][][] mcDropoutPasses(ai.djl.Model model, float[][] features, int passes, long seed) {
        int n = features.length;
        double[][][] out = new double[passes][n][];
        Engine.getInstance().setRandomSeed((int) seed);
        for (int start = 0; start < n; start += io.distill4j.models.Inference.BATCH) {
            int end = Math.min(n, start + io.distill4j.models.Inference.BATCH);
            try (NDManager m = model.getNDManager().newSubManager()) {
                float[][] rows = java.util.Arrays.copyOfRange(features, start, end);
                NDArray x = m.create(Rows.flatten(rows), new Shape(end - start, features[0].length));
                float[] flat = Inference.mcDropout(model.getBlock(), x, passes).toFloatArray();
                int c = flat.length / (passes * (end - start));
                for (int s = 0; s < passes; s++) {
                    for (int i = start; i < end; i++) {
                        double[] row = new double[c];
                        int base = (s * (end - start) + (i - start)) * c;
                        for (int k = 0; k < c; k++) {
                            row[k] = flat[base + k];
                        }
                        out[s][i] = row;
                    }
                }
            }
        }
        return out;
    }
}

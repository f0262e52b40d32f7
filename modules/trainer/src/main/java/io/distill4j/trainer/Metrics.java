package io.distill4j.trainer;

import io.distill4j.data.Rows;

/**
 * Evaluation metrics in plain double precision: accuracy, NLL, ECE, Brier score, entropies (also split by
 * correct and wrong predictions), intra- and inter-student variance, distillation divergence and MSE.
 *
 * <p>{@code probs[i][c]} is the predicted probability of class c for item i; {@code labels[i]} its true
 * class. Logarithms are natural; probabilities are clamped at {@value #FLOOR} inside logarithms.
 */
public final class Metrics {

    /** Lower clamp of probabilities inside logarithms. */
    public static final double FLOOR = 1e-12;
    /** Number of equal-width confidence bins of {@link #ece}. */
    public static final int ECE_BINS = 10;

    private Metrics() {
    }

    private static void check(double[][] probs, int[] labels) {
        if (probs.length == 0 || probs.length != labels.length) {
            throw new IllegalArgumentException("probs has " + probs.length + " rows, labels " + labels.length
                    + " (need the same, at least one)");
        }
    }

    /**
     * Accuracy: the fraction of items whose argmax is the label.
     *
     * @param probs predicted probabilities
     * @param labels true classes
     * @return accuracy in [0, 1]
     */
    public static double accuracy(double[][] probs, int[] labels) {
        check(probs, labels);
        int hits = 0;
        for (int i = 0; i < probs.length; i++) {
            if (Rows.argmax(probs[i]) == labels[i]) {
                hits++;
            }
        }
        return hits / (double) probs.length;
    }

    /**
     * Negative log-likelihood: (1/n) sum_i -log p_i[y_i].
     *
     * @param probs predicted probabilities
     * @param labels true classes
     * @return the mean NLL in nats
     */
    public static double nll(double[][] probs, int[] labels) {
        check(probs, labels);
        double s = 0;
        for (int i = 0; i < probs.length; i++) {
            s -= Math.log(Math.max(FLOOR, probs[i][labels[i]]));
        }
        return s / probs.length;
    }

    /**
     * Expected calibration error with {@value #ECE_BINS} equal-width bins of confidence (the top
     * probability): ECE = sum_b (|B_b| / n) * |acc(B_b) - conf(B_b)|. Bin b holds confidences in
     * (b/10, (b+1)/10], bin 0 also holds 0.
     *
     * @param probs predicted probabilities
     * @param labels true classes
     * @return the ECE in [0, 1]
     */
    public static double ece(double[][] probs, int[] labels) {
        check(probs, labels);
        double[] conf = new double[ECE_BINS];
        double[] hits = new double[ECE_BINS];
        int[] count = new int[ECE_BINS];
        for (int i = 0; i < probs.length; i++) {
            int top = Rows.argmax(probs[i]);
            double c = probs[i][top];
            int b = Math.min(ECE_BINS - 1, Math.max(0, (int) Math.ceil(c * ECE_BINS) - 1));
            conf[b] += c;
            hits[b] += top == labels[i] ? 1 : 0;
            count[b]++;
        }
        double e = 0;
        for (int b = 0; b < ECE_BINS; b++) {
            if (count[b] > 0) {
                e += Math.abs(hits[b] - conf[b]) / probs.length;
            }
        }
        return e;
    }

    /**
     * Brier score: (1/n) sum_i sum_c (p_ic - [c = y_i])^2.
     *
     * @param probs predicted probabilities
     * @param labels true classes
     * @return the Brier score in [0, 2]
     */
    public static double brier(double[][] probs, int[] labels) {
        check(probs, labels);
        double s = 0;
        for (int i = 0; i < probs.length; i++) {
            for (int c = 0; c < probs[i].length; c++) {
                double d = probs[i][c] - (c == labels[i] ? 1 : 0);
                s += d * d;
            }
        }
        return s / probs.length;
    }

    /**
     * Entropy of one distribution, -sum_c p_c log p_c (0 log 0 = 0).
     *
     * @param p the distribution
     * @return the entropy in nats
     */
    public static double entropy(double[] p) {
        double h = 0;
        for (double v : p) {
            if (v > 0) {
                h -= v * Math.log(v);
            }
        }
        return h;
    }

    /**
     * Mean predictive entropy over items.
     *
     * @param probs predicted probabilities
     * @return (1/n) sum_i H(p_i)
     */
    public static double meanEntropy(double[][] probs) {
        double s = 0;
        for (double[] p : probs) {
            s += entropy(p);
        }
        return s / probs.length;
    }

    /**
     * Inter-student variance: the variance across M students of the predicted probabilities (ddof 1, the
     * unbiased estimate), averaged over items and classes:
     * (1/(nC)) sum_i sum_c (1/(M-1)) sum_m (p^m_ic - mean_m p^m_ic)^2.
     *
     * @param probs {@code probs[m][i][c]} for M at least 2 students on the same items
     * @return the mean variance
     */
    public static double interStudentVariance(double[][][] probs) {
        int m = probs.length;
        if (m < 2) {
            throw new IllegalArgumentException("inter-student variance needs at least 2 students, got " + m);
        }
        return meanVarianceAcross(probs);
    }

    /**
     * Mean predictive entropy of the correctly and of the wrongly predicted items (argmax against label):
     * a well-calibrated model is more uncertain where it is wrong.
     *
     * @param probs predicted probabilities
     * @param labels true classes
     * @return both means (NaN for a group without items) and the group sizes
     */
    public static EntropySplit entropyByCorrectness(double[][] probs, int[] labels) {
        check(probs, labels);
        double right = 0;
        double wrong = 0;
        int nRight = 0;
        int nWrong = 0;
        for (int i = 0; i < probs.length; i++) {
            double h = entropy(probs[i]);
            if (Rows.argmax(probs[i]) == labels[i]) {
                right += h;
                nRight++;
            } else {
                wrong += h;
                nWrong++;
            }
        }
        return new EntropySplit(nRight > 0 ? right / nRight : Double.NaN, nWrong > 0 ? wrong / nWrong : Double.NaN,
                nRight, nWrong);
    }

    /**
     * Mean entropies of correct and wrong predictions.
     *
     * @param correct mean entropy of the correctly predicted items (NaN if none)
     * @param wrong mean entropy of the wrongly predicted items (NaN if none)
     * @param nCorrect number of correctly predicted items
     * @param nWrong number of wrongly predicted items
     */
    public record EntropySplit(double correct, double wrong, int nCorrect, int nWrong) {
    }

    /**
     * Intra-student variance: the variance of one student's predictive distribution across S stochastic
     * passes (MC dropout or samples), ddof 1, averaged over items and classes:
     * (1/(nC)) sum_i sum_c (1/(S-1)) sum_s (p^s_ic - mean_s p^s_ic)^2.
     *
     * @param passes {@code passes[s][i][c]} for S at least 2 passes over the same items
     * @return the mean variance
     */
    public static double intraStudentVariance(double[][][] passes) {
        if (passes.length < 2) {
            throw new IllegalArgumentException("intra-student variance needs at least 2 passes, got " + passes.length);
        }
        return meanVarianceAcross(passes);
    }

    /**
     * Inter-student variance of parameters: the variance across M students of each parameter entry (ddof 1),
     * averaged over the P entries: (1/P) sum_j (1/(M-1)) sum_m (w^m_j - mean_m w^m_j)^2.
     *
     * @param parameters {@code parameters[m][j]}: every student's parameters, flattened in the same order
     * @return the mean variance
     */
    public static double interStudentParameterVariance(float[][] parameters) {
        int m = parameters.length;
        if (m < 2) {
            throw new IllegalArgumentException("inter-student variance needs at least 2 students, got " + m);
        }
        int p = parameters[0].length;
        for (float[] w : parameters) {
            if (w.length != p) {
                throw new IllegalArgumentException("students have " + p + " and " + w.length + " parameters");
            }
        }
        double total = 0;
        for (int j = 0; j < p; j++) {
            double mean = 0;
            for (float[] w : parameters) {
                mean += w[j];
            }
            mean /= m;
            double ss = 0;
            for (float[] w : parameters) {
                ss += (w[j] - mean) * (w[j] - mean);
            }
            total += ss / (m - 1);
        }
        return total / p;
    }

    /**
     * Distillation divergence: the mean over held-out items of KL(teacher || student) =
     * sum_c t_ic log(t_ic / s_ic), with 0 log 0 = 0 and student probabilities clamped at {@value #FLOOR}.
     *
     * @param teacher the teacher's probabilities (for a sampled teacher, the mean of its samples)
     * @param student the student's probabilities on the same items
     * @return the mean KL divergence in nats
     */
    public static double distillationDivergence(double[][] teacher, double[][] student) {
        if (teacher.length == 0 || teacher.length != student.length) {
            throw new IllegalArgumentException("teacher has " + teacher.length + " rows, student " + student.length
                    + " (need the same, at least one)");
        }
        double s = 0;
        for (int i = 0; i < teacher.length; i++) {
            if (teacher[i].length != student[i].length) {
                throw new IllegalArgumentException("row " + i + ": teacher has " + teacher[i].length
                        + " classes, student " + student[i].length);
            }
            for (int c = 0; c < teacher[i].length; c++) {
                double t = teacher[i][c];
                if (t > 0) {
                    s += t * (Math.log(t) - Math.log(Math.max(FLOOR, student[i][c])));
                }
            }
        }
        return s / teacher.length;
    }

    /**
     * Mean squared error over all items and outputs: (1/(nD)) sum_i sum_d (y_id - t_id)^2.
     *
     * @param predictions predicted values, n rows of D
     * @param targets true values, n rows of D
     * @return the MSE
     */
    public static double mse(double[][] predictions, double[][] targets) {
        if (predictions.length == 0 || predictions.length != targets.length) {
            throw new IllegalArgumentException("predictions have " + predictions.length + " rows, targets "
                    + targets.length + " (need the same, at least one)");
        }
        double s = 0;
        long count = 0;
        for (int i = 0; i < predictions.length; i++) {
            if (predictions[i].length != targets[i].length) {
                throw new IllegalArgumentException("row " + i + ": " + predictions[i].length + " predictions for "
                        + targets[i].length + " targets");
            }
            for (int d = 0; d < predictions[i].length; d++) {
                double e = predictions[i][d] - targets[i][d];
                s += e * e;
                count++;
            }
        }
        return s / count;
    }

    /** The mean over entries of the ddof-1 variance across the first axis. */
    private static double meanVarianceAcross(double[][][] x) {
        double total = 0;
        for (double v : itemVariances(x)) {
            total += v;
        }
        return total / x[0].length;
    }

    /**
     * The inter-student variance of each test item: for item i, the ddof-1 variance across students of each
     * predicted probability, averaged over the classes. Their mean over items is {@link #interStudentVariance}; a
     * bootstrap over items resamples them.
     *
     * @param probs predictions (M students, N items, C classes), M at least 2
     * @return N per-item variances
     */
    public static double[] itemVariances(double[][][] probs) {
        if (probs.length < 2) {
            throw new IllegalArgumentException("a variance across students needs at least 2 students, got " + probs.length);
        }
        int m = probs.length;
        int n = probs[0].length;
        int c = probs[0][0].length;
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double total = 0;
            for (int k = 0; k < c; k++) {
                double mean = 0;
                for (double[][] s : probs) {
                    mean += s[i][k];
                }
                mean /= m;
                double ss = 0;
                for (double[][] s : probs) {
                    double d = s[i][k] - mean;
                    ss += d * d;
                }
                total += ss / (m - 1);
            }
            out[i] = total / c;
        }
        return out;
    }

    /**
     * Converts float probabilities to doubles.
     *
     * @param p float rows
     * @return double rows
     */
    public static double[][] toDouble(float[][] p) {
        double[][] d = new double[p.length][];
        for (int i = 0; i < p.length; i++) {
            d[i] = new double[p[i].length];
            for (int c = 0; c < p[i].length; c++) {
                d[i][c] = p[i][c];
            }
        }
        return d;
    }
}

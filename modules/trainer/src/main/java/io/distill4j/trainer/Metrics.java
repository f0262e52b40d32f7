package io.distill4j.trainer;

/**
 * Evaluation metrics on predicted class probabilities, in plain double precision.
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

    /** @return the index of the largest entry (the first on ties) */
    static int argmax(double[] p) {
        int best = 0;
        for (int c = 1; c < p.length; c++) {
            if (p[c] > p[best]) {
                best = c;
            }
        }
        return best;
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
            if (argmax(probs[i]) == labels[i]) {
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
            int top = argmax(probs[i]);
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
        int n = probs[0].length;
        int c = probs[0][0].length;
        double total = 0;
        for (int i = 0; i < n; i++) {
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
        }
        return total / ((double) n * c);
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

package io.distill4j.models.lm;

/**
 * The response-selection rules of Cui &amp; Pei (arXiv 2601.18909, LLM setting), on sentence embeddings of
 * the teacher's k sampled answers to one question.
 *
 * <ul>
 *   <li><b>mean-in-embedding</b>: the answer whose embedding is closest (cosine) to mu_T, the mean of the k
 *       embeddings;</li>
 *   <li><b>inverse-variance</b>: mu_VA = a_T mu_T + a_S mu_S with mu_S the mean embedding of k samples of the
 *       untrained student, a_T = w_T / (w_T + w_S), a_S = 1 - a_T, w = 1 / (var + 1e-8) and var the mean
 *       per-dimension variance (ddof 0) of the respective k embeddings; the answer closest to mu_VA.</li>
 * </ul>
 * Ties go to the earliest answer.
 */
public final class AnswerSelection {
    /** The variance floor of the inverse-variance weights, as in the paper's code. */
    public static final double EPS = 1e-8;

    private AnswerSelection() {
    }

    /**
     * The mean of embeddings.
     *
     * @param e k embeddings of one width, k &gt;= 1
     * @return their mean
     */
    public static double[] mean(double[][] e) {
        double[] m = new double[e[0].length];
        for (double[] v : e) {
            if (v.length != m.length) {
                throw new IllegalArgumentException("embeddings differ in width: " + v.length + " vs " + m.length);
            }
            for (int i = 0; i < m.length; i++) {
                m[i] += v[i] / e.length;
            }
        }
        return m;
    }

    /**
     * The mean over dimensions of the per-dimension variance (ddof 0).
     *
     * @param e k embeddings
     * @return (1/D) sum_d (1/k) sum_j (e_jd - mean_d)^2
     */
    public static double meanVariance(double[][] e) {
        double[] m = mean(e);
        double s = 0;
        for (double[] v : e) {
            for (int i = 0; i < m.length; i++) {
                s += (v[i] - m[i]) * (v[i] - m[i]);
            }
        }
        return s / e.length / m.length;
    }

    /**
     * The index of the embedding closest (cosine) to a target.
     *
     * @param e candidate embeddings
     * @param target the target
     * @return the first index of highest cosine similarity
     */
    public static int closest(double[][] e, double[] target) {
        int best = 0;
        double bestSim = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < e.length; j++) {
            double s = SentenceEmbedder.cosine(e[j], target);
            if (s > bestSim) {
                bestSim = s;
                best = j;
            }
        }
        return best;
    }

    /**
     * Mean-in-embedding selection.
     *
     * @param teacher the k teacher answers' embeddings
     * @return the index of the selected answer
     */
    public static int meanSelection(double[][] teacher) {
        return closest(teacher, mean(teacher));
    }

    /**
     * The teacher's weight a_T of inverse-variance fusion.
     *
     * @param teacher the teacher answers' embeddings
     * @param student the untrained student's answers' embeddings
     * @return w_T / (w_T + w_S), w = 1 / (mean variance + 1e-8)
     */
    public static double teacherWeight(double[][] teacher, double[][] student) {
        double wt = 1 / (meanVariance(teacher) + EPS);
        double ws = 1 / (meanVariance(student) + EPS);
        return wt / (wt + ws);
    }

    /**
     * Inverse-variance selection.
     *
     * @param teacher the k teacher answers' embeddings
     * @param student embeddings of k answers of the untrained student to the same question
     * @return the index of the teacher answer closest to mu_VA = a_T mu_T + a_S mu_S
     */
    public static int inverseVarianceSelection(double[][] teacher, double[][] student) {
        double a = teacherWeight(teacher, student);
        double[] mt = mean(teacher);
        double[] ms = mean(student);
        if (mt.length != ms.length) {
            throw new IllegalArgumentException("teacher and student embeddings differ in width");
        }
        double[] va = new double[mt.length];
        for (int i = 0; i < va.length; i++) {
            va[i] = a * mt[i] + (1 - a) * ms[i];
        }
        return closest(teacher, va);
    }
}

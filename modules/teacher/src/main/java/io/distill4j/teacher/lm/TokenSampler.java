package io.distill4j.teacher.lm;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Draws the next token from logits and reads the model's top-K log-probabilities, in double precision.
 *
 * <p>The recorded distribution is the model's own, {@code log_softmax(z)} of the raw logits: what a
 * student is distilled towards. The draw uses the processed distribution of {@link SamplingConfig}.
 */
final class TokenSampler {

    private final SamplingConfig cfg;

    TokenSampler(SamplingConfig cfg) {
        this.cfg = cfg;
    }

    /**
     * The top-K of {@code log_softmax(z)}, most probable first, and the log of the mass outside them.
     *
     * @param z logits, V values
     * @param k K, at most V
     * @param ids receives K ids
     * @param logprobs receives K log-probabilities
     * @return the tail log-mass {@code log(sum of p outside the top-K)}, -infinity when none is left
     */
    static double topK(float[] z, int k, int[] ids, float[] logprobs) {
        int v = z.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float x : z) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : z) {
            sum += Math.exp(x - max);
        }
        double logZ = max + Math.log(sum);
        // selection of the K largest, ties broken by the smaller id
        int[] best = new int[k];
        Arrays.fill(best, -1);
        for (int i = 0; i < v; i++) {
            int pos = k;
            while (pos > 0 && (best[pos - 1] < 0 || z[i] > z[best[pos - 1]])) {
                pos--;
            }
            if (pos < k) {
                System.arraycopy(best, pos, best, pos + 1, k - pos - 1);
                best[pos] = i;
            }
        }
        double tail = 0;
        boolean[] in = new boolean[v];
        for (int j = 0; j < k; j++) {
            ids[j] = best[j];
            logprobs[j] = (float) (z[best[j]] - logZ);
            in[best[j]] = true;
        }
        for (int i = 0; i < v; i++) {
            if (!in[i]) {
                tail += Math.exp(z[i] - logZ);
            }
        }
        return tail > 0 ? Math.log(tail) : Double.NEGATIVE_INFINITY;
    }

    /**
     * The processed next-token probabilities (penalty, temperature, top-k, top-p), normalised.
     *
     * @param z logits, V values (not modified)
     * @param history the ids already in the sequence (prompt and response so far)
     * @return V probabilities; for temperature 0 a one-hot of the arg-max of the penalised logits
     */
    double[] distribution(float[] z, int[] history, int historyLength) {
        int v = z.length;
        double[] l = new double[v];
        for (int i = 0; i < v; i++) {
            l[i] = z[i];
        }
        if (cfg.repetitionPenalty() != 1.0) {
            boolean[] seen = new boolean[v];
            for (int i = 0; i < historyLength; i++) {
                seen[history[i]] = true;
            }
            for (int i = 0; i < v; i++) {
                if (seen[i]) {
                    l[i] = l[i] > 0 ? l[i] / cfg.repetitionPenalty() : l[i] * cfg.repetitionPenalty();
                }
            }
        }
        double[] p = new double[v];
        if (cfg.temperature() == 0) {
            int arg = 0;
            for (int i = 1; i < v; i++) {
                if (l[i] > l[arg]) {
                    arg = i;
                }
            }
            p[arg] = 1;
            return p;
        }
        for (int i = 0; i < v; i++) {
            l[i] /= cfg.temperature();
        }
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> l[b] != l[a] ? Double.compare(l[b], l[a]) : Integer.compare(a, b));
        int keep = cfg.topK() > 0 ? Math.min(cfg.topK(), v) : v;
        double max = l[order[0]];
        double sum = 0;
        for (int r = 0; r < keep; r++) {
            sum += Math.exp(l[order[r]] - max);
        }
        if (cfg.topP() < 1) {
            // keep the smallest prefix whose mass reaches p (the token that crosses p stays)
            double cum = 0;
            int n = 0;
            while (n < keep) {
                cum += Math.exp(l[order[n]] - max) / sum;
                n++;
                if (cum >= cfg.topP()) {
                    break;
                }
            }
            keep = Math.max(1, n);
            sum = 0;
            for (int r = 0; r < keep; r++) {
                sum += Math.exp(l[order[r]] - max);
            }
        }
        for (int r = 0; r < keep; r++) {
            p[order[r]] = Math.exp(l[order[r]] - max) / sum;
        }
        return p;
    }

    /**
     * Draws a token.
     *
     * @param z logits
     * @param history the ids in the sequence so far
     * @param historyLength how many of {@code history} are used
     * @param random the row's generator
     * @return the token id
     */
    int draw(float[] z, int[] history, int historyLength, RandomGenerator random) {
        double[] p = distribution(z, history, historyLength);
        double u = random.nextDouble();
        double cum = 0;
        int last = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                cum += p[i];
                last = i;
                if (u < cum) {
                    return i;
                }
            }
        }
        return last;
    }
}

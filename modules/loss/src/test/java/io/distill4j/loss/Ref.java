package io.distill4j.loss;

import java.util.Random;

/**
 * Plain-double reference implementations, written from the formulas in the javadoc and independent of
 * DJL. Items are rows: z[i] is item i's logit vector; mask[i] = 0 drops item i (null: none dropped).
 */
final class Ref {
    private Ref() {
    }

    static double[] logSoftmax(double[] z, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v / t);
        }
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v / t - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = z[i] / t - lse;
        }
        return out;
    }

    static double[] softmax(double[] z, double t) {
        double[] lp = logSoftmax(z, t);
        for (int i = 0; i < lp.length; i++) {
            lp[i] = Math.exp(lp[i]);
        }
        return lp;
    }

    static double mean(double[] items, double[] mask) {
        double s = 0;
        double n = 0;
        for (int i = 0; i < items.length; i++) {
            double m = mask == null ? 1 : mask[i];
            if (m != 0) {
                s += m * items[i];
                n += m;
            }
        }
        return s / Math.max(1, n);
    }

    static double kl(double[] p, double[] logQ) {
        double s = 0;
        for (int c = 0; c < p.length; c++) {
            if (p[c] > 0) {
                s += p[c] * (Math.log(p[c]) - logQ[c]);
            }
        }
        return s;
    }

    static double[] ceItems(double[][] z, int[] y) {
        double[] l = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            l[i] = -logSoftmax(z[i], 1)[y[i]];
        }
        return l;
    }

    static double[] softCeItems(double[][] z, double[][] t) {
        double[] l = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            double[] lp = logSoftmax(z[i], 1);
            for (int c = 0; c < lp.length; c++) {
                l[i] -= t[i][c] * lp[c];
            }
        }
        return l;
    }

    static double[] hintonItems(double[][] z, int[] y, double[][] pT, double tT, double tS, double alpha) {
        double[] l = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            double ce = -logSoftmax(z[i], 1)[y[i]];
            l[i] = (1 - alpha) * ce + alpha * tT * tS * kl(pT[i], logSoftmax(z[i], tS));
        }
        return l;
    }

    static double[] forwardKlItems(double[][] pT, double[][] z, double t) {
        double[] l = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            l[i] = kl(pT[i], logSoftmax(z[i], t));
        }
        return l;
    }

    static double[] reverseKlItems(double[][] pT, double[][] z, double t) {
        double[] l = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            double[] q = softmax(z[i], t);
            for (int c = 0; c < q.length; c++) {
                l[i] += q[c] * (Math.log(q[c]) - Math.log(pT[i][c]));
            }
        }
        return l;
    }

    /** Agarwal et al. 2024 generalised JSD, TRL convention (beta on the teacher), end points special-cased. */
    static double[] jsdItems(double[][] pT, double[][] z, double t, double beta, boolean normalise) {
        if (beta == 0) {
            return forwardKlItems(pT, z, t);
        }
        if (beta == 1) {
            return reverseKlItems(pT, z, t);
        }
        double[] l = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            double[] q = softmax(z[i], t);
            double klP = 0;
            double klQ = 0;
            for (int c = 0; c < q.length; c++) {
                double m = beta * pT[i][c] + (1 - beta) * q[c];
                if (pT[i][c] > 0) {
                    klP += pT[i][c] * Math.log(pT[i][c] / m);
                }
                klQ += q[c] * Math.log(q[c] / m);
            }
            l[i] = beta * klP + (1 - beta) * klQ;
            if (normalise) {
                l[i] /= beta * (1 - beta);
            }
        }
        return l;
    }

    static double[] mseItems(double[][] z, double[][] t) {
        double[] l = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            for (int d = 0; d < z[i].length; d++) {
                l[i] += (z[i][d] - t[i][d]) * (z[i][d] - t[i][d]) / z[i].length;
            }
        }
        return l;
    }

    static double[] gaussianNllItems(double[][] mu, double[][] s, double[][] t, double[][] v, boolean full) {
        double[] l = new double[mu.length];
        for (int i = 0; i < mu.length; i++) {
            for (int d = 0; d < mu[i].length; d++) {
                double var = Math.exp(Math.max(s[i][d], Math.log(1e-6)));
                double sq = (t[i][d] - mu[i][d]) * (t[i][d] - mu[i][d]) + (v == null ? 0 : v[i][d]);
                l[i] += 0.5 * (Math.log(var) + sq / var) / mu[i].length;
            }
            if (full) {
                l[i] += 0.5 * Math.log(2 * Math.PI);
            }
        }
        return l;
    }

    /**
     * Sparse top-K KL over K+1 buckets (or K renormalised buckets), with the student's tail computed exactly
     * as the sum of its probabilities outside the top-K ids.
     */
    static double[] sparseItems(double[][] z, int[][] ids, double[][] lp, double[] lt, double t, boolean tail) {
        double[] l = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            double[] q = softmax(z[i], t);
            int k = ids[i].length;
            double[] pT = new double[k + 1];
            double[] pS = new double[k + 1];
            double zT = 0;
            for (int j = 0; j < k; j++) {
                pT[j] = Math.exp(lp[i][j]);
                pS[j] = q[ids[i][j]];
                zT += pT[j];
            }
            boolean[] inTop = new boolean[q.length];
            for (int j = 0; j < k; j++) {
                inTop[ids[i][j]] = true;
            }
            double tailS = 0;
            for (int c = 0; c < q.length; c++) {
                if (!inTop[c]) {
                    tailS += q[c];
                }
            }
            int buckets;
            if (tail) {
                pT[k] = Math.exp(lt[i]);
                zT += pT[k];
                pS[k] = tailS;
                buckets = k + 1;
            } else {
                double zS = 0;
                for (int j = 0; j < k; j++) {
                    zS += pS[j];
                }
                for (int j = 0; j < k; j++) {
                    pS[j] /= zS;
                }
                buckets = k;
            }
            for (int b = 0; b < buckets; b++) {
                double p = pT[b] / zT;
                if (p > 0) {
                    l[i] += p * Math.log(p / pS[b]);
                }
            }
        }
        return l;
    }

    static double[] focalItems(double[][] z, int[] y, double gamma, double lambda, double maxW, double tau) {
        return focalItems(z, y, gamma, lambda, maxW, tau, null);
    }

    /** As above; with {@code at} given, the gate and weight are those of the logits {@code at} (held fixed). */
    static double[] focalItems(double[][] z, int[] y, double gamma, double lambda, double maxW, double tau,
            double[][] at) {
        double[] l = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            double[] lp = logSoftmax(z[i], 1);
            double py = Math.exp(lp[y[i]]);
            double focal = Math.pow(1 - py, gamma) * -lp[y[i]];
            int arg = 0;
            for (int c = 1; c < lp.length; c++) {
                if (lp[c] > lp[arg]) {
                    arg = c;
                }
            }
            double h = 0;
            for (double v : lp) {
                h -= Math.exp(v) * v;
            }
            double gate = arg != y[i] || py < tau ? 1 : 0;
            double w = Math.min(maxW, -lp[y[i]]);
            if (at != null) {
                double[] lp0 = logSoftmax(at[i], 1);
                int arg0 = 0;
                for (int c = 1; c < lp0.length; c++) {
                    if (lp0[c] > lp0[arg0]) {
                        arg0 = c;
                    }
                }
                gate = arg0 != y[i] || Math.exp(lp0[y[i]]) < tau ? 1 : 0;
                w = Math.min(maxW, -lp0[y[i]]);
            }
            l[i] = focal - lambda * gate * w * h;
        }
        return l;
    }

    static double weightedMean(double[] items, double[] var, double eps, double[] mask) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < items.length; i++) {
            double m = mask == null ? 1 : mask[i];
            double w = 1 / (var[i] + eps);
            num += m * w * items[i];
            den += m * w;
        }
        return num / den;
    }

    // ------------------------------------------------------------------------------------- targets

    static double[][] meanTarget(double[][][] s) {
        double[][] t = new double[s.length][s[0][0].length];
        for (int i = 0; i < s.length; i++) {
            for (double[] row : s[i]) {
                for (int c = 0; c < row.length; c++) {
                    t[i][c] += row[c] / s[i].length;
                }
            }
        }
        return t;
    }

    static double[][] ivTarget(double[][][] s, double[][] muS, double[][] varS, boolean paper, boolean renorm) {
        double[][] mean = meanTarget(s);
        double[][] t = new double[s.length][mean[0].length];
        int k = s[0].length;
        for (int i = 0; i < s.length; i++) {
            for (int c = 0; c < mean[i].length; c++) {
                double ss = 0;
                for (int j = 0; j < k; j++) {
                    ss += (s[i][j][c] - mean[i][c]) * (s[i][j][c] - mean[i][c]);
                }
                double varT = paper || k == 1 ? ss / k : ss / (k - 1) / k;
                double wT = 1 / (varT + 1e-8);
                double wS = 1 / (varS[i][c] + 1e-8);
                // the practical form at k = 1 takes the single sample as exact: a_T = 1
                double aT = !paper && k == 1 ? 1 : wT / (wT + wS);
                t[i][c] = aT * mean[i][c] + (1 - aT) * muS[i][c];
            }
            if (renorm) {
                double sum = 0;
                for (double v : t[i]) {
                    sum += v;
                }
                for (int c = 0; c < t[i].length; c++) {
                    t[i][c] /= sum;
                }
            }
        }
        return t;
    }

    static double[][] bayesianMean(double[][][] draws, boolean logits, double temperature) {
        double[][] t = new double[draws.length][draws[0][0].length];
        for (int i = 0; i < draws.length; i++) {
            for (double[] d : draws[i]) {
                double[] z = d.clone();
                if (!logits) {
                    for (int c = 0; c < z.length; c++) {
                        z[c] = Math.log(Math.max(z[c], 1e-30));
                    }
                }
                double[] p = softmax(z, temperature);
                for (int c = 0; c < p.length; c++) {
                    t[i][c] += p[c] / draws[i].length;
                }
            }
        }
        return t;
    }

    static double[][] wrongMassClip(double[][] p, int[] y, double budget) {
        double[][] out = new double[p.length][];
        for (int i = 0; i < p.length; i++) {
            out[i] = p[i].clone();
            int top = 0;
            for (int c = 1; c < p[i].length; c++) {
                if (p[i][c] > p[i][top]) {
                    top = c;
                }
            }
            if (top != y[i]) {
                double delta = Math.min(budget, p[i][top] - p[i][y[i]]);
                out[i][top] -= delta;
                out[i][y[i]] += delta;
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------- test data

    static double[][] logits(Random r, int n, int c, double scale) {
        double[][] z = new double[n][c];
        for (double[] row : z) {
            for (int j = 0; j < c; j++) {
                row[j] = r.nextGaussian() * scale;
            }
        }
        return z;
    }

    static double[][] probs(Random r, int n, int c, double scale) {
        double[][] z = logits(r, n, c, scale);
        for (int i = 0; i < n; i++) {
            z[i] = softmax(z[i], 1);
        }
        return z;
    }

    static int[] labels(Random r, int n, int c) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(c);
        }
        return y;
    }

    static double[] flat(double[][] a) {
        double[] f = new double[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, f, i * a[0].length, a[0].length);
        }
        return f;
    }

    static double[][] unflat(double[] f, int rows) {
        int cols = f.length / rows;
        double[][] a = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(f, i * cols, a[i], 0, cols);
        }
        return a;
    }

    static double[][] copy(double[][] a) {
        double[][] b = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i].clone();
        }
        return b;
    }
}

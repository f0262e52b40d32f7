package io.distill4j.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.loss.Loss;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Golden values of every loss against the plain-double reference {@link Ref} on small fixed tensors, in
 * float64 (tight) and float32 (loose), and finite-difference gradient checks in float64.
 */
class LossGoldenTest extends NdTestBase {
    static final int N = 4;
    static final int C = 5;
    final Random rnd = new Random(20260114);
    final double[][] z = Ref.logits(rnd, N, C, 1.5);
    final double[][] zT = Ref.logits(rnd, N, C, 2.0);
    final double[][] pT = Ref.probs(rnd, N, C, 1.5);
    final int[] y = {0, 3, 2, 4};

    private double value(Loss loss, NDList labels, NDArray pred) {
        return scalar(loss.evaluate(labels, new NDList(pred)));
    }

    private double value32(Loss loss, NDList labels, NDArray pred) {
        NDList l32 = new NDList();
        for (NDArray a : labels) {
            l32.add(a.getDataType() == DataType.FLOAT64 ? a.toType(DataType.FLOAT32, false) : a);
        }
        return scalar(loss.evaluate(l32, new NDList(pred.toType(DataType.FLOAT32, false))));
    }

    private void golden(String what, double ref, Loss loss, NDList labels, double[][] zz) {
        close(ref, value(loss, labels, nd(zz)), 1e-12, what + " (float64)");
        close(ref, value32(loss, labels, nd(zz)), 2e-5, what + " (float32)");
    }

    @Test
    void crossEntropy() {
        double ref = Ref.mean(Ref.ceItems(z, y), null);
        golden("ce", ref, new CrossEntropyLoss(), list(ids(y)), z);
        // hand check of item 0: -log softmax(z_0)_0
        double[] lp = Ref.logSoftmax(z[0], 1);
        assertEquals(-lp[0], Ref.ceItems(z, y)[0], 1e-15);
        gradCheck("ce", z, new long[] {N, C}, zz -> Ref.mean(Ref.ceItems(zz, y), null),
                zz -> new CrossEntropyLoss().evaluate(list(ids(y)), list(zz)));
    }

    @Test
    void softCrossEntropy() {
        golden("soft-ce", Ref.mean(Ref.softCeItems(z, pT), null), new SoftTargetCrossEntropyLoss(), list(nd(pT)), z);
        gradCheck("soft-ce", z, new long[] {N, C}, zz -> Ref.mean(Ref.softCeItems(zz, pT), null),
                zz -> new SoftTargetCrossEntropyLoss().evaluate(list(nd(pT)), list(zz)));
    }

    @Test
    void hintonKd() {
        double ref = Ref.mean(Ref.hintonItems(z, y, pT, 2, 2, 0.3), null);
        golden("hinton-kd", ref, new HintonKdLoss(2, 0.3), list(ids(y), nd(pT)), z);
        gradCheck("hinton-kd", z, new long[] {N, C}, zz -> Ref.mean(Ref.hintonItems(zz, y, pT, 2, 2, 0.3), null),
                zz -> new HintonKdLoss(2, 0.3).evaluate(list(ids(y), nd(pT)), list(zz)));
        // alpha = 1: pure T^2 KL; alpha = 0: pure CE
        close(Ref.mean(Ref.hintonItems(z, y, pT, 3, 3, 1), null),
                value(new HintonKdLoss(3, 1), list(ids(y), nd(pT)), nd(z)), 1e-12, "alpha=1");
        close(Ref.mean(Ref.ceItems(z, y), null), value(new HintonKdLoss(3, 0), list(ids(y), nd(pT)), nd(z)), 1e-12,
                "alpha=0");
    }

    @Test
    void bayesianKdScalesByTeacherTimesStudentTemperature() {
        double ref = Ref.mean(Ref.hintonItems(z, y, pT, 4, 2, 0.7), null);
        HintonKdLoss loss = new HintonKdLoss(4, 2, 0.7);
        assertEquals("bayesian-kd", loss.getName());
        golden("bayesian-kd", ref, loss, list(ids(y), nd(pT)), z);
        gradCheck("bayesian-kd", z, new long[] {N, C}, zz -> Ref.mean(Ref.hintonItems(zz, y, pT, 4, 2, 0.7), null),
                zz -> new HintonKdLoss(4, 2, 0.7).evaluate(list(ids(y), nd(pT)), list(zz)));
        // T_S = 1, Morad's deterministic-teacher setting
        close(Ref.mean(Ref.hintonItems(z, y, pT, 4, 1, 0.5), null),
                value(new HintonKdLoss(4, 1, 0.5), list(ids(y), nd(pT)), nd(z)), 1e-12, "T_S=1");
    }

    @Test
    void forwardKlInEveryTeacherForm() {
        double ref = Ref.mean(Ref.forwardKlItems(pT, z, 1), null);
        golden("kl", ref, new KlDivergenceLoss(), list(nd(pT)), z);
        golden("kl log-probs", ref, new KlDivergenceLoss(TeacherForm.LOG_PROBABILITIES, 1), list(nd(pT).log()), z);
        double[][] pT2 = new double[N][];
        for (int i = 0; i < N; i++) {
            pT2[i] = Ref.softmax(zT[i], 2);
        }
        golden("kl logits T=2", Ref.mean(Ref.forwardKlItems(pT2, z, 2), null),
                new KlDivergenceLoss(TeacherForm.LOGITS, 2), list(nd(zT)), z);
        gradCheck("kl", z, new long[] {N, C}, zz -> Ref.mean(Ref.forwardKlItems(pT, zz, 1.5), null),
                zz -> new KlDivergenceLoss(TeacherForm.PROBABILITIES, 1.5).evaluate(list(nd(pT)), list(zz)));
    }

    @Test
    void reverseKl() {
        golden("reverse-kl", Ref.mean(Ref.reverseKlItems(pT, z, 1), null), new ReverseKlLoss(), list(nd(pT)), z);
        golden("reverse-kl T=2", Ref.mean(Ref.reverseKlItems(pT, z, 2), null),
                new ReverseKlLoss(TeacherForm.LOG_PROBABILITIES, 2), list(nd(pT).log()), z);
        gradCheck("reverse-kl", z, new long[] {N, C}, zz -> Ref.mean(Ref.reverseKlItems(pT, zz, 1), null),
                zz -> new ReverseKlLoss().evaluate(list(nd(pT)), list(zz)));
    }

    @Test
    void logFloorOnlyForProbabilityForms() {
        // one item, student logits (0, 0, 0): q = (1/3, 1/3, 1/3).
        // Teacher (1/2, 1/2, 0) as probabilities or log-probabilities: log 0 is floored at ln 1e-30, so
        //   KL(q || p_T) = 1/3 [2 (ln 1/3 - ln 1/2) + (ln 1/3 - ln 1e-30)] = 22.2250... (finite)
        double[][] zz = {{0, 0, 0}};
        double third = Math.log(1.0 / 3);
        double floored = (2 * (third - Math.log(0.5)) + (third - Math.log(1e-30))) / 3;
        NDArray p = nd(new double[][] {{0.5, 0.5, 0}});
        for (Loss loss : new Loss[] {new ReverseKlLoss(), new GeneralizedJsdLoss(1)}) {
            close(floored, value(loss, list(p), nd(zz)), 1e-14, loss.getName() + " probabilities with a zero");
        }
        close(floored, value(new ReverseKlLoss(TeacherForm.LOG_PROBABILITIES, 1), list(p.log()), nd(zz)), 1e-14,
                "log-probabilities with -infinity");
        // Teacher logits (0, 0, -200): log p_T = (-ln(2 + e^-200), same, -200 - ln(2 + e^-200)), far below the
        // floor and not floored, KL(q || p_T) = 1/3 [3 ln 1/3 + 3 ln(2 + e^-200) + 200] = 66.8647... (as F.kl_div)
        double lse = Math.log(2 + Math.exp(-200));
        double exact = (3 * third + 3 * lse + 200) / 3;
        NDArray logits = nd(new double[][] {{0, 0, -200}});
        for (Loss loss : new Loss[] {new ReverseKlLoss(TeacherForm.LOGITS, 1),
            new GeneralizedJsdLoss(1, TeacherForm.LOGITS, 1, false)}) {
            close(exact, value(loss, list(logits), nd(zz)), 1e-14, loss.getName() + " logits");
        }
    }

    @Test
    void generalisedJsd() {
        for (double beta : new double[] {0, 0.1, 0.5, 0.9, 1}) {
            for (boolean norm : new boolean[] {false, true}) {
                double ref = Ref.mean(Ref.jsdItems(pT, z, 1, beta, norm), null);
                golden("jsd beta=" + beta + " normalise=" + norm, ref,
                        new GeneralizedJsdLoss(beta, TeacherForm.PROBABILITIES, 1, norm), list(nd(pT)), z);
            }
        }
        gradCheck("jsd", z, new long[] {N, C}, zz -> Ref.mean(Ref.jsdItems(pT, zz, 1, 0.3, false), null),
                zz -> new GeneralizedJsdLoss(0.3).evaluate(list(nd(pT)), list(zz)));
    }

    @Test
    void mse() {
        golden("mse", Ref.mean(Ref.mseItems(z, zT), null), new MseLoss(), list(nd(zT)), z);
        gradCheck("mse", z, new long[] {N, C}, zz -> Ref.mean(Ref.mseItems(zz, zT), null),
                zz -> new MseLoss().evaluate(list(nd(zT)), list(zz)));
    }

    @Test
    void gaussianNll() {
        double[][] mu = Ref.logits(rnd, N, 2, 1);
        double[][] s = Ref.logits(rnd, N, 2, 0.5);
        double[][] t = Ref.logits(rnd, N, 2, 1);
        double[][] v = Ref.probs(rnd, N, 2, 1);
        GaussianNllLoss loss = new GaussianNllLoss();
        close(Ref.mean(Ref.gaussianNllItems(mu, s, t, null, false), null),
                scalar(loss.evaluate(list(nd(t)), list(nd(mu), nd(s)))), 1e-12, "two arrays");
        double[][] both = new double[N][4];
        for (int i = 0; i < N; i++) {
            both[i] = new double[] {mu[i][0], mu[i][1], s[i][0], s[i][1]};
        }
        close(Ref.mean(Ref.gaussianNllItems(mu, s, t, null, false), null),
                scalar(loss.evaluate(list(nd(t)), list(nd(both)))), 1e-12, "one array of halves");
        close(Ref.mean(Ref.gaussianNllItems(mu, s, t, v, true), null),
                scalar(new GaussianNllLoss(true).evaluate(list(nd(t), nd(v)), list(nd(mu), nd(s)))), 1e-12,
                "teacher variance, full");
        // gradient with respect to mu and to s
        gradCheck("gaussian-nll d/dmu", mu, new long[] {N, 2}, m -> Ref.mean(Ref.gaussianNllItems(m, s, t, v, false), null),
                m -> loss.evaluate(list(nd(t), nd(v)), list(m, nd(s))));
        gradCheck("gaussian-nll d/ds", s, new long[] {N, 2}, ss -> Ref.mean(Ref.gaussianNllItems(mu, ss, t, v, false), null),
                ss -> loss.evaluate(list(nd(t), nd(v)), list(nd(mu), ss)));
    }

    @Test
    void focalEntropy() {
        // logits chosen so that items are right and wrong, confident and not, and the weight clip is hit
        double[][] zz = {{3.0, 0.1, -1.0, 0.2, 0.0}, {0.5, 0.4, 0.2, 0.1, -0.3}, {-2.0, 4.0, -1.0, 0.5, 0.0},
            {0.0, 0.2, 0.1, -0.1, 1.5}};
        int[] yy = {0, 3, 0, 4};
        double ref = Ref.mean(Ref.focalItems(zz, yy, 2, 0.1, 3, 0.5), null);
        golden("focal-entropy", ref, new FocalEntropyLoss(), list(ids(yy)), zz);
        assertEquals(3.0, Math.min(3, -Ref.logSoftmax(zz[2], 1)[0]), 0, "item 2 hits the weight clip");
        close(Ref.mean(Ref.focalItems(zz, yy, 0, 0, 3, 0.5), null), Ref.mean(Ref.ceItems(zz, yy), null), 1e-15,
                "gamma=0, lambda=0 is CE");
        close(Ref.mean(Ref.ceItems(zz, yy), null), value(new FocalEntropyLoss(0, 0, 3, 0.5), list(ids(yy)), nd(zz)),
                1e-12, "gamma=0, lambda=0 is CE");
        // the gate and the weight carry no gradient: the reference holds them at the point of evaluation
        gradCheck("focal-entropy", zz, new long[] {N, C}, q -> Ref.mean(Ref.focalItems(q, yy, 2, 0.1, 3, 0.5, zz), null),
                q -> new FocalEntropyLoss().evaluate(list(ids(yy)), list(q)));
    }

    // ------------------------------------------------------------------------------- sparse top-K

    static final int V = 9;
    static final int K = 3;

    /** A teacher's top-K cache from full distributions: [ids, lp, lt]. */
    static Object[] topK(double[][] full, int k) {
        int n = full.length;
        int[][] id = new int[n][k];
        double[][] lp = new double[n][k];
        double[] lt = new double[n];
        for (int i = 0; i < n; i++) {
            Integer[] order = new Integer[full[i].length];
            for (int c = 0; c < order.length; c++) {
                order[c] = c;
            }
            final double[] row = full[i];
            java.util.Arrays.sort(order, (a, b) -> Double.compare(row[b], row[a]));
            double mass = 0;
            for (int j = 0; j < k; j++) {
                id[i][j] = order[j];
                lp[i][j] = Math.log(row[order[j]]);
                mass += row[order[j]];
            }
            lt[i] = Math.log(1 - mass);
        }
        return new Object[] {id, lp, lt};
    }

    @Test
    void sparseTopKMatchesReference() {
        int n = 6;
        double[][] teacher = Ref.probs(rnd, n, V, 1.5);
        double[][] zs = Ref.logits(rnd, n, V, 1.5);
        Object[] c = topK(teacher, K);
        int[][] id = (int[][]) c[0];
        double[][] lp = (double[][]) c[1];
        double[] lt = (double[]) c[2];
        // as a (2, 3) sequence batch
        NDList labels = list(ids(id, 2, 3, K), nd(lp, 2, 3, K), nd(lt).reshape(2, 3));
        for (boolean tail : new boolean[] {true, false}) {
            for (boolean exact : new boolean[] {false, true}) {
                for (double t : new double[] {1, 1.5}) {
                  // chunks: all rows at once, 2 rows per chunk (3 chunks), 4 rows per chunk (4 + 2), default
                  for (long chunk : new long[] {0, 2 * V, 4 * V + 3, SparseTopKKlLoss.DEFAULT_CHUNK_ELEMENTS}) {
                    double ref = Ref.mean(Ref.sparseItems(zs, id, lp, lt, t, tail), null);
                    SparseTopKKlLoss loss = new SparseTopKKlLoss(t, tail, exact, chunk);
                    String what = "sparse tail=" + tail + " exact=" + exact + " T=" + t + " chunk=" + chunk;
                    close(ref, scalar(loss.evaluate(labels, list(nd(zs, 2, 3, V)))), 1e-12, what);
                    NDList l32 = list(labels.get(0).toType(DataType.INT32, false), labels.get(1).toType(DataType.FLOAT32, false),
                            labels.get(2).toType(DataType.FLOAT32, false));
                    close(ref, scalar(loss.evaluate(l32, list(nd(zs, 2, 3, V).toType(DataType.FLOAT32, false)))), 2e-5,
                            what + " float32");
                    gradCheck(what, zs, new long[] {2, 3, V}, q -> Ref.mean(Ref.sparseItems(q, id, lp, lt, t, tail), null),
                            q -> loss.evaluate(labels, list(q)));
                  }
                }
            }
        }
    }

    @Test
    void sparseTopKWithAllMassInTopKEqualsDenseKl() {
        // when the teacher's mass lies on its top K (tail 0) the K+1-bucket KL is the dense KL minus the
        // student's mass outside, lumped: compare with Ref directly, and check against the dense KL for K = V-1
        double[][] teacher = Ref.probs(rnd, 3, V, 1);
        double[][] zs = Ref.logits(rnd, 3, V, 1);
        Object[] c = topK(teacher, V - 1);
        NDList labels = list(ids((int[][]) c[0]), nd((double[][]) c[1]), nd((double[]) c[2]));
        // with K = V-1 the tail bucket is the single remaining class, so the bucket KL is the dense KL
        double dense = Ref.mean(Ref.forwardKlItems(teacher, zs, 1), null);
        close(dense, scalar(new SparseTopKKlLoss().evaluate(labels, list(nd(zs)))), 1e-10, "K = V-1");
        close(dense, scalar(new SparseTopKKlLoss(1, true, true).evaluate(labels, list(nd(zs)))), 1e-10, "K = V-1 exact");
    }

    @Test
    void exactTailResolvesTinyStudentTails() {
        // the student puts ~1e-12 of its mass outside the top K; the fast tail clamps, the exact one does not
        double[][] zs = {{30, 29, 28, 0, 0, 0, 0, 0, 0}};
        double[][] teacher = {{0.5, 0.2, 0.1, 0.2 / 6, 0.2 / 6, 0.2 / 6, 0.2 / 6, 0.2 / 6, 0.2 / 6}};
        Object[] c = topK(teacher, 3);
        NDList labels = list(ids((int[][]) c[0]), nd((double[][]) c[1]), nd((double[]) c[2]));
        double ref = Ref.mean(Ref.sparseItems(zs, (int[][]) c[0], (double[][]) c[1], (double[]) c[2], 1, true), null);
        close(ref, scalar(new SparseTopKKlLoss(1, true, true).evaluate(labels, list(nd(zs)))), 1e-9, "exact, float64");
        NDList l32 = list(labels.get(0), labels.get(1).toType(DataType.FLOAT32, false),
                labels.get(2).toType(DataType.FLOAT32, false));
        close(ref, scalar(new SparseTopKKlLoss(1, true, true).evaluate(l32, list(nd(zs).toType(DataType.FLOAT32, false)))),
                1e-5, "exact, float32");
    }

    // ----------------------------------------------------------------------------- weighted

    @Test
    void inverseVarianceWeights() {
        double[] var = {0.01, 0.04, 0.0, 0.2};
        double eps = 1e-3;
        double[] items = Ref.hintonItems(z, y, pT, 2, 2, 0.5);
        double ref = Ref.weightedMean(items, var, eps, null);
        InverseVarianceWeightedLoss w = new InverseVarianceWeightedLoss(new HintonKdLoss(2, 0.5), eps,
                InverseVarianceWeightedLoss.VarianceSource.GIVEN);
        assertEquals("weighted-hinton-kd", w.getName());
        NDList labels = list(ids(y), nd(pT), nd(var));
        close(ref, value(w, labels, nd(z)), 1e-12, "weighted hinton-kd");
        // the DJL accumulator path (itemLosses, normalised weights) gives the same mean
        close(ref, scalar(w.itemLosses(labels, list(nd(z))).mean()), 1e-12, "normalised weights");
        double[] wts = w.weights(labels, list(nd(z))).toDoubleArray();
        double s = 0;
        for (int i = 0; i < wts.length; i++) {
            s += wts[i];
            assertEquals(1 / (var[i] + eps) / meanOf(var, eps), wts[i], 1e-9, "w'_" + i);
        }
        assertEquals(N, s, 1e-9, "weights normalised to mean 1");
        gradCheck("weighted", z, new long[] {N, C},
                zz -> Ref.weightedMean(Ref.hintonItems(zz, y, pT, 2, 2, 0.5), var, eps, null),
                zz -> w.evaluate(labels, list(zz)));
        // per-class variances (B, C) are averaged
        double[][] perClass = new double[N][C];
        for (int i = 0; i < N; i++) {
            java.util.Arrays.fill(perClass[i], var[i]);
            perClass[i][0] += 0.05;
            perClass[i][1] -= Math.min(var[i], 0.05);
        }
        double[] avg = new double[N];
        for (int i = 0; i < N; i++) {
            for (double v : perClass[i]) {
                avg[i] += v / C;
            }
        }
        close(Ref.weightedMean(items, avg, eps, null), value(w, list(ids(y), nd(pT), nd(perClass)), nd(z)), 1e-12,
                "per-class variances");
    }

    @Test
    void inverseVarianceWeightsFromSamples() {
        int k = 5;
        double[][][] samples = new double[N][k][];
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < k; j++) {
                samples[i][j] = Ref.probs(rnd, 1, C, 0.5 + i)[0];
            }
        }
        double[] var = new double[N];
        double[][] mean = Ref.meanTarget(samples);
        for (int i = 0; i < N; i++) {
            for (int c = 0; c < C; c++) {
                double ss = 0;
                for (int j = 0; j < k; j++) {
                    ss += Math.pow(samples[i][j][c] - mean[i][c], 2);
                }
                var[i] += ss / (k - 1) / C;
            }
        }
        double ref = Ref.weightedMean(Ref.softCeItems(z, mean), var, 1e-6, null);
        InverseVarianceWeightedLoss w = new InverseVarianceWeightedLoss(new SoftTargetCrossEntropyLoss(), 1e-6,
                InverseVarianceWeightedLoss.VarianceSource.SAMPLES);
        close(ref, value(w, list(nd(mean), nd3(samples)), nd(z)), 1e-12, "variance from samples");
        InverseVarianceWeightedLoss given = new InverseVarianceWeightedLoss(new SoftTargetCrossEntropyLoss());
        close(ref, value(given, list(nd(mean), nd(var)), nd(z)), 1e-12, "same as given");
    }

    private static double meanOf(double[] var, double eps) {
        double s = 0;
        for (double v : var) {
            s += 1 / (v + eps);
        }
        return s / var.length;
    }
}

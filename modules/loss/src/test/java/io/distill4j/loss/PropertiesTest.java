package io.distill4j.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Properties the formulas imply, checked on the implementations. */
class PropertiesTest extends NdTestBase {
    final Random rnd = new Random(11);
    final double[][] z = Ref.logits(rnd, 6, 7, 1.5);
    final double[][] pT = Ref.probs(rnd, 6, 7, 1.5);

    NDArray fill(Shape shape, double v) {
        double[] a = new double[(int) shape.size()];
        java.util.Arrays.fill(a, v);
        return manager.create(a, shape);
    }

    double value(DistillationLoss loss, NDList labels, NDArray pred) {
        return scalar(loss.evaluate(labels, new NDList(pred)));
    }

    @Test
    void jsdEndPointsAreForwardAndReverseKl() {
        double fwd = value(new KlDivergenceLoss(), list(nd(pT)), nd(z));
        double rev = value(new ReverseKlLoss(), list(nd(pT)), nd(z));
        assertTrue(Math.abs(fwd - rev) > 1e-3, "the two KLs differ on this data");
        assertEquals(fwd, value(new GeneralizedJsdLoss(0), list(nd(pT)), nd(z)), 1e-14, "beta=0 is forward KL");
        assertEquals(rev, value(new GeneralizedJsdLoss(1), list(nd(pT)), nd(z)), 1e-14, "beta=1 is reverse KL");
        // normalised, the interior tends to the same end points
        double near0 = value(new GeneralizedJsdLoss(1e-5, TeacherForm.PROBABILITIES, 1, true), list(nd(pT)), nd(z));
        double near1 = value(new GeneralizedJsdLoss(1 - 1e-5, TeacherForm.PROBABILITIES, 1, true), list(nd(pT)), nd(z));
        assertEquals(fwd, near0, 1e-3 * fwd, "normalised beta -> 0 tends to forward KL");
        assertEquals(rev, near1, 1e-3 * rev, "normalised beta -> 1 tends to reverse KL");
        // unnormalised, the interior is JSD_beta ~ beta * KL(P||Q) near 0
        double tiny = value(new GeneralizedJsdLoss(1e-5), list(nd(pT)), nd(z));
        assertEquals(1e-5 * fwd, tiny, 1e-3 * 1e-5 * fwd, "JSD_beta ~ beta KL(P||Q) as beta -> 0");
        // symmetric JSD (beta = 1/2) is bounded by log 2
        assertTrue(value(new GeneralizedJsdLoss(0.5), list(nd(pT)), nd(z)) <= Math.log(2));
    }

    @Test
    void identicalTeacherAndStudentGiveZeroDivergence() {
        NDArray logits = nd(z);
        NDArray p = logits.softmax(1);
        NDArray lp = logits.logSoftmax(1);
        DenseDivergenceLoss[] losses = {new KlDivergenceLoss(), new ReverseKlLoss(), new GeneralizedJsdLoss(0.5),
            new GeneralizedJsdLoss(0.1, TeacherForm.PROBABILITIES, 1, true)};
        for (DenseDivergenceLoss loss : losses) {
            assertEquals(0, value(loss, list(p), logits), 1e-14, loss.getName());
        }
        assertEquals(0, value(new KlDivergenceLoss(TeacherForm.LOG_PROBABILITIES, 1), list(lp), logits), 1e-14);
        assertEquals(0, value(new KlDivergenceLoss(TeacherForm.LOGITS, 3), list(logits), logits), 1e-14);
        assertEquals(0, value(new GeneralizedJsdLoss(0.7, TeacherForm.LOGITS, 2, false), list(logits), logits), 1e-14);
        assertEquals(0, value(new MseLoss(), list(logits), logits), 0);
        // Hinton KD with alpha = 1 and the teacher at the student's temperature
        assertEquals(0, value(new HintonKdLoss(2, 1), list(ids(new int[6]), logits.div(2).softmax(1)), logits), 1e-14);
        // sparse: a teacher cache made from the student's own distribution
        double[][] q = rows(p);
        Object[] c = LossGoldenTest.topK(q, 3);
        NDList labels = list(ids((int[][]) c[0]), nd((double[][]) c[1]), nd((double[]) c[2]));
        for (boolean tail : new boolean[] {true, false}) {
            for (boolean exact : new boolean[] {false, true}) {
                assertEquals(0, value(new SparseTopKKlLoss(1, tail, exact), labels, logits), 1e-14,
                        "sparse tail=" + tail + " exact=" + exact);
            }
        }
        // and in float32, with the fast tail
        NDList l32 = list(labels.get(0), labels.get(1).toType(DataType.FLOAT32, false),
                labels.get(2).toType(DataType.FLOAT32, false));
        assertEquals(0, value(new SparseTopKKlLoss(), l32, logits.toType(DataType.FLOAT32, false)), 1e-6);
    }

    @Test
    void divergencesArePositiveOtherwise() {
        for (DistillationLoss loss : new DistillationLoss[] {new KlDivergenceLoss(), new ReverseKlLoss(),
            new GeneralizedJsdLoss(0.3)}) {
            double[] items = loss.itemLosses(list(nd(pT)), list(nd(z))).toDoubleArray();
            for (double v : items) {
                assertTrue(v > 0, loss.getName() + " item " + v);
            }
        }
    }

    @Test
    void meanOfIdenticalSamplesIsThatSample() {
        double[] sample = Ref.probs(rnd, 1, 5, 1)[0];
        for (int k : new int[] {1, 2, 7, 16}) {
            double[][][] s = new double[2][k][];
            for (int j = 0; j < k; j++) {
                s[0][j] = sample;
                s[1][j] = sample;
            }
            double[] got = new MeanTarget().build(nd3(s), null).toDoubleArray();
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(sample, java.util.Arrays.copyOfRange(got, 5 * i, 5 * i + 5), 1e-15, "k=" + k);
            }
            // and the Bayesian mean of identical probability draws, and IV fusion with zero teacher variance
            assertArrayEquals(sample, java.util.Arrays.copyOf(new BayesianMeanTarget().build(nd3(s), null).toDoubleArray(), 5),
                    1e-15);
            // (at k = 1 the practical form takes the sample as exact, a_T = 1 exactly, even against a student
            // that claims zero variance; from k = 2 the 1e-8 guard leaves a_T = 1 - O(1e-8 / var_S))
            StudentEstimate far = new StudentEstimate(nd(new double[][] {Ref.probs(rnd, 1, 5, 1)[0],
                Ref.probs(rnd, 1, 5, 1)[0]}), fill(new Shape(2, 5), k == 1 ? 0 : 0.01));
            assertArrayEquals(sample, java.util.Arrays.copyOf(new InverseVarianceTarget(
                    InverseVarianceTarget.Form.PRACTICAL, false).build(nd3(s), far).toDoubleArray(), 5),
                    k == 1 ? 0 : 1e-5, "zero teacher variance: a_T ~ 1, k=" + k);
        }
    }

    @Test
    void inverseVarianceTargetHasLowerVarianceThanBothInputs() {
        // Teacher: k = 8 samples of mu + N(0, sT^2); its mean has variance sT^2 / k = 0.01.
        // Student: mu + N(0, sS^2) with sS^2 = 0.01, given with its true variance. Optimal fusion: 0.005.
        int draws = 20000;
        int k = 8;
        double sT = Math.sqrt(0.08);
        double sS = 0.1;
        double mu = 0.3;
        Random r = new Random(5);
        double[] samples = new double[draws * k];
        double[] muS = new double[draws];
        for (int i = 0; i < draws; i++) {
            for (int j = 0; j < k; j++) {
                samples[i * k + j] = mu + sT * r.nextGaussian();
            }
            muS[i] = mu + sS * r.nextGaussian();
        }
        NDArray s = manager.create(samples, new Shape(draws, k, 1));
        StudentEstimate est = new StudentEstimate(manager.create(muS, new Shape(draws, 1)),
                fill(new Shape(draws, 1), sS * sS));
        double varMean = variance(new MeanTarget().build(s, null).toDoubleArray());
        double varStudent = variance(muS);
        double varFused = variance(new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL, false)
                .build(s, est).toDoubleArray());
        // the variance estimates have relative standard error sqrt(2 / draws) = 1%
        double se = Math.sqrt(2.0 / draws);
        assertEquals(0.01, varMean, 4 * se * 0.01, "teacher mean variance sT^2/k");
        assertEquals(0.01, varStudent, 4 * se * 0.01, "student variance");
        assertTrue(varFused < Math.min(varMean, varStudent) * (1 - 4 * se),
                "fused " + varFused + " vs teacher mean " + varMean + " and student " + varStudent);
        // with estimated teacher variances it does not reach the oracle optimum 0.005, but comes close
        assertTrue(varFused < 0.0065, "fused variance " + varFused);

        // paper form: teacher variance per item not divided by k, student given sT^2 (as in the paper's code)
        StudentEstimate paperEst = new StudentEstimate(manager.create(muS, new Shape(draws, 1)),
                fill(new Shape(draws, 1), sT * sT));
        double varPaper = variance(new InverseVarianceTarget(InverseVarianceTarget.Form.PAPER, false)
                .build(s, paperEst).toDoubleArray());
        assertTrue(varPaper < Math.min(varMean, varStudent) * (1 - 4 * se), "paper form: " + varPaper);
    }

    static double variance(double[] x) {
        double m = 0;
        for (double v : x) {
            m += v / x.length;
        }
        double s = 0;
        for (double v : x) {
            s += (v - m) * (v - m);
        }
        return s / (x.length - 1);
    }

    // ------------------------------------------------------------------------------------ padding

    /** Gradient of loss(z) with respect to z, flattened. */
    double[] grad(NDArray z0, Function<NDArray, NDArray> loss) {
        NDArray zz = z0.duplicate();
        zz.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(loss.apply(zz));
        }
        return zz.getGradient().toDoubleArray();
    }

    @Test
    void paddedPositionsContributeNothing() {
        // (B, T) = (2, 3), C = 5; mask [[1, 1, 0], [1, 0, 0]]: items 0, 1, 3 count
        int b = 2;
        int t = 3;
        int c = 5;
        double[][] zs = Ref.logits(rnd, b * t, c, 1);
        double[][] teacher = Ref.probs(rnd, b * t, c, 1);
        int[] y = {1, 4, 2, 0, 3, 1};
        double[] mask = {1, 1, 0, 1, 0, 0};
        int[] keep = {0, 1, 3};
        double[][] zKeep = {zs[0], zs[1], zs[3]};
        double[][] tKeep = {teacher[0], teacher[1], teacher[3]};
        int[] yKeep = {y[0], y[1], y[3]};
        // garbage at padded positions: NaN and infinite teacher values, out-of-range labels
        double[][] dirty = Ref.copy(teacher);
        int[] yDirty = y.clone();
        for (int i = 0; i < b * t; i++) {
            if (mask[i] == 0) {
                java.util.Arrays.fill(dirty[i], Double.NaN);
                dirty[i][0] = Double.POSITIVE_INFINITY;
                yDirty[i] = -100;
            }
        }
        NDArray m = manager.create(mask, new Shape(b, t));
        NDArray zBT = nd(zs, b, t, c);

        check("ce", new CrossEntropyLoss(), list(ids(yDirty, b, t), m), zBT, list(ids(yKeep)), nd(zKeep), keep, c);
        check("soft-ce", new SoftTargetCrossEntropyLoss(), list(nd(dirty, b, t, c), m), zBT, list(nd(tKeep)), nd(zKeep),
                keep, c);
        check("hinton-kd", new HintonKdLoss(2, 0.4), list(ids(yDirty, b, t), nd(dirty, b, t, c), m), zBT,
                list(ids(yKeep), nd(tKeep)), nd(zKeep), keep, c);
        check("kl", new KlDivergenceLoss(), list(nd(dirty, b, t, c), m), zBT, list(nd(tKeep)), nd(zKeep), keep, c);
        check("kl log-probs", new KlDivergenceLoss(TeacherForm.LOG_PROBABILITIES, 1), list(nd(dirty, b, t, c).log(), m), zBT,
                list(nd(tKeep).log()), nd(zKeep), keep, c);
        check("reverse-kl", new ReverseKlLoss(), list(nd(dirty, b, t, c), m), zBT, list(nd(tKeep)), nd(zKeep), keep, c);
        check("jsd", new GeneralizedJsdLoss(0.4), list(nd(dirty, b, t, c), m), zBT, list(nd(tKeep)), nd(zKeep), keep, c);
        check("mse", new MseLoss(), list(nd(dirty, b, t, c), m), zBT, list(nd(tKeep)), nd(zKeep), keep, c);
        check("focal-entropy", new FocalEntropyLoss(), list(ids(yDirty, b, t), m), zBT, list(ids(yKeep)), nd(zKeep),
                keep, c);
        // gaussian-nll: predictions (B, T, 4) = [mean (2), log-variance (2)], targets and variances (B, T, 2)
        double[][] zg = Ref.logits(rnd, b * t, 4, 1);
        double[][] tg = Ref.probs(rnd, b * t, 2, 1);
        double[][] tgDirty = Ref.copy(tg);
        for (int i = 0; i < b * t; i++) {
            if (mask[i] == 0) {
                tgDirty[i] = new double[] {Double.NaN, Double.NEGATIVE_INFINITY};
            }
        }
        double[][] tgKeep = {tg[0], tg[1], tg[3]};
        check("gaussian-nll", new GaussianNllLoss(), list(nd(tgDirty, b, t, 2), nd(tgDirty, b, t, 2), m), nd(zg, b, t, 4),
                list(nd(tgKeep), nd(tgKeep)), nd(new double[][] {zg[0], zg[1], zg[3]}), keep, 4);
        double[] varDirty = {0.1, 0.02, Double.NaN, 0.05, -1, Double.NaN};
        check("weighted", new InverseVarianceWeightedLoss(new KlDivergenceLoss()),
                list(nd(dirty, b, t, c), m, manager.create(varDirty, new Shape(b, t))), zBT,
                list(nd(tKeep), manager.create(new double[] {0.1, 0.02, 0.05})), nd(zKeep), keep, c);

        // sparse top-K with a teacher cache whose padded positions hold NaN, -inf and out-of-range ids
        int v = 9;
        double[][] zv = Ref.logits(rnd, b * t, v, 1);
        Object[] cache = LossGoldenTest.topK(Ref.probs(rnd, b * t, v, 1), 3);
        int[][] id = (int[][]) cache[0];
        double[][] lp = (double[][]) cache[1];
        double[] lt = (double[]) cache[2];
        int[][] idDirty = new int[b * t][];
        double[][] lpDirty = Ref.copy(lp);
        double[] ltDirty = lt.clone();
        for (int i = 0; i < b * t; i++) {
            idDirty[i] = id[i].clone();
            if (mask[i] == 0) {
                idDirty[i] = new int[] {-1, 99999, -100};
                lpDirty[i] = new double[] {Double.NaN, Double.NEGATIVE_INFINITY, 5};
                ltDirty[i] = Double.NaN;
            }
        }
        int[][] idKeep = {id[0], id[1], id[3]};
        double[][] lpKeep = {lp[0], lp[1], lp[3]};
        double[] ltKeep = {lt[0], lt[1], lt[3]};
        for (boolean exact : new boolean[] {false, true}) {
            check("sparse exact=" + exact, new SparseTopKKlLoss(1, true, exact),
                    list(ids(idDirty, b, t, 3), nd(lpDirty, b, t, 3), manager.create(ltDirty, new Shape(b, t)), m),
                    nd(zv, b, t, v), list(ids(idKeep), nd(lpKeep), nd(ltKeep)), nd(new double[][] {zv[0], zv[1], zv[3]}),
                    keep, v);
        }
    }

    /** The masked loss equals the loss on the kept items alone, is finite, and has zero gradient at padding. */
    private void check(String what, DistillationLoss loss, NDList labels, NDArray zAll, NDList keptLabels,
            NDArray zKept, int[] keep, int width) {
        double masked = value(loss, labels, zAll);
        double kept = value(loss, keptLabels, zKept);
        assertTrue(Double.isFinite(masked), what + ": finite, got " + masked);
        assertEquals(kept, masked, 1e-12 * Math.max(1, Math.abs(kept)), what + ": equals the loss on unpadded items");
        double[] g = grad(zAll, q -> loss.evaluate(labels, list(q)));
        double[] gKept = grad(zKept, q -> loss.evaluate(keptLabels, list(q)));
        java.util.Set<Integer> kept2 = new java.util.HashSet<>();
        for (int i : keep) {
            kept2.add(i);
        }
        int n = 0;
        for (int i = 0; i < g.length / width; i++) {
            for (int c = 0; c < width; c++) {
                if (kept2.contains(i)) {
                    assertEquals(gKept[n * width + c], g[i * width + c], 1e-12, what + ": gradient at kept item " + i);
                } else {
                    assertEquals(0.0, g[i * width + c], 0.0, what + ": gradient at padded item " + i);
                }
            }
            if (kept2.contains(i)) {
                n++;
            }
        }
    }

    @Test
    void weightedWithEqualVariancesIsUnweighted() {
        int[] y = Ref.labels(rnd, 6, 7);
        NDList labels = list(ids(y), nd(pT));
        double plain = value(new HintonKdLoss(3, 0.5), labels, nd(z));
        NDList withVar = list(ids(y), nd(pT), fill(new Shape(6), 0.37));
        assertEquals(plain, value(new InverseVarianceWeightedLoss(new HintonKdLoss(3, 0.5)), withVar, nd(z)), 1e-14);
        // and a weight is inversely proportional to its variance: halving one item's variance
        double[] var = {0.1, 0.1, 0.1, 0.1, 0.1, 0.05};
        double[] w = new InverseVarianceWeightedLoss(new HintonKdLoss(3, 0.5), 1e-12,
                InverseVarianceWeightedLoss.VarianceSource.GIVEN).weights(list(ids(y), nd(pT), nd(var)), list(nd(z)))
                .toDoubleArray();
        assertEquals(2 * w[0], w[5], 1e-9);
        assertEquals(6, java.util.Arrays.stream(w).sum(), 1e-9);
    }
}

package io.distill4j.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Golden values of every target builder against {@link Ref}, and hand-worked small cases. */
class TargetGoldenTest extends NdTestBase {
    final Random rnd = new Random(7);

    double[][][] probSamples(int b, int k, int c) {
        double[][][] s = new double[b][k][];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < k; j++) {
                s[i][j] = Ref.probs(rnd, 1, c, 1 + 0.3 * i)[0];
            }
        }
        return s;
    }

    static void assertRows(double[][] expected, NDArray actual, double tol, String what) {
        double[][] got = rows(actual);
        assertEquals(expected.length, got.length, what + ": rows");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], got[i], tol, what + ": row " + i);
        }
    }

    @Test
    void singleAndMean() {
        double[][][] s = probSamples(3, 4, 5);
        assertRows(Ref.meanTarget(s), new MeanTarget().build(nd3(s), null), 1e-15, "mean");
        double[][] second = {s[0][2], s[1][2], s[2][2]};
        assertRows(second, new SingleSampleTarget(2).build(nd3(s), null), 0, "single index 2");
    }

    @Test
    void inverseVarianceBothForms() {
        double[][][] s = probSamples(3, 6, 4);
        double[][] muS = Ref.probs(rnd, 3, 4, 1);
        double[][] varS = {{1e-3, 2e-3, 5e-4, 1e-2}, {0, 1e-3, 1e-3, 1e-3}, {1, 1e-4, 1e-3, 1e-2}};
        StudentEstimate est = new StudentEstimate(nd(muS), nd(varS));
        for (boolean renorm : new boolean[] {false, true}) {
            assertRows(Ref.ivTarget(s, muS, varS, false, renorm),
                    new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL, renorm).build(nd3(s), est), 1e-12,
                    "practical renormalise=" + renorm);
            assertRows(Ref.ivTarget(s, muS, varS, true, renorm),
                    new InverseVarianceTarget(InverseVarianceTarget.Form.PAPER, renorm).build(nd3(s), est), 1e-12,
                    "paper renormalise=" + renorm);
        }
    }

    @Test
    void multiSampleIsTheShareOfDrawsVotingForEachClass() {
        // B = 2, k = 4, C = 3; row 0 votes 0, 2, 2, 1 -> (1/4, 1/4, 2/4); row 1 ties (0.4, 0.4, 0.2) -> class 0
        double[][][] s = {
            {{0.7, 0.2, 0.1}, {0.1, 0.3, 0.6}, {0.2, 0.2, 0.6}, {0.3, 0.5, 0.2}},
            {{0.4, 0.4, 0.2}, {0.1, 0.8, 0.1}, {0.4, 0.4, 0.2}, {0.4, 0.4, 0.2}}};
        assertRows(new double[][] {{0.25, 0.25, 0.5}, {0.75, 0.25, 0}}, new MultiSampleTarget().build(nd3(s), null), 0,
                "multi-sample");
    }

    @Test
    void inverseVarianceHandWorked() {
        // B=1, k=2, C=2: samples (0.6, 0.4), (0.8, 0.2); student (0.5, 0.5) with variance 0.03.
        // practical: var_T = ddof-1 variance / k = 0.02 / 2 = 0.01 -> a_T = 100 / (100 + 33.3) = 0.75
        //            t = 0.75 * (0.7, 0.3) + 0.25 * (0.5, 0.5) = (0.65, 0.35)
        // paper:     var_T = ddof-0 variance = 0.01 (not divided by k) -> the same here
        NDArray s = nd3(new double[][][] {{{0.6, 0.4}, {0.8, 0.2}}});
        StudentEstimate est = new StudentEstimate(nd(new double[][] {{0.5, 0.5}}), nd(new double[][] {{0.03, 0.03}}));
        assertArrayEquals(new double[] {0.65, 0.35},
                new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL, true).build(s, est).toDoubleArray(), 1e-7);
        assertArrayEquals(new double[] {0.65, 0.35},
                new InverseVarianceTarget(InverseVarianceTarget.Form.PAPER, false).build(s, est).toDoubleArray(), 1e-7);
        // with k = 4 identical pairs the forms differ: practical var_T = (4/3 * 0.01) / 4 = 1/300, paper 0.01
        NDArray s4 = nd3(new double[][][] {{{0.6, 0.4}, {0.8, 0.2}, {0.6, 0.4}, {0.8, 0.2}}});
        double aPractical = 300.0 / (300 + 100.0 / 3);
        assertArrayEquals(new double[] {aPractical * 0.7 + (1 - aPractical) * 0.5, aPractical * 0.3 + (1 - aPractical) * 0.5},
                new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL, false).build(s4, est).toDoubleArray(), 1e-7);
        assertArrayEquals(new double[] {0.65, 0.35},
                new InverseVarianceTarget(InverseVarianceTarget.Form.PAPER, false).build(s4, est).toDoubleArray(), 1e-7);
    }

    @Test
    void studentEstimateFromPasses() {
        double[][][] passes = probSamples(2, 5, 3);
        StudentEstimate e = StudentEstimate.fromPasses(nd3(passes));
        double[][] mean = Ref.meanTarget(passes);
        assertRows(mean, e.mean(), 1e-15, "mean");
        double[][] var = new double[2][3];
        for (int i = 0; i < 2; i++) {
            for (int c = 0; c < 3; c++) {
                for (int j = 0; j < 5; j++) {
                    var[i][c] += Math.pow(passes[i][j][c] - mean[i][c], 2) / 4 / 5;
                }
            }
        }
        assertRows(var, e.variance(), 1e-15, "variance of the mean");
    }

    @Test
    void emaStudentEstimate() {
        EmaStudentEstimate ema = new EmaStudentEstimate(10, 2, 0.5);
        long[] items = {3, 7};
        StudentEstimate fresh = ema.estimate(items, manager);
        assertTrue(Double.isInfinite(fresh.variance().toFloatArray()[0]), "unseen items have infinite variance");
        ema.update(items, nd(new double[][] {{1, 2}, {0, 0}}));
        ema.update(items, nd(new double[][] {{3, 2}, {0, 4}}));
        // item 3: mu = 1 -> 1 + 0.5 * 2 = 2; S = 0.5 * (0 + 0.5 * 4) = 1 -> var_S = 1 * 0.5 / 1.5
        StudentEstimate e = ema.estimate(items, manager);
        assertArrayEquals(new float[] {2, 2, 0, 2}, e.mean().toFloatArray(), 1e-6f);
        assertArrayEquals(new float[] {1f / 3, 0, 0, (0.5f * 0.5f * 16) / 3}, e.variance().toFloatArray(), 1e-6f);
        assertEquals(2, ema.seen(3));
        // an unseen item fused with a teacher: the teacher wins (a_T = 1)
        NDArray s = nd3(new double[][][] {{{0.6, 0.4}, {0.8, 0.2}}});
        StudentEstimate unseen = new EmaStudentEstimate(1, 2, 0.1).estimate(new long[] {0}, manager);
        assertArrayEquals(new float[] {0.7f, 0.3f}, new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL, false)
                .build(s.toType(ai.djl.ndarray.types.DataType.FLOAT32, false), unseen).toFloatArray(), 1e-6f);
    }

    @Test
    void emaStudentEstimateReportingItsSpread() {
        // the spread from the first sight on, starting at S_0 = 1: predictions 0.5, 0.7, 0.2 at alpha = 0.1 give
        // mu = 0.5, 0.52, 0.488 and S = 1, 0.9 (1 + 0.1 * 0.04) = 0.9036, 0.9 (0.9036 + 0.1 * 0.1024) = 0.82245...
        EmaStudentEstimate ema = new EmaStudentEstimate(2, 1, 0.1, EmaStudentEstimate.Variance.SPREAD, 1);
        long[] item = {1};
        assertTrue(Double.isInfinite(ema.estimate(item, manager).variance().toFloatArray()[0]), "unseen");
        double[] x = {0.5, 0.7, 0.2};
        double mu = 0;
        double spread = 0;
        for (int t = 0; t < x.length; t++) {
            ema.update(item, nd(new double[][] {{x[t]}}));
            if (t == 0) {
                mu = x[0];
                spread = 1;
            } else {
                double d = x[t] - mu;
                mu += 0.1 * d;
                spread = 0.9 * (spread + 0.1 * d * d);
            }
            StudentEstimate e = ema.estimate(item, manager);
            assertEquals(mu, e.mean().toFloatArray()[0], 1e-6, "mean after " + (t + 1));
            assertEquals(spread, e.variance().toFloatArray()[0], 1e-6, "spread after " + (t + 1));
        }
        assertEquals(0.488, mu, 1e-12);
        assertEquals(0.9 * (0.9036 + 0.1 * 0.1024), spread, 1e-12);
        // the same table reported as the variance of the mean: S alpha / (2 - alpha), infinite until seen twice
        EmaStudentEstimate ofMean = new EmaStudentEstimate(2, 1, 0.1, EmaStudentEstimate.Variance.OF_MEAN, 1);
        ofMean.update(item, nd(new double[][] {{0.5}}));
        assertTrue(Double.isInfinite(ofMean.estimate(item, manager).variance().toFloatArray()[0]));
        ofMean.update(item, nd(new double[][] {{0.7}}));
        assertEquals(0.9036 * 0.1 / 1.9, ofMean.estimate(item, manager).variance().toFloatArray()[0], 1e-7);
    }

    @Test
    void bayesianMean() {
        double[][][] logits = new double[3][4][];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j++) {
                logits[i][j] = Ref.logits(rnd, 1, 5, 2)[0];
            }
        }
        assertRows(Ref.bayesianMean(logits, true, 1), new BayesianMeanTarget(BayesianMeanTarget.Input.LOGITS, 1, true)
                .build(nd3(logits), null), 1e-14, "logits T=1");
        assertRows(Ref.bayesianMean(logits, true, 4), new BayesianMeanTarget(BayesianMeanTarget.Input.LOGITS, 4, true)
                .build(nd3(logits), null), 1e-14, "logits T=4");
        double[][][] probs = probSamples(3, 4, 5);
        assertRows(Ref.meanTarget(probs), new BayesianMeanTarget().build(nd3(probs), null), 1e-15, "probabilities T=1");
        assertRows(Ref.bayesianMean(probs, false, 2), new BayesianMeanTarget(BayesianMeanTarget.Input.PROBABILITIES, 2, true)
                .build(nd3(probs), null), 1e-14, "probabilities T=2");
        // averaging probabilities is not averaging logits
        double[][] avgLogitsSoftmax = new double[3][];
        double[][] avgLogits = Ref.meanTarget(logits);
        for (int i = 0; i < 3; i++) {
            avgLogitsSoftmax[i] = Ref.softmax(avgLogits[i], 1);
        }
        double diff = Math.abs(avgLogitsSoftmax[0][0] - Ref.bayesianMean(logits, true, 1)[0][0]);
        assertTrue(diff > 1e-3, "posterior mean of probabilities differs from softmax of mean logits: " + diff);
    }

    @Test
    void wrongMassClip() {
        double[][] p = {{0.5, 0.3, 0.2}, {0.1, 0.6, 0.3}, {0.2, 0.2, 0.6}, {0.4, 0.35, 0.25}};
        int[] y = {1, 1, 0, 2};
        // item 0: top 0 != 1, delta = min(0.1, 0.2) = 0.1 -> (0.4, 0.4, 0.2)
        // item 1: top is the label, unchanged
        // item 2: top 2 != 0, delta = min(0.1, 0.4) = 0.1 -> (0.3, 0.2, 0.5)
        // item 3: top 0 != 2, delta = min(0.1, 0.15) = 0.1 -> (0.3, 0.35, 0.35)
        double[][] expected = {{0.4, 0.4, 0.2}, {0.1, 0.6, 0.3}, {0.3, 0.2, 0.5}, {0.3, 0.35, 0.35}};
        assertRows(expected, WrongMassClipTarget.clip(nd(p), ids(y), 0.1), 1e-15, "budget 0.1");
        assertRows(Ref.wrongMassClip(p, y, 0.1), WrongMassClipTarget.clip(nd(p), ids(y), 0.1), 1e-15, "ref budget 0.1");
        // budget 1: the label and the wrong top-1 swap masses
        assertRows(new double[][] {{0.3, 0.5, 0.2}, {0.1, 0.6, 0.3}, {0.6, 0.2, 0.2}, {0.25, 0.35, 0.4}},
                WrongMassClipTarget.clip(nd(p), ids(y), 1), 1e-15, "budget 1");
        // composed on the mean of samples, through the builder
        double[][][] s = probSamples(4, 3, 3);
        assertRows(Ref.wrongMassClip(Ref.meanTarget(s), y, 0.2),
                new WrongMassClipTarget(0.2).build(nd3(s), null, ids(y)), 1e-15, "on the mean");
        // and on a Bayesian mean over logits
        assertRows(Ref.wrongMassClip(Ref.bayesianMean(s, true, 2), y, 0.05),
                new WrongMassClipTarget(new BayesianMeanTarget(BayesianMeanTarget.Input.LOGITS, 2, true), 0.05)
                        .build(nd3(s), null, ids(y)), 1e-14, "on a Bayesian mean");
        // the result stays on the simplex
        double[] sums = WrongMassClipTarget.clip(nd(p), ids(y), 0.3).sum(new int[] {1}).toDoubleArray();
        for (double v : sums) {
            assertEquals(1, v, 1e-15);
        }
    }
}

package io.distill4j.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * {@link HintonKdLoss#weightedSum} has a fused host pass (CPU, small inputs) and a tensor pass (accelerators,
 * large inputs); both must give the same value and gradient. The golden and finite-difference tests check
 * the host pass against plain-double references; this test pins the tensor pass to it.
 */
class HintonKdPathsTest extends NdTestBase {

    private static final double TOL = 1e-9;

    @Test
    void hostAndTensorPassesAgreeOnValueAndGradient() {
        Random rnd = new Random(3);
        HintonKdLoss[] losses = {new HintonKdLoss(4, 0.5), new HintonKdLoss(2, 1.0), new HintonKdLoss(4, 2, 0.7),
            new HintonKdLoss(1, 0.0)};
        for (HintonKdLoss loss : losses) {
            for (boolean masked : new boolean[] {false, true}) {
                for (boolean weighted : new boolean[] {false, true}) {
                    long[] shape = masked ? new long[] {3, 4, 6} : new long[] {9, 6};
                    int n = (int) (shape.length == 3 ? shape[0] * shape[1] : shape[0]);
                    int c = 6;
                    double[] z = new double[n * c];
                    double[] p = new double[n * c];
                    long[] y = new long[n];
                    double[] m = new double[n];
                    double[] w = new double[n];
                    for (int i = 0; i < n; i++) {
                        double s = 0;
                        for (int k = 0; k < c; k++) {
                            z[i * c + k] = 3 * rnd.nextGaussian();
                            p[i * c + k] = k == 2 ? 0 : Math.exp(rnd.nextGaussian());
                            s += p[i * c + k];
                        }
                        for (int k = 0; k < c; k++) {
                            p[i * c + k] /= s;
                        }
                        y[i] = rnd.nextInt(c);
                        m[i] = masked && i % 3 == 1 ? 0 : 1;
                        w[i] = m[i] * rnd.nextDouble();
                    }
                    Shape zs = new Shape(shape);
                    Shape item = zs.slice(0, zs.dimension() - 1);
                    NDList labels = masked
                            ? new NDList(manager.create(y, item), manager.create(p, zs), manager.create(m, item))
                            : new NDList(manager.create(y, item), manager.create(p, zs));
                    NDArray coeff = weighted ? manager.create(w, item) : null;
                    String what = loss.getName() + " T=" + loss.teacherTemperature() + "/" + loss.studentTemperature()
                            + " a=" + loss.alpha() + (masked ? " masked" : "") + (weighted ? " weighted" : "");
                    double[] host = valueAndGradient(z, zs, zz -> loss.weightedSum(labels, new NDList(zz), coeff));
                    double[] tensor = valueAndGradient(z, zs,
                            zz -> loss.weightedSumOnDevice(labels, new NDList(zz), coeff));
                    for (int i = 0; i < host.length; i++) {
                        assertEquals(tensor[i], host[i], TOL * Math.max(1, Math.abs(tensor[i])),
                                what + (i == 0 ? ": value" : ": gradient " + (i - 1)));
                    }
                }
            }
        }
    }

    @Test
    void hostAndTensorInverseVarianceCoefficientsAgree() {
        Random rnd = new Random(5);
        // given per-item variances, masked; given per-class variances (averaged); samples (B, k, C)
        NDArray z = manager.create(new double[8 * 4], new Shape(8, 4));
        double[] v = new double[8];
        double[] vc = new double[8 * 4];
        double[] samples = new double[8 * 5 * 4];
        double[] m = new double[8];
        for (int i = 0; i < 8; i++) {
            v[i] = rnd.nextDouble() * (i == 3 ? 0 : 1);
            m[i] = i % 4 == 2 ? 0 : 1;
        }
        for (int i = 0; i < vc.length; i++) {
            vc[i] = rnd.nextDouble();
        }
        for (int i = 0; i < samples.length; i++) {
            samples[i] = rnd.nextGaussian();
        }
        Shape item = new Shape(8);
        InverseVarianceWeightedLoss given = new InverseVarianceWeightedLoss(new HintonKdLoss(4, 0.5));
        InverseVarianceWeightedLoss fromSamples = new InverseVarianceWeightedLoss(new HintonKdLoss(4, 0.5), 1e-6,
                InverseVarianceWeightedLoss.VarianceSource.SAMPLES);
        NDArray mask = manager.create(m);
        Object[][] cases = {
            {given, new NDList(manager.create(v)), null},
            {given, new NDList(manager.create(v)), mask},
            {given, new NDList(manager.create(vc, new Shape(8, 4))), mask},
            {fromSamples, new NDList(manager.create(samples, new Shape(8, 5, 4))), null},
            {fromSamples, new NDList(manager.create(samples, new Shape(8, 5, 4))), mask},
        };
        for (int t = 0; t < cases.length; t++) {
            InverseVarianceWeightedLoss loss = (InverseVarianceWeightedLoss) cases[t][0];
            NDList labels = (NDList) cases[t][1];
            NDArray mk = (NDArray) cases[t][2];
            double[] host = loss.hostCoefficients(labels, item, z, mk).toDoubleArray();
            double[] tensor = loss.tensorCoefficients(labels, item, z, mk).toDoubleArray();
            double sum = 0;
            for (int i = 0; i < 8; i++) {
                assertEquals(tensor[i], host[i], 1e-12, "case " + t + " item " + i);
                sum += host[i];
            }
            assertEquals(1, sum, 1e-12, "case " + t + ": coefficients sum to 1");
        }
    }

    @Test
    void hostPassRejectsALabelOutsideTheClasses() {
        HintonKdLoss loss = new HintonKdLoss(4, 0.5);
        loss.setValidate(false);
        NDList labels = new NDList(manager.create(new long[] {0, 3}),
                manager.create(new double[] {0.5, 0.5, 0, 0, 0, 1}, new Shape(2, 3)));
        NDArray z = manager.zeros(new Shape(2, 3), DataType.FLOAT64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loss.evaluate(labels, new NDList(z)));
        assertEquals("hinton-kd: class labels must be in [0, 3), got 3", e.getMessage());
    }

    /** [value, dL/dz...] of {@code loss} at z (float64), through autograd. */
    private double[] valueAndGradient(double[] z0, Shape shape, Function<NDArray, NDArray> loss) {
        NDArray z = manager.create(z0, shape);
        z.setRequiresGradient(true);
        double value;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray v = loss.apply(z.mul(1));
            value = v.getDouble();
            gc.backward(v);
        }
        double[] g = z.getGradient().toDoubleArray();
        double[] out = new double[g.length + 1];
        out[0] = value;
        System.arraycopy(g, 0, out, 1, g.length);
        return out;
    }
}

package io.distill4j.models.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/** The tanh-approximated GELU against a plain double-precision reference, values and derivatives. */
class ActivationTest {

    private static final double C = Math.sqrt(2 / Math.PI);

    static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(C * (x + 0.044715 * x * x * x)));
    }

    static double dgelu(double x) {
        if (Math.abs(x) > 20) {
            return x > 0 ? 1 : 0;
        }
        double t = Math.tanh(C * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * 0.044715 * x * x);
    }

    @Test
    void geluTanhMatchesTheReferenceAndHasFiniteGradientsEverywhere() {
        double[] xs = {-1e30, -1e20, -1e19, -1e6, -30, -10.5, -10, -9, -4, -1.5, -0.3, 0, 0.3, 1.5, 4, 9, 10, 10.5, 30,
            1e6, 1e19, 1e20, 1e30};
        try (NDManager m = NDManager.newBaseManager()) {
            float[] f = new float[xs.length];
            for (int i = 0; i < xs.length; i++) {
                f[i] = (float) xs[i];
            }
            NDArray x = m.create(f);
            x.setRequiresGradient(true);
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out = LmActivation.GELU_TANH.apply(x);
                y = out.toFloatArray();
                gc.backward(out.sum());
            }
            float[] g = x.getGradient().toFloatArray();
            for (int i = 0; i < xs.length; i++) {
                double ref = gelu(f[i]);
                assertEquals(ref, y[i], 2e-6 * Math.max(1, Math.abs(ref)), "gelu(" + xs[i] + ")");
                // before the cube saw a clipped x, |x| >= 1.8e19 gave 0 * inf = NaN here
                assertEquals(dgelu(f[i]), g[i], 2e-5, "gelu'(" + xs[i] + ")");
            }
        }
    }
}

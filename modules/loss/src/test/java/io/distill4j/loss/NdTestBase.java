package io.distill4j.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A fresh NDManager per test and conversions between Java arrays and float64 NDArrays. */
abstract class NdTestBase {
    NDManager manager;

    @BeforeEach
    void openManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    NDArray nd(double[][] a) {
        return manager.create(Ref.flat(a), new Shape(a.length, a[0].length));
    }

    NDArray nd(double[] a) {
        return manager.create(a);
    }

    NDArray nd(double[][] a, long... shape) {
        return manager.create(Ref.flat(a), new Shape(shape));
    }

    NDArray nd3(double[][][] a) {
        int b = a.length;
        int k = a[0].length;
        int c = a[0][0].length;
        double[] f = new double[b * k * c];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < k; j++) {
                System.arraycopy(a[i][j], 0, f, (i * k + j) * c, c);
            }
        }
        return manager.create(f, new Shape(b, k, c));
    }

    NDArray ids(int[] y, long... shape) {
        long[] l = new long[y.length];
        for (int i = 0; i < y.length; i++) {
            l[i] = y[i];
        }
        return manager.create(l, shape.length == 0 ? new Shape(y.length) : new Shape(shape));
    }

    NDArray ids(int[][] y, long... shape) {
        long[] l = new long[y.length * y[0].length];
        for (int i = 0; i < y.length; i++) {
            for (int j = 0; j < y[0].length; j++) {
                l[i * y[0].length + j] = y[i][j];
            }
        }
        return manager.create(l, shape.length == 0 ? new Shape(y.length, y[0].length) : new Shape(shape));
    }

    static double[][] rows(NDArray a) {
        long cols = a.getShape().getLastDimension();
        return Ref.unflat(a.toType(DataType.FLOAT64, false).toDoubleArray(), (int) (a.getShape().size() / cols));
    }

    static double scalar(NDArray a) {
        return a.toType(DataType.FLOAT64, false).getDouble();
    }

    static void close(double expected, double actual, double relTol, String what) {
        assertEquals(expected, actual, relTol * Math.max(1, Math.abs(expected)), what);
    }

    /**
     * Checks the autograd gradient of {@code loss} at {@code z0} against central finite differences of the
     * plain-double reference {@code ref}.
     */
    void gradCheck(String what, double[][] z0, long[] shape, ToDoubleFunction<double[][]> ref,
            Function<NDArray, NDArray> loss) {
        NDArray z = manager.create(Ref.flat(z0), new Shape(shape));
        z.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(loss.apply(z));
        }
        double[] grad = z.getGradient().toDoubleArray();
        double h = 1e-6;
        for (int i = 0; i < z0.length; i++) {
            for (int c = 0; c < z0[i].length; c++) {
                double[][] plus = Ref.copy(z0);
                double[][] minus = Ref.copy(z0);
                plus[i][c] += h;
                minus[i][c] -= h;
                double fd = (ref.applyAsDouble(plus) - ref.applyAsDouble(minus)) / (2 * h);
                assertEquals(fd, grad[i * z0[i].length + c], 1e-6 * Math.max(1, Math.abs(fd)),
                        what + ": d/dz[" + i + "][" + c + "]");
            }
        }
    }

    static NDList list(NDArray... a) {
        return new NDList(a);
    }
}

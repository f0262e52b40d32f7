package io.distill4j.trainer.stats;

import org.hipparchus.stat.regression.SimpleRegression;

/** Least-squares fits that the experiments report about how a variance falls with the number of samples k. */
public final class Regression {

    private Regression() {
    }

    /**
     * The least-squares slope of log(y) against log(x): the exponent of a power law y ~ x^slope (-1 when a
     * variance falls as 1/k).
     *
     * @param x positive abscissae
     * @param y positive ordinates, as many, at least 2
     * @return the fitted slope
     */
    public static double logLogSlope(double[] x, double[] y) {
        paired(x, y);
        SimpleRegression fit = new SimpleRegression();
        for (int i = 0; i < x.length; i++) {
            if (!(x[i] > 0 && y[i] > 0)) {
                throw new IllegalArgumentException("log-log fit needs positive values, got (" + x[i] + ", " + y[i] + ")");
            }
            fit.addData(Math.log(x[i]), Math.log(y[i]));
        }
        return fit.getSlope();
    }

    /**
     * The least-squares fit of y = floor + c / x (linear in 1/x): with x = k, the floor is what averaging k
     * samples cannot remove and c the part that falls as 1/k.
     *
     * @param x positive abscissae, at least two distinct
     * @param y ordinates, as many
     * @return {floor, c}
     */
    public static double[] fitFloorPlusInverse(double[] x, double[] y) {
        paired(x, y);
        SimpleRegression fit = new SimpleRegression();
        for (int i = 0; i < x.length; i++) {
            if (!(x[i] > 0)) {
                throw new IllegalArgumentException("floor + c/x fit needs positive x, got " + x[i]);
            }
            fit.addData(1 / x[i], y[i]);
        }
        return new double[] {fit.getIntercept(), fit.getSlope()};
    }

    private static void paired(double[] x, double[] y) {
        if (x.length != y.length || x.length < 2) {
            throw new IllegalArgumentException("need at least 2 paired points, got " + x.length + " and " + y.length);
        }
    }
}

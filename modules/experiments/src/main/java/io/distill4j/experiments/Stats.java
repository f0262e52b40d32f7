package io.distill4j.experiments;

/** Plain double-precision summary statistics used by the experiments. */
public final class Stats {
    /** The 97.5% quantile of the standard normal, for 95% confidence intervals. */
    public static final double Z95 = 1.959963984540054;

    private Stats() {
    }

    /**
     * Mean of the values.
     *
     * @param v the values, at least one
     * @return their mean
     */
    public static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    /**
     * Sample variance (ddof 1).
     *
     * @param v at least two values
     * @return their unbiased variance
     */
    public static double variance(double[] v) {
        if (v.length < 2) {
            throw new IllegalArgumentException("variance needs at least 2 values, got " + v.length);
        }
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return s / (v.length - 1);
    }

    /**
     * Half-width of the normal-approximation 95% confidence interval of the mean: 1.96 * sd / sqrt(n).
     *
     * @param v at least two values
     * @return the half-width
     */
    public static double ci95(double[] v) {
        return Z95 * Math.sqrt(variance(v) / v.length);
    }

    /**
     * Least-squares slope of log(y) against log(x): the exponent of a power law y ~ x^slope.
     *
     * @param x positive abscissae
     * @param y positive ordinates
     * @return the fitted slope
     */
    public static double logLogSlope(double[] x, double[] y) {
        if (x.length != y.length || x.length < 2) {
            throw new IllegalArgumentException("need at least 2 paired points, got " + x.length + " and " + y.length);
        }
        double[] lx = new double[x.length];
        double[] ly = new double[y.length];
        for (int i = 0; i < x.length; i++) {
            if (!(x[i] > 0 && y[i] > 0)) {
                throw new IllegalArgumentException("log-log fit needs positive values, got (" + x[i] + ", " + y[i] + ")");
            }
            lx[i] = Math.log(x[i]);
            ly[i] = Math.log(y[i]);
        }
        double mx = mean(lx);
        double my = mean(ly);
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < lx.length; i++) {
            sxy += (lx[i] - mx) * (ly[i] - my);
            sxx += (lx[i] - mx) * (lx[i] - mx);
        }
        return sxy / sxx;
    }

    /**
     * A standard normal draw by Marsaglia's polar method.
     *
     * @param rnd the source of uniform doubles
     * @return an N(0, 1) value
     */
    public static double gaussian(java.util.SplittableRandom rnd) {
        double u;
        double v;
        double s;
        do {
            u = 2 * rnd.nextDouble() - 1;
            v = 2 * rnd.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.sqrt(-2 * Math.log(s) / s);
    }

    /**
     * Least-squares fit of y = c0 + c1 / x (linear in 1/x).
     *
     * @param x positive abscissae, at least two distinct
     * @param y ordinates
     * @return {c0, c1}
     */
    public static double[] fitFloorPlusInverse(double[] x, double[] y) {
        double[] u = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            u[i] = 1 / x[i];
        }
        double mu = mean(u);
        double my = mean(y);
        double suy = 0;
        double suu = 0;
        for (int i = 0; i < u.length; i++) {
            suy += (u[i] - mu) * (y[i] - my);
            suu += (u[i] - mu) * (u[i] - mu);
        }
        double c1 = suy / suu;
        return new double[] {my - c1 * mu, c1};
    }
}

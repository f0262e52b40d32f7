package io.distill4j.trainer;

/**
 * A metric aggregated over the students of a multi-student run: mean, sample standard deviation (ddof 1)
 * and the two-sided 95% confidence interval of the mean from Student's t distribution,
 * mean +- t(0.975, n-1) * std / sqrt(n). With a single student, std and the interval are NaN.
 *
 * @param n the number of students
 * @param mean the mean
 * @param std the sample standard deviation (ddof 1)
 * @param ci95Low the lower end of the 95% interval of the mean
 * @param ci95High the upper end of the 95% interval of the mean
 */
public record Aggregate(int n, double mean, double std, double ci95Low, double ci95High) {

    /**
     * Aggregates values.
     *
     * @param values one value per student, at least one
     * @return the aggregate
     */
    public static Aggregate of(double[] values) {
        int n = values.length;
        if (n == 0) {
            throw new IllegalArgumentException("nothing to aggregate");
        }
        double mean = 0;
        for (double v : values) {
            mean += v;
        }
        mean /= n;
        if (n == 1) {
            return new Aggregate(1, mean, Double.NaN, Double.NaN, Double.NaN);
        }
        double std = Math.sqrt(Metrics.variance(values));
        double half = tQuantile975(n - 1) * std / Math.sqrt(n);
        return new Aggregate(n, mean, std, mean - half, mean + half);
    }

    /** @return the sample variance, std squared (the inter-student variance of this metric) */
    public double variance() {
        return std * std;
    }

    /**
     * The 0.975 quantile of Student's t distribution, found by bisection on its CDF
     * F(t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t &gt; 0 (I: the regularised incomplete beta function).
     *
     * @param df degrees of freedom, positive
     * @return t such that F(t) = 0.975, to about 1e-12
     */
    public static double tQuantile975(int df) {
        if (df <= 0) {
            throw new IllegalArgumentException("degrees of freedom must be positive, got " + df);
        }
        double lo = 0;
        double hi = 1000;
        for (int i = 0; i < 200 && hi - lo > 1e-13; i++) {
            double mid = (lo + hi) / 2;
            double tail = 0.5 * regularizedBeta(df / (df + mid * mid), df / 2.0, 0.5);
            if (1 - tail < 0.975) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    /** I_x(a, b), by the continued fraction of Numerical Recipes (betacf), with the symmetry for large x. */
    static double regularizedBeta(double x, double a, double b) {
        if (x <= 0) {
            return 0;
        }
        if (x >= 1) {
            return 1;
        }
        double front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
        if (x < (a + 1) / (a + b + 2)) {
            return front * continuedFraction(x, a, b) / a;
        }
        return 1 - front * continuedFraction(1 - x, b, a) / b;
    }

    private static double continuedFraction(double x, double a, double b) {
        final double tiny = 1e-300;
        double qab = a + b;
        double qap = a + 1;
        double qam = a - 1;
        double c = 1;
        double d = 1 - qab * x / qap;
        d = Math.abs(d) < tiny ? tiny : d;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 10_000; m++) {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d;
            d = Math.abs(d) < tiny ? tiny : d;
            c = 1 + aa / c;
            c = Math.abs(c) < tiny ? tiny : c;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d;
            d = Math.abs(d) < tiny ? tiny : d;
            c = 1 + aa / c;
            c = Math.abs(c) < tiny ? tiny : c;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.abs(del - 1) < 1e-16) {
                break;
            }
        }
        return h;
    }

    /** log Gamma(x) for x &gt; 0 by the Lanczos approximation (g = 7, 9 terms), accurate to about 1e-15. */
    static double logGamma(double x) {
        final double[] c = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7};
        if (x < 0.5) {
            return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
        }
        x -= 1;
        double s = c[0];
        for (int i = 1; i < 9; i++) {
            s += c[i] / (x + i);
        }
        double t = x + 7.5;
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
    }
}

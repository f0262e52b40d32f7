package io.distill4j.models;

/** Dense double-precision linear algebra for small least-squares problems (the {@code ols} student, the experiments). */
public final class Linalg {
    private Linalg() {
    }

    /**
     * Matrix product A B.
     *
     * @param a an n x m matrix
     * @param b an m x p matrix
     * @return the n x p product
     */
    public static double[][] mul(double[][] a, double[][] b) {
        int n = a.length;
        int m = b.length;
        int p = b[0].length;
        if (a[0].length != m) {
            throw new IllegalArgumentException("shapes " + n + "x" + a[0].length + " and " + m + "x" + p + " do not chain");
        }
        double[][] c = new double[n][p];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < m; k++) {
                double aik = a[i][k];
                for (int j = 0; j < p; j++) {
                    c[i][j] += aik * b[k][j];
                }
            }
        }
        return c;
    }

    /**
     * Matrix-vector product A v.
     *
     * @param a an n x m matrix
     * @param v a vector of length m
     * @return the product, length n
     */
    public static double[] mul(double[][] a, double[] v) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            double s = 0;
            for (int j = 0; j < v.length; j++) {
                s += a[i][j] * v[j];
            }
            out[i] = s;
        }
        return out;
    }

    /**
     * Transpose.
     *
     * @param a an n x m matrix
     * @return its m x n transpose
     */
    public static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }

    /**
     * Inverse of a symmetric positive-definite matrix by Cholesky decomposition.
     *
     * @param a the matrix
     * @return its inverse
     * @throws IllegalArgumentException if the matrix is not positive definite (for example collinear features)
     */
    public static double[][] spdInverse(double[][] a) {
        int n = a.length;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) {
                    s -= l[i][k] * l[j][k];
                }
                if (i == j) {
                    if (!(s > 0)) {
                        throw new IllegalArgumentException("matrix is not positive definite at pivot " + i + " (value " + s + ")");
                    }
                    l[i][i] = Math.sqrt(s);
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        double[][] inv = new double[n][n];
        for (int col = 0; col < n; col++) {
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                double s = i == col ? 1 : 0;
                for (int k = 0; k < i; k++) {
                    s -= l[i][k] * y[k];
                }
                y[i] = s / l[i][i];
            }
            for (int i = n - 1; i >= 0; i--) {
                double s = y[i];
                for (int k = i + 1; k < n; k++) {
                    s -= l[k][i] * inv[k][col];
                }
                inv[i][col] = s / l[i][i];
            }
        }
        return inv;
    }
}

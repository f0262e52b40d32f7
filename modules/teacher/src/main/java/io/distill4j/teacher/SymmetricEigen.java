package io.distill4j.teacher;

/**
 * Eigendecomposition of a small symmetric matrix by the cyclic Jacobi method, in double precision:
 * {@code A = Q diag(values) Q^T} with orthonormal columns in Q.
 */
final class SymmetricEigen {

    /** Eigenvalues, in the order of Q's columns. */
    final double[] values;
    /** Eigenvectors as columns: {@code vectors[row][column]}. */
    final double[][] vectors;

    private SymmetricEigen(double[] values, double[][] vectors) {
        this.values = values;
        this.vectors = vectors;
    }

    /**
     * Decomposes a symmetric matrix.
     *
     * @param a the matrix, n x n, symmetric (only read)
     * @return its eigenvalues and eigenvectors
     */
    static SymmetricEigen of(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][];
        for (int i = 0; i < n; i++) {
            if (a[i].length != n) {
                throw new IllegalArgumentException("matrix row " + i + " has " + a[i].length + " columns, expected " + n);
            }
            m[i] = a[i].clone();
        }
        double[][] q = new double[n][n];
        for (int i = 0; i < n; i++) {
            q[i][i] = 1;
        }
        double scale = 0;
        for (double[] row : m) {
            for (double v : row) {
                scale += v * v;
            }
        }
        double tol = 1e-30 * Math.max(scale, Double.MIN_NORMAL);
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int r = p + 1; r < n; r++) {
                    off += m[p][r] * m[p][r];
                }
            }
            if (off <= tol) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int r = p + 1; r < n; r++) {
                    double apr = m[p][r];
                    if (Math.abs(apr) < 1e-300) {
                        continue;
                    }
                    double theta = (m[r][r] - m[p][p]) / (2 * apr);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int i = 0; i < n; i++) {
                        double mip = m[i][p];
                        double mir = m[i][r];
                        m[i][p] = c * mip - s * mir;
                        m[i][r] = s * mip + c * mir;
                    }
                    for (int i = 0; i < n; i++) {
                        double mpi = m[p][i];
                        double mri = m[r][i];
                        m[p][i] = c * mpi - s * mri;
                        m[r][i] = s * mpi + c * mri;
                    }
                    for (int i = 0; i < n; i++) {
                        double qip = q[i][p];
                        double qir = q[i][r];
                        q[i][p] = c * qip - s * qir;
                        q[i][r] = s * qip + c * qir;
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = m[i][i];
        }
        return new SymmetricEigen(values, q);
    }
}

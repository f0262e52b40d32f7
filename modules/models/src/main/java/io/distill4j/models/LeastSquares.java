package io.distill4j.models;

/**
 * Ordinary least squares on fixed rows, in double precision: the design matrix X (with a leading column of ones
 * when the fit has an intercept), (X'X)^-1 and the hat matrix H = X (X'X)^-1 X', computed once and reused for every
 * target vector fitted on the same rows (the {@code ols} student of every seed, its pilot fit).
 *
 * <p>Coefficients beta = (X'X)^-1 X' t; fitted values H t; leverage h_ii, the diagonal of H, so that a fit to
 * targets with independent noise of variance s^2 has Var(x_i' beta) = s^2 h_ii.
 */
public final class LeastSquares {

    private final boolean intercept;
    private final double[][] design;
    private final double[][] gramInverse;
    private final double[][] pseudoInverse;
    private final double[] leverage;

    private LeastSquares(float[][] x, boolean intercept) {
        if (x.length == 0) {
            throw new IllegalArgumentException("least squares needs at least one row");
        }
        this.intercept = intercept;
        int d = x[0].length;
        int q = d + (intercept ? 1 : 0);
        if (x.length < q) {
            throw new IllegalArgumentException("least squares with " + q + " coefficients needs at least " + q
                    + " rows, got " + x.length);
        }
        design = new double[x.length][q];
        for (int i = 0; i < x.length; i++) {
            if (x[i].length != d) {
                throw new IllegalArgumentException("row " + i + " has " + x[i].length + " features, row 0 has " + d);
            }
            int off = 0;
            if (intercept) {
                design[i][0] = 1;
                off = 1;
            }
            for (int j = 0; j < d; j++) {
                design[i][j + off] = x[i][j];
            }
        }
        double[][] xt = Linalg.transpose(design);
        try {
            gramInverse = Linalg.spdInverse(Linalg.mul(xt, design));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("least squares: X'X is singular (collinear or constant features): "
                    + e.getMessage(), e);
        }
        pseudoInverse = Linalg.mul(gramInverse, xt);
        leverage = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double s = 0;
            for (int a = 0; a < q; a++) {
                for (int b = 0; b < q; b++) {
                    s += design[i][a] * gramInverse[a][b] * design[i][b];
                }
            }
            leverage[i] = s;
        }
    }

    /**
     * Prepares least squares on some rows.
     *
     * @param x the rows, n x d, n at least the number of coefficients
     * @param intercept whether to fit an intercept (a leading column of ones)
     * @return the prepared problem
     * @throws IllegalArgumentException for too few rows, ragged rows or a singular X'X
     */
    public static LeastSquares of(float[][] x, boolean intercept) {
        return new LeastSquares(x, intercept);
    }

    /** @return the number of rows */
    public int rows() {
        return design.length;
    }

    /** @return whether the first coefficient is an intercept */
    public boolean intercept() {
        return intercept;
    }

    /**
     * The least-squares coefficients of each target column.
     *
     * @param targets n x D
     * @return q x D (the intercept first when there is one)
     */
    public double[][] coefficients(double[][] targets) {
        check(targets);
        return Linalg.mul(pseudoInverse, targets);
    }

    /**
     * The fitted values H t of each target column.
     *
     * @param targets n x D
     * @return n x D
     */
    public double[][] fitted(double[][] targets) {
        return Linalg.mul(design, coefficients(targets));
    }

    /** @return each row's leverage h_ii (a copy) */
    public double[] leverage() {
        return leverage.clone();
    }

    /** @return (X'X)^-1 (a copy) */
    public double[][] gramInverse() {
        double[][] c = new double[gramInverse.length][];
        for (int i = 0; i < c.length; i++) {
            c[i] = gramInverse[i].clone();
        }
        return c;
    }

    private void check(double[][] targets) {
        if (targets.length != design.length) {
            throw new IllegalArgumentException("targets have " + targets.length + " rows, the design " + design.length);
        }
    }
}

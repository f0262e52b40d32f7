package io.distill4j.data;

/**
 * Moving rows between Java arrays and the flat row-major buffers that NDArrays are made from, plus the
 * small row operations every module needs (arg max, one-hot).
 */
public final class Rows {

    private Rows() {
    }

    /**
     * Flattens rows of equal width, row-major.
     *
     * @param rows n rows of width d, n at least 1
     * @return n * d values
     * @throws IllegalArgumentException if a row's width differs from row 0's
     */
    public static float[] flatten(float[][] rows) {
        int d = rows[0].length;
        float[] flat = new float[Math.multiplyExact(rows.length, d)];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != d) {
                throw new IllegalArgumentException("row " + i + " has width " + rows[i].length + ", row 0 has " + d);
            }
            System.arraycopy(rows[i], 0, flat, i * d, d);
        }
        return flat;
    }

    /**
     * Flattens the rows {@code [start, end)} into the front of a reused buffer, row-major (for batches).
     *
     * @param rows rows of equal width d
     * @param start the first row
     * @param end one past the last row
     * @param into the buffer, at least (end - start) * d long
     * @return {@code into}, its first (end - start) * d values filled
     * @throws IllegalArgumentException if a row's width differs from row {@code start}'s
     */
    public static float[] flatten(float[][] rows, int start, int end, float[] into) {
        int d = rows[start].length;
        for (int i = start; i < end; i++) {
            if (rows[i].length != d) {
                throw new IllegalArgumentException("row " + i + " has width " + rows[i].length + ", row " + start + " has "
                        + d);
            }
            System.arraycopy(rows[i], 0, into, (i - start) * d, d);
        }
        return into;
    }

    /**
     * Flattens a block of n x k x c values, row-major.
     *
     * @param block n items of k rows of width c, n at least 1
     * @return n * k * c values
     * @throws IllegalArgumentException if the block is ragged
     */
    public static float[] flatten(float[][][] block) {
        int k = block[0].length;
        int c = block[0][0].length;
        float[] flat = new float[Math.multiplyExact(Math.multiplyExact(block.length, k), c)];
        for (int i = 0; i < block.length; i++) {
            if (block[i].length != k) {
                throw new IllegalArgumentException("item " + i + " has " + block[i].length + " rows, item 0 has " + k);
            }
            for (int j = 0; j < k; j++) {
                if (block[i][j].length != c) {
                    throw new IllegalArgumentException("item " + i + " row " + j + " has width " + block[i][j].length
                            + ", item 0 has " + c);
                }
                System.arraycopy(block[i][j], 0, flat, (i * k + j) * c, c);
            }
        }
        return flat;
    }

    /**
     * Splits a flat buffer into n rows of equal width.
     *
     * @param flat n * d values
     * @param n the number of rows, positive, dividing {@code flat.length}
     * @return the rows
     */
    public static float[][] unflatten(float[] flat, int n) {
        if (n <= 0 || flat.length % n != 0) {
            throw new IllegalArgumentException(flat.length + " values do not split into " + n + " rows");
        }
        int d = flat.length / n;
        float[][] rows = new float[n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * d, rows[i], 0, d);
        }
        return rows;
    }

    /**
     * The index of the largest value (the first one on ties).
     *
     * @param v values, at least one
     * @return its index
     */
    public static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * The index of the largest value (the first one on ties).
     *
     * @param v values, at least one
     * @return its index
     */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * One-hot rows of class labels.
     *
     * @param labels class ids in [0, classes)
     * @param classes the number of classes, positive
     * @return labels.length rows of width {@code classes}
     */
    public static float[][] oneHot(int[] labels, int classes) {
        float[][] out = new float[labels.length][classes];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " at row " + i + " outside [0, " + classes + ")");
            }
            out[i][labels[i]] = 1f;
        }
        return out;
    }
}

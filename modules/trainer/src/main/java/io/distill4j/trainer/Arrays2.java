package io.distill4j.trainer;

/** Small array helpers for moving rows between Java arrays and flat NDArray buffers. */
final class Arrays2 {
    private Arrays2() {
    }

    static float[] flatten(float[][] rows) {
        int d = rows[0].length;
        float[] flat = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != d) {
                throw new IllegalArgumentException("row " + i + " has width " + rows[i].length + ", row 0 has " + d);
            }
            System.arraycopy(rows[i], 0, flat, i * d, d);
        }
        return flat;
    }

    static float[][] unflatten(float[] flat, int n) {
        int d = flat.length / n;
        float[][] rows = new float[n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * d, rows[i], 0, d);
        }
        return rows;
    }
}

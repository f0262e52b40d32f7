package io.distill4j.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.Random;

/**
 * An in-memory table of float features with either class labels or regression targets.
 *
 * @param name a short name (for example {@code digits})
 * @param features rows of features, all of the same width
 * @param labels class labels in {@code [0, numClasses)}, or {@code null} for regression
 * @param targets regression targets, or {@code null} for classification
 * @param numClasses the number of classes, or 0 for regression
 */
public record TabularData(String name, float[][] features, int[] labels, double[] targets, int numClasses) {

    /** Validates that every row has the same width and that labels or targets match the row count. */
    public TabularData {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(features, "features");
        if ((labels == null) == (targets == null)) {
            throw new IllegalArgumentException("exactly one of labels and targets must be given");
        }
        int n = features.length;
        if (labels != null && labels.length != n) {
            throw new IllegalArgumentException("labels has " + labels.length + " entries for " + n + " rows");
        }
        if (targets != null && targets.length != n) {
            throw new IllegalArgumentException("targets has " + targets.length + " entries for " + n + " rows");
        }
        if (n > 0) {
            int d = features[0].length;
            for (int i = 1; i < n; i++) {
                if (features[i].length != d) {
                    throw new IllegalArgumentException("row " + i + " has " + features[i].length
                            + " features, row 0 has " + d);
                }
            }
        }
    }

    /** @return the number of rows */
    public int size() {
        return features.length;
    }

    /** @return the number of feature columns */
    public int width() {
        return features.length == 0 ? 0 : features[0].length;
    }

    /** @return whether this is a classification table */
    public boolean isClassification() {
        return labels != null;
    }

    /**
     * Selects rows by index.
     *
     * @param rows the row indices, in the order wanted
     * @return a new table holding copies of those rows
     */
    public TabularData select(int[] rows) {
        float[][] x = new float[rows.length][];
        int[] y = labels == null ? null : new int[rows.length];
        double[] t = targets == null ? null : new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            x[i] = features[rows[i]].clone();
            if (y != null) {
                y[i] = labels[rows[i]];
            }
            if (t != null) {
                t[i] = targets[rows[i]];
            }
        }
        return new TabularData(name, x, y, t, numClasses);
    }

    /**
     * Splits the rows at random into a training and a test part.
     *
     * @param testFraction the fraction of rows in the test part, in (0, 1)
     * @param seed the seed of the shuffle; the same seed gives the same split
     * @return the two parts
     */
    public Split split(double testFraction, long seed) {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("testFraction must be in (0, 1), got " + testFraction);
        }
        int n = size();
        int[] perm = permutation(n, seed);
        int nTest = (int) Math.round(n * testFraction);
        return new Split(select(Arrays.copyOfRange(perm, nTest, n)), select(Arrays.copyOfRange(perm, 0, nTest)));
    }

    /**
     * Returns a reproducible random permutation of {@code 0..n-1} (Fisher-Yates with {@link Random}).
     *
     * @param n the length
     * @param seed the seed
     * @return the permutation
     */
    public static int[] permutation(int n, long seed) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        Random rnd = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        return perm;
    }

    /**
     * Scales every feature by one constant (for example 1/16 for the digits' 0..16 pixel values).
     *
     * @param factor the multiplier
     * @return a new, scaled table
     */
    public TabularData scale(float factor) {
        float[][] x = new float[size()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = features[i].clone();
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] *= factor;
            }
        }
        return new TabularData(name, x, labels, targets, numClasses);
    }

    /**
     * A training and a test part of one table.
     *
     * @param train the training rows
     * @param test the test rows
     */
    public record Split(TabularData train, TabularData test) {
    }
}

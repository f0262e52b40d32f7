package io.distill4j.cli.experiment;

import io.distill4j.data.TabularData;
import java.util.Arrays;

/**
 * A train/test split standardised with the training rows' statistics: every feature to mean 0 and
 * deviation 1 (ddof 0; constant features are only centred), and for regression the target likewise.
 *
 * @param xTrain standardised training features
 * @param xTest standardised test features
 * @param yTrain standardised training targets, or null for classification
 * @param yTest standardised test targets, or null for classification
 * @param labelsTrain training labels, or null for regression
 * @param labelsTest test labels, or null for regression
 */
public record Standardised(float[][] xTrain, float[][] xTest, double[] yTrain, double[] yTest, int[] labelsTrain,
        int[] labelsTest) {

    /** @return the number of features */
    public int width() {
        return xTrain[0].length;
    }

    /**
     * Standardises a split.
     *
     * @param split the split
     * @return the standardised split
     */
    public static Standardised of(TabularData.Split split) {
        TabularData tr = split.train();
        TabularData te = split.test();
        int d = tr.width();
        double[] mu = new double[d];
        double[] sd = new double[d];
        for (float[] row : tr.features()) {
            for (int j = 0; j < d; j++) {
                mu[j] += row[j] / (double) tr.size();
            }
        }
        for (float[] row : tr.features()) {
            for (int j = 0; j < d; j++) {
                sd[j] += (row[j] - mu[j]) * (row[j] - mu[j]) / tr.size();
            }
        }
        for (int j = 0; j < d; j++) {
            sd[j] = sd[j] > 1e-12 ? Math.sqrt(sd[j]) : 1;
        }
        double[] yTr = null;
        double[] yTe = null;
        if (!tr.isClassification()) {
            double ym = Stats.mean(tr.targets());
            double yv = 0;
            for (double y : tr.targets()) {
                yv += (y - ym) * (y - ym) / tr.size();
            }
            double ys = Math.sqrt(yv);
            yTr = Arrays.stream(tr.targets()).map(y -> (y - ym) / ys).toArray();
            yTe = Arrays.stream(te.targets()).map(y -> (y - ym) / ys).toArray();
        }
        return new Standardised(scale(tr, mu, sd), scale(te, mu, sd), yTr, yTe, tr.labels(), te.labels());
    }

    private static float[][] scale(TabularData t, double[] mu, double[] sd) {
        float[][] x = new float[t.size()][t.width()];
        for (int i = 0; i < t.size(); i++) {
            for (int j = 0; j < t.width(); j++) {
                x[i][j] = (float) ((t.features()[i][j] - mu[j]) / sd[j]);
            }
        }
        return x;
    }
}

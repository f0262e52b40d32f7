package io.distill4j.teacher.job;

import io.distill4j.data.TabularData;

/**
 * Z-scores features, and regression targets, with the mean and standard deviation (ddof 0) of a
 * reference table; constant columns are left centred but unscaled.
 */
final class Standardizer {

    private final double[] mean;
    private final double[] std;
    private final double targetMean;
    private final double targetStd;

    private Standardizer(double[] mean, double[] std, double targetMean, double targetStd) {
        this.mean = mean;
        this.std = std;
        this.targetMean = targetMean;
        this.targetStd = targetStd;
    }

    static Standardizer fit(TabularData t) {
        int d = t.width();
        int n = t.size();
        double[] mean = new double[d];
        double[] sq = new double[d];
        for (float[] row : t.features()) {
            for (int j = 0; j < d; j++) {
                mean[j] += row[j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
        }
        for (float[] row : t.features()) {
            for (int j = 0; j < d; j++) {
                sq[j] += (row[j] - mean[j]) * (row[j] - mean[j]);
            }
        }
        double[] std = new double[d];
        for (int j = 0; j < d; j++) {
            double s = Math.sqrt(sq[j] / n);
            std[j] = s > 0 ? s : 1;
        }
        double tm = 0;
        double ts = 1;
        if (!t.isClassification()) {
            for (double y : t.targets()) {
                tm += y;
            }
            tm /= n;
            double v = 0;
            for (double y : t.targets()) {
                v += (y - tm) * (y - tm);
            }
            ts = Math.sqrt(v / n);
            ts = ts > 0 ? ts : 1;
        }
        return new Standardizer(mean, std, tm, ts);
    }

    TabularData apply(TabularData t) {
        float[][] x = new float[t.size()][];
        for (int i = 0; i < x.length; i++) {
            float[] row = t.features()[i];
            x[i] = new float[row.length];
            for (int j = 0; j < row.length; j++) {
                x[i][j] = (float) ((row[j] - mean[j]) / std[j]);
            }
        }
        double[] y = null;
        if (!t.isClassification()) {
            y = new double[t.size()];
            for (int i = 0; i < y.length; i++) {
                y[i] = (t.targets()[i] - targetMean) / targetStd;
            }
        }
        return new TabularData(t.name(), x, t.labels(), y, t.numClasses());
    }
}

package io.distill4j.data;


/**
 * Z-scores features, and regression targets, with the mean and standard deviation (ddof 0) of a
 * reference table (the training rows); constant columns (deviation at most 1e-12) are left centred but unscaled.
 */
public final class Standardizer {

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

    /**
     * Standardises both parts of a split with the statistics of its training part.
     *
     * @param split the split
     * @return the standardised split
     */
    public static TabularData.Split standardise(TabularData.Split split) {
        Standardizer z = fit(split.train());
        return new TabularData.Split(z.apply(split.train()), z.apply(split.test()));
    }

    /**
     * Learns the per-column means and deviations of a table.
     *
     * @param t the reference rows, at least one
     * @return the standardiser
     */
    public static Standardizer fit(TabularData t) {
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
            std[j] = s > 1e-12 ? s : 1;
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
            ts = ts > 1e-12 ? ts : 1;
        }
        return new Standardizer(mean, std, tm, ts);
    }

    /**
     * Applies the learnt scaling.
     *
     * @param t rows of the same width as the reference
     * @return the standardised rows (and targets, for regression)
     */
    public TabularData apply(TabularData t) {
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

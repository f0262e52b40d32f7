package io.distill4j.pipeline;

import io.distill4j.data.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The project's plots: one look for every PNG a run or report writes (XChart). Colours come from the Okabe-Ito
 * palette (Okabe &amp; Ito 2008), which stays distinct for the common colour-vision deficiencies; tick labels are
 * printed in full ({@code 0.08}, not {@code .08}); intervals are drawn wherever a number has one.
 */
public final class Plots {

    /** The Okabe-Ito palette without black: orange, sky blue, bluish green, yellow, blue, vermillion, purple. */
    public static final List<Color> PALETTE = List.of(new Color(0xE69F00), new Color(0x56B4E9), new Color(0x009E73),
            new Color(0xF0E442), new Color(0x0072B2), new Color(0xD55E00), new Color(0xCC79A7));

    private Plots() {
    }

    /**
     * Gives a chart the project's style: white background, the palette, readable fonts, full tick labels.
     *
     * @param chart the chart
     * @param <C> its type
     * @return the chart
     */
    public static <C extends Chart<?, ?>> C style(C chart) {
        Styler s = chart.getStyler();
        s.setSeriesColors(PALETTE.toArray(new Color[0]));
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setLegendBorderColor(Color.LIGHT_GRAY);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setDecimalPattern("0.0##");
        if (s instanceof org.knowm.xchart.style.AxesChartStyler a) {
            a.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            a.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            a.setPlotGridLinesColor(new Color(0xE0E0E0));
        }
        return chart;
    }

    /**
     * A chart of one estimate per category with its interval: a marker at the estimate and a vertical line from the
     * low to the high end (asymmetric intervals such as bootstrap ones are drawn as they are), categories left to
     * right in the legend's order and colours.
     *
     * @param title the chart's title
     * @param xTitle what the categories are
     * @param yTitle what the estimates are, with the interval's meaning
     * @param names the categories, in order
     * @param estimates the estimates
     * @param low the intervals' low ends
     * @param high the intervals' high ends
     * @return the styled chart
     */
    public static XYChart intervals(String title, String xTitle, String yTitle, List<String> names, double[] estimates,
            double[] low, double[] high) {
        int n = names.size();
        if (estimates.length != n || low.length != n || high.length != n) {
            throw new IllegalArgumentException("need one estimate and interval per name: " + n + " names, "
                    + estimates.length + " estimates, " + low.length + " lows, " + high.length + " highs");
        }
        XYChart chart = style(new XYChartBuilder().width(640).height(420).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build());
        XYStyler st = chart.getStyler();
        st.setLegendVisible(true);
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        st.setXAxisMin(0.5);
        st.setXAxisMax(n + 0.5);
        st.setYAxisDecimalPattern("0.0##E0");
        st.setXAxisTicksVisible(false);
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (int i = 0; i < n; i++) {
            min = Math.min(min, low[i]);
            max = Math.max(max, high[i]);
        }
        st.setYAxisMin(Math.max(0, min - 0.1 * (max - min)));
        st.setYAxisMax(max + 0.1 * (max - min));
        for (int i = 0; i < n; i++) {
            Color colour = PALETTE.get(i % PALETTE.size());
            XYSeries line = chart.addSeries(names.get(i) + " (interval)", new double[] {i + 1, i + 1},
                    new double[] {low[i], high[i]});
            line.setMarker(SeriesMarkers.NONE);
            line.setLineColor(colour);
            line.setLineStyle(new BasicStroke(2.5f));
            line.setShowInLegend(false);
            XYSeries point = chart.addSeries(names.get(i), new double[] {i + 1}, new double[] {estimates[i]});
            point.setMarker(SeriesMarkers.DIAMOND);
            point.setMarkerColor(colour);
            point.setLineColor(colour);
        }
        return chart;
    }

    /** Markers cycled with the palette, so that series differ in shape as well as colour. */
    public static final List<Marker> MARKERS = List.of(SeriesMarkers.CIRCLE, SeriesMarkers.DIAMOND, SeriesMarkers.SQUARE,
            SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN, SeriesMarkers.CROSS, SeriesMarkers.PLUS);

    /**
     * A styled line chart with the legend below the plot (room for descriptive series names).
     *
     * @param title the chart's title
     * @param xTitle the x axis's title
     * @param yTitle the y axis's title, with the interval's meaning when series carry intervals
     * @param logX whether the x axis is logarithmic
     * @param logY whether the y axis is logarithmic
     * @return the chart
     */
    public static XYChart lines(String title, String xTitle, String yTitle, boolean logX, boolean logY) {
        XYChart chart = style(new XYChartBuilder().width(800).height(600).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle)
                .build());
        XYStyler st = chart.getStyler();
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        st.setLegendLayout(Styler.LegendLayout.Vertical);
        st.setXAxisLogarithmic(logX);
        st.setYAxisLogarithmic(logY);
        // full tick labels: plain decimals on linear axes; on log axes a mantissa and exponent where values are small
        st.setXAxisDecimalPattern(logX ? "0.###" : "0.0##");
        st.setYAxisDecimalPattern(logY ? "0.##E0" : "0.0###");
        return chart;
    }

    /**
     * Adds a series in the next palette colour and marker (dashed once the palette has been used up) and, when given,
     * its intervals as vertical lines in the same colour from {@code low[i]} to {@code high[i]} (asymmetric intervals
     * are drawn as they are; the interval lines are left out of the legend). On a logarithmic y axis an interval that
     * reaches 0 or below is drawn down to 1% of its estimate.
     *
     * @param chart the chart
     * @param name the series' name, in words (it appears in the legend)
     * @param x the x values
     * @param y the estimates
     * @param low the intervals' low ends, or null for a series without intervals
     * @param high the intervals' high ends, or null
     * @return the series
     */
    public static XYSeries addSeries(XYChart chart, String name, double[] x, double[] y, double[] low, double[] high) {
        if (x.length != y.length || (low == null) != (high == null) || (low != null
                && (low.length != y.length || high.length != y.length))) {
            throw new IllegalArgumentException("series '" + name + "': need x, y (and low, high) of one length");
        }
        int index = (int) chart.getSeriesMap().values().stream().filter(XYSeries::isShowInLegend).count();
        Color colour = PALETTE.get(index % PALETTE.size());
        XYSeries series = chart.addSeries(name, x, y);
        series.setLineColor(colour);
        series.setMarkerColor(colour);
        series.setMarker(MARKERS.get(index % MARKERS.size()));
        if (index >= PALETTE.size()) {
            series.setLineStyle(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f},
                    0f));
        }
        if (low != null) {
            boolean logY = chart.getStyler().isYAxisLogarithmic();
            for (int i = 0; i < y.length; i++) {
                double lo = logY && low[i] <= 0 ? y[i] / 100 : low[i];
                if (!Double.isFinite(lo) || !Double.isFinite(high[i])) {
                    continue;
                }
                XYSeries bar = chart.addSeries(name + " interval " + i, new double[] {x[i], x[i]}, new double[] {lo, high[i]});
                bar.setMarker(SeriesMarkers.NONE);
                bar.setLineColor(colour);
                bar.setLineStyle(new BasicStroke(1.5f));
                bar.setShowInLegend(false);
            }
        }
        return series;
    }

    /**
     * Shifts one series' x values sideways so that the intervals of series plotted at the same x do not hide each
     * other: series {@code index} of {@code count} moves by {@code (index - (count - 1) / 2) * step}, multiplied on a
     * logarithmic axis (as a factor {@code exp} of it) and added on a linear one.
     *
     * @param x the x values
     * @param index the series' position
     * @param count how many series share the x values
     * @param step the shift between neighbouring series (in x units, or in log units on a log axis)
     * @param log whether the x axis is logarithmic
     * @return the shifted values
     */
    public static double[] dodge(double[] x, int index, int count, double step, boolean log) {
        double off = (index - (count - 1) / 2.0) * step;
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = log ? x[i] * Math.exp(off) : x[i] + off;
        }
        return out;
    }

    /**
     * Writes a chart as a PNG through a temporary file and an atomic rename.
     *
     * @param chart the chart
     * @param file the PNG's path
     * @throws IOException if it cannot be written
     */
    public static void save(Chart<?, ?> chart, Path file) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(chart, png, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.write(file, png.toByteArray());
    }
}

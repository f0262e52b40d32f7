package io.distill4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Plots the scale benchmark ({@code benchmarks/scale/run-scale.sh}): wall time and peak resident memory of
 * {@code distill4j sample} and {@code distill4j train} against k, log-log, from the JSON lines
 * {@code benchmarks/scale/measure.py} wrote (labels {@code sample k=K}, {@code train k=K}).
 *
 * <p>Usage: {@code ScalePlot RESULTS.jsonl OUT.png}.
 */
public final class ScalePlot {

    private ScalePlot() {
    }

    /**
     * Writes the plot.
     *
     * @param args the JSON lines and the PNG to write
     * @throws IOException if either file fails
     */
    public static void main(String[] args) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Map<String, TreeMap<Integer, double[]>> series = new TreeMap<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (line.isBlank()) {
                continue;
            }
            Map<?, ?> r = json.readValue(line, Map.class);
            String label = String.valueOf(r.get("label"));
            if (!label.matches("(sample|train) k=\\d+") || ((Number) r.get("rc")).intValue() != 0) {
                continue;
            }
            String job = label.substring(0, label.indexOf(' '));
            int k = Integer.parseInt(label.substring(label.indexOf('=') + 1));
            series.computeIfAbsent(job, j -> new TreeMap<>()).put(k, new double[] {
                ((Number) r.get("wall_s")).doubleValue(), ((Number) r.get("max_rss_mib")).doubleValue()});
        }
        XYChart time = chart("wall time (s)");
        XYChart memory = chart("peak resident memory (MiB)");
        series.forEach((job, byK) -> {
            List<Double> ks = new ArrayList<>();
            List<Double> t = new ArrayList<>();
            List<Double> m = new ArrayList<>();
            byK.forEach((k, v) -> {
                ks.add((double) k);
                t.add(v[0]);
                m.add(v[1]);
            });
            time.addSeries(job, ks, t);
            memory.addSeries(job, ks, m);
        });
        memory.getStyler().setYAxisLogarithmic(false);
        memory.getStyler().setYAxisMin(0.0);
        BitmapEncoder.saveBitmap(List.of(time, memory), 1, 2, args[1], BitmapEncoder.BitmapFormat.PNG);
    }

    private static XYChart chart(String y) {
        XYChart c = new XYChartBuilder().width(560).height(400).title(y + " vs k, digits (1,438 items)")
                .xAxisTitle("k (teacher samples per item)").yAxisTitle(y).build();
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmic(true);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        return c;
    }
}

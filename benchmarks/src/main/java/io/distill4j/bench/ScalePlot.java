package io.distill4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Plots the scale benchmark ({@code benchmarks/scale/run-scale.sh}) against the work, items x k: the wall time of
 * {@code distill4j sample} and {@code distill4j train} and the sampling seconds {@code sample} prints (log-log, with
 * a line of slope 1 through the largest sampling point: time linear in work lies along it), and the peak resident
 * memory of both (linear scale). Reads the JSON lines the script wrote: {@code data DATASET} (its {@code items}),
 * {@code sample DATASET k=K} and {@code train DATASET k=K} ({@code benchmarks/scale/measure.py}'s records),
 * {@code sampling DATASET k=K} (its {@code seconds}); the older labels {@code sample k=K} and {@code train k=K} are
 * digits (1,438 items).
 *
 * <p>Usage: {@code ScalePlot RESULTS.jsonl OUT.png}.
 */
public final class ScalePlot {

    private static final Pattern RUN = Pattern.compile("(sample|train|sampling)(?: (\\S+))? k=(\\d+)");

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
        Map<String, Long> items = new HashMap<>(Map.of("digits", 1438L));
        List<Map<?, ?>> rows = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (!line.isBlank()) {
                rows.add(json.readValue(line, Map.class));
            }
        }
        for (Map<?, ?> r : rows) {
            String label = String.valueOf(r.get("label"));
            if (label.startsWith("data ") && r.get("items") instanceof Number n) {
                items.put(label.substring(5), n.longValue());
            }
        }
        // series name -> work -> value
        Map<String, TreeMap<Double, Double>> time = new LinkedHashMap<>();
        Map<String, TreeMap<Double, Double>> memory = new LinkedHashMap<>();
        for (Map<?, ?> r : rows) {
            Matcher m = RUN.matcher(String.valueOf(r.get("label")));
            if (!m.matches()) {
                continue;
            }
            String job = m.group(1);
            String ds = m.group(2) == null ? "digits" : m.group(2);
            Long n = items.get(ds);
            if (n == null) {
                continue;
            }
            double work = (double) n * Long.parseLong(m.group(3));
            String name = ds + " (" + String.format(java.util.Locale.ROOT, "%,d", n) + " items)";
            if (job.equals("sampling")) {
                time.computeIfAbsent("sampling s, " + name, s -> new TreeMap<>()).put(work,
                        ((Number) r.get("seconds")).doubleValue());
                continue;
            }
            if (!(r.get("rc") instanceof Number rc) || rc.intValue() != 0) {
                continue;
            }
            time.computeIfAbsent(job + " wall, " + name, s -> new TreeMap<>()).put(work,
                    ((Number) r.get("wall_s")).doubleValue());
            memory.computeIfAbsent(job + ", " + name, s -> new TreeMap<>()).put(work,
                    ((Number) r.get("max_rss_mib")).doubleValue());
        }
        XYChart t = chart("wall time (s)", true);
        XYChart mem = chart("peak resident memory (MiB)", false);
        time.forEach((s, v) -> add(t, s, v));
        memory.forEach((s, v) -> add(mem, s, v));
        // slope 1 through the largest sampling point
        time.entrySet().stream().filter(e -> e.getKey().startsWith("sampling")).flatMap(e -> e.getValue().entrySet().stream())
                .max(Map.Entry.comparingByKey()).ifPresent(top -> {
                    double lo = time.values().stream().mapToDouble(TreeMap::firstKey).min().orElseThrow();
                    XYSeries s = t.addSeries("slope 1 (time linear in work)", new double[] {lo, top.getKey()},
                            new double[] {top.getValue() * lo / top.getKey(), top.getValue()});
                    s.setMarker(SeriesMarkers.NONE);
                    s.setLineStyle(new java.awt.BasicStroke(1f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER,
                            10f, new float[] {6f, 4f}, 0f));
                });
        mem.getStyler().setYAxisMin(0.0);
        BitmapEncoder.saveBitmap(List.of(t, mem), 1, 2, args[1], BitmapEncoder.BitmapFormat.PNG);
    }

    private static void add(XYChart c, String name, TreeMap<Double, Double> byWork) {
        c.addSeries(name, new ArrayList<>(byWork.keySet()), new ArrayList<>(byWork.values()));
    }

    private static XYChart chart(String y, boolean logY) {
        XYChart c = new XYChartBuilder().width(640).height(460).title(y + " vs work")
                .xAxisTitle("work: items x k (teacher forward rows)").yAxisTitle(y).build();
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmic(logY);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        c.getStyler().setLegendFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 10));
        return c;
    }
}

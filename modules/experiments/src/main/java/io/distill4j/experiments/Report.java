package io.distill4j.experiments;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.Sha256;
import io.distill4j.data.TabularData;
import io.distill4j.pipeline.Plots;
import io.distill4j.pipeline.RunInfo;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * An experiment's report: Markdown text and tables, PNG plots (XChart), and the raw numbers as JSON.
 *
 * <p>{@link #write(Path)} writes {@code report.md}, {@code report.json} and one PNG per plot, each through
 * a temporary file and an atomic rename. Every report records its provenance ({@link #provenance}: distill4j
 * version, git commit, command line, engine and device, start and end times, the configuration, the seeds and
 * a fingerprint of each data set); {@link #write(Path)} refuses a report without it.
 */
public final class Report {
    private final String title;
    private final StringBuilder markdown = new StringBuilder();
    private final Map<String, Object> data = new LinkedHashMap<>();
    private final Map<String, Chart<?, ?>> plots = new LinkedHashMap<>();
    private final List<String> failures = new ArrayList<>();
    private RunInfo info;
    private Object config;
    private final Map<String, Object> seeds = new LinkedHashMap<>();
    private final Map<String, Object> datasets = new LinkedHashMap<>();

    /**
     * Starts a report.
     *
     * @param title the title (the Markdown heading)
     */
    public Report(String title) {
        this.title = title;
    }

    /** @return the title */
    public String title() {
        return title;
    }

    /**
     * Appends a paragraph of Markdown.
     *
     * @param text the paragraph
     * @return this report
     */
    public Report paragraph(String text) {
        markdown.append(text.strip()).append("\n\n");
        return this;
    }

    /**
     * Appends a Markdown table.
     *
     * @param header the column names
     * @param rows the rows, each as long as the header
     * @return this report
     */
    public Report table(List<String> header, List<List<String>> rows) {
        markdown.append("| ").append(String.join(" | ", header)).append(" |\n|");
        markdown.append("---|".repeat(header.size())).append('\n');
        for (List<String> r : rows) {
            if (r.size() != header.size()) {
                throw new IllegalArgumentException("row has " + r.size() + " cells, header " + header.size());
            }
            markdown.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        markdown.append('\n');
        return this;
    }

    /**
     * Adds a plot, written as {@code <file>.png} and linked from the Markdown.
     *
     * @param file the file's base name (letters, digits, '-')
     * @param chart the chart
     * @return this report
     */
    public Report plot(String file, Chart<?, ?> chart) {
        if (!file.matches("[A-Za-z0-9-]+")) {
            throw new IllegalArgumentException("plot file name must be letters, digits and '-', got '" + file + "'");
        }
        plots.put(file, chart);
        markdown.append("![").append(chart.getTitle()).append("](").append(file).append(".png)\n\n");
        return this;
    }

    /**
     * Records a named value in the JSON.
     *
     * @param key the key
     * @param value a JSON-serialisable value
     * @return this report
     */
    public Report data(String key, Object value) {
        data.put(key, value);
        return this;
    }

    /**
     * Records the run's provenance.
     *
     * @param run the version, commit, command, engine, device and times ({@link RunInfo#finish()} already called)
     * @param settings the experiment's configuration as run (quick overrides applied)
     * @return this report
     */
    public Report provenance(RunInfo run, Object settings) {
        this.info = run;
        this.config = settings;
        return this;
    }

    /**
     * Records a seed the run used.
     *
     * @param name what it seeds
     * @param value the seed
     * @return this report
     */
    public Report seed(String name, long value) {
        seeds.put(name, value);
        return this;
    }

    /**
     * Records a data set the run used, by the fingerprint the teacher cache uses ({@link Sha256#fingerprint}: the
     * SHA-256 of its shape and feature bits) and its size.
     *
     * @param name what the data is, e.g. "digits train"
     * @param table the data
     * @return this report
     */
    public Report dataset(String name, TabularData table) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", table.name());
        d.put("rows", table.size());
        d.put("features", table.width());
        d.put("fingerprint", Sha256.fingerprint(table.features()));
        datasets.put(name, d);
        return this;
    }

    /**
     * Records a data set the run generated or read that is not a table, by a fingerprint of its content.
     *
     * @param name what the data is
     * @param content its content, e.g. the generated facts one per line
     * @return this report
     */
    public Report dataset(String name, String content) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("fingerprint", Sha256.of(content.getBytes(StandardCharsets.UTF_8)));
        datasets.put(name, d);
        return this;
    }

    /**
     * The provenance block of {@code report.json}: the {@link RunInfo} fields, then {@code config}, {@code seeds}
     * and {@code data}.
     *
     * @return the block
     * @throws IllegalStateException if {@link #provenance} was not called
     */
    public Map<String, Object> provenance() {
        if (info == null) {
            throw new IllegalStateException("report '" + title + "' has no provenance: call provenance(RunInfo, config)");
        }
        Map<String, Object> m = new LinkedHashMap<>(info.asMap());
        m.put("config", config);
        m.put("seeds", seeds);
        m.put("data", datasets);
        return m;
    }

    /**
     * Records a check of the paper's qualitative claim; a failed check is listed in the report and makes
     * {@link #failures()} non-empty.
     *
     * @param claim what is claimed
     * @param holds whether the measurement supports it
     * @param evidence the numbers behind the verdict
     * @return this report
     */
    public Report check(String claim, boolean holds, String evidence) {
        markdown.append("- ").append(holds ? "**holds**" : "**does not hold**").append(": ").append(claim)
                .append(" (").append(evidence).append(")\n");
        if (!holds) {
            failures.add(claim + " (" + evidence + ")");
        }
        return this;
    }

    /** @return the claims that did not hold */
    public List<String> failures() {
        return List.copyOf(failures);
    }

    /** @return the Markdown text */
    public String markdown() {
        return "# " + title + "\n\n" + markdown;
    }

    /** @return the recorded data */
    public Map<String, Object> data() {
        return java.util.Collections.unmodifiableMap(data);
    }

    /**
     * Writes the report.
     *
     * @param dir the folder (created when missing)
     * @throws IOException if writing fails
     */
    public void write(Path dir) throws IOException {
        Map<String, Object> provenance = provenance();
        Files.createDirectories(dir);
        for (Map.Entry<String, Chart<?, ?>> p : plots.entrySet()) {
            Plots.save(p.getValue(), dir.resolve(p.getKey() + ".png"));
        }
        StringBuilder md = new StringBuilder(markdown()).append("## Provenance\n\n");
        provenance.forEach((k, v) -> {
            if (!k.equals("config")) {
                md.append("- ").append(k).append(": ").append(v).append('\n');
            }
        });
        md.append("- config: in report.json\n");
        AtomicFiles.write(dir.resolve("report.md"), md.toString().getBytes(StandardCharsets.UTF_8));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("title", title);
        json.put("provenance", provenance);
        json.put("failedClaims", failures);
        json.putAll(data);
        AtomicFiles.write(dir.resolve("report.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json));
    }
}

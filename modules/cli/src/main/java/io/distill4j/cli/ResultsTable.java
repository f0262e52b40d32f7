package io.distill4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.data.AtomicFiles;
import io.distill4j.pipeline.Plots;
import io.distill4j.trainer.stats.BootstrapInterval;
import io.distill4j.trainer.stats.Summary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's results: one row per target, with metrics over the students' seeds, the inter-student variance with
 * its bootstrap interval, and its ratio to the first target's.
 *
 * @param title a one-line title
 * @param provenance what produced the table: config, seeds, versions, data fingerprint
 * @param rows one row per target; the first is the baseline of the ratios
 */
public record ResultsTable(String title, Map<String, Object> provenance, List<Row> rows) {

    /** The column headers of {@link #toMarkdown()}, in order. */
    public static final List<String> COLUMNS = List.of("target", "students", "accuracy", "NLL", "ECE",
            "inter-student variance [95% CI]", "ratio to the first target [95% CI]", "intra-student entropy");

    /** The plot the table writes beside itself. */
    public static final String PLOT = "variance-by-target.png";

    /** Copies the rows and provenance (keeping its order) so the record stays immutable. */
    public ResultsTable {
        rows = List.copyOf(rows);
        provenance = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(provenance));
    }

    /**
     * One target's results over M students.
     *
     * @param target the target builder's name
     * @param students the number of students M
     * @param accuracy test accuracy over the students: mean, std and 95% Student-t interval of the mean
     * @param nll test NLL over the students
     * @param ece test ECE (10 bins) over the students
     * @param interStudentVariance variance across students of the predicted probabilities (ddof 1), averaged over
     *     test inputs and classes, with its percentile-bootstrap interval over the test items
     * @param ratio the inter-student variance divided by the first row's, with a paired bootstrap interval over the
     *     test items; null in the first row
     * @param intraStudentEntropy mean predictive entropy of a student on the test inputs, averaged over students
     */
    public record Row(String target, int students, Summary accuracy, Summary nll, Summary ece,
            BootstrapInterval interStudentVariance, BootstrapInterval ratio, double intraStudentEntropy) {
    }

    /**
     * The table as GitHub-flavoured Markdown: a title line, the rows, what every {@code ±} and bracket means, and
     * one sentence saying what the numbers show.
     *
     * @return the Markdown text
     */
    public String toMarkdown() {
        StringBuilder sb = new StringBuilder("## ").append(title).append("\n\n");
        sb.append("| ").append(String.join(" | ", COLUMNS)).append(" |\n");
        sb.append("|").append("---|".repeat(COLUMNS.size())).append('\n');
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %.4f |%n", r.target(), r.students(),
                    r.accuracy().format(4), r.nll().format(4), r.ece().format(4), r.interStudentVariance().format(),
                    r.ratio() == null ? "1 (baseline)" : ratio(r.ratio()), r.intraStudentEntropy()));
        }
        if (!rows.isEmpty()) {
            Row first = rows.get(0);
            sb.append("\naccuracy, NLL, ECE: ").append(first.accuracy().meaning("students"))
                    .append(". Inter-student variance: variance across students of the predicted probabilities (ddof 1),"
                            + " averaged over test inputs and classes; ")
                    .append(first.interStudentVariance().meaning())
                    .append(". Ratio: the variance divided by ").append(first.target())
                    .append("'s, with a paired bootstrap over the same test items.\n\n")
                    .append(finding()).append('\n');
        }
        return sb.toString();
    }

    /**
     * One sentence on what the numbers show: for each target after the first, whether its inter-student variance
     * is resolved as lower or higher than the first target's (its ratio's interval excludes 1), or not resolved.
     *
     * @return the sentence
     */
    public String finding() {
        if (rows.size() < 2) {
            return "One target only: nothing to compare.";
        }
        Row base = rows.get(0);
        List<String> parts = new ArrayList<>();
        for (Row r : rows.subList(1, rows.size())) {
            BootstrapInterval q = r.ratio();
            String ratio = String.format(Locale.ROOT, "%.2f [%.2f, %.2f]", q.estimate(), q.low(), q.high());
            if (q.high() < 1) {
                parts.add(String.format(Locale.ROOT, "%s cuts the inter-student variance to %s times %s's (%.0f%% lower)",
                        r.target(), ratio, base.target(), 100 * (1 - q.estimate())));
            } else if (q.low() > 1) {
                parts.add(String.format(Locale.ROOT, "%s raises it to %s times %s's", r.target(), ratio, base.target()));
            } else {
                parts.add(String.format(Locale.ROOT, "%s's ratio %s includes 1: the difference from %s is not resolved",
                        r.target(), ratio, base.target()));
            }
        }
        return "What this shows: " + String.join("; ", parts) + ".";
    }

    private static String ratio(BootstrapInterval q) {
        return String.format(Locale.ROOT, "%.2f [%.2f, %.2f]", q.estimate(), q.low(), q.high());
    }

    /**
     * Writes {@code results.md}, {@code results.json} and the plot {@value #PLOT} (inter-student variance by target
     * with its intervals) into a directory, each through a temporary file and an atomic rename.
     *
     * @param dir the run directory
     * @throws IOException if writing fails
     */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        if (!rows.isEmpty()) {
            int n = rows.size();
            double[] est = new double[n];
            double[] low = new double[n];
            double[] high = new double[n];
            for (int i = 0; i < n; i++) {
                BootstrapInterval v = rows.get(i).interStudentVariance();
                est[i] = v.estimate();
                low[i] = v.low();
                high[i] = v.high();
            }
            Plots.save(Plots.intervals("Inter-student variance by target (95% bootstrap CI over test items)",
                    "target, left to right as in the legend", "inter-student variance",
                    rows.stream().map(Row::target).toList(), est, low, high), dir.resolve(PLOT));
        }
        AtomicFiles.write(dir.resolve("results.md"), toMarkdown().getBytes(StandardCharsets.UTF_8));
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.write(dir.resolve("results.json"), json.writeValueAsBytes(this));
    }

    /**
     * Reads a table written by {@link #write}.
     *
     * @param file the {@code results.json}
     * @return the table
     * @throws IOException if it cannot be read
     */
    public static ResultsTable readJson(Path file) throws IOException {
        return new ObjectMapper().readValue(file.toFile(), ResultsTable.class);
    }
}

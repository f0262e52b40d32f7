package io.distill4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's results: one row per target, with metrics averaged over the students' seeds.
 *
 * @param title a one-line title
 * @param provenance what produced the table: config, seeds, versions, data fingerprint
 * @param rows one row per target
 */
public record ResultsTable(String title, Map<String, Object> provenance, List<Row> rows) {

    /** The column headers of {@link #toMarkdown()}, in order. */
    public static final List<String> COLUMNS = List.of("target", "students", "accuracy", "NLL", "ECE",
            "inter-student variance", "intra-student entropy");

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
     * @param accuracy mean and standard deviation (over students) of test accuracy
     * @param nll mean and standard deviation of test NLL
     * @param ece mean and standard deviation of test ECE (10 bins)
     * @param interStudentVariance variance across students of the predicted probabilities (ddof 1),
     *     averaged over test inputs and classes
     * @param intraStudentEntropy mean predictive entropy of a student on the test inputs, averaged over
     *     students
     */
    public record Row(String target, int students, Stat accuracy, Stat nll, Stat ece, double interStudentVariance,
            double intraStudentEntropy) {
    }

    /**
     * A mean and a standard deviation over students.
     *
     * @param mean the mean
     * @param std the sample standard deviation (ddof 1; 0 for one value)
     */
    public record Stat(double mean, double std) {

        /**
         * Summarises values.
         *
         * @param values one per student
         * @return their mean and sample standard deviation
         */
        public static Stat of(double[] values) {
            double m = 0;
            for (double v : values) {
                m += v;
            }
            m /= values.length;
            double ss = 0;
            for (double v : values) {
                ss += (v - m) * (v - m);
            }
            return new Stat(m, values.length > 1 ? Math.sqrt(ss / (values.length - 1)) : 0);
        }

        String format(String fmt) {
            return String.format(Locale.ROOT, fmt + " ± " + fmt, mean, std);
        }
    }

    /** @return the table as GitHub-flavoured Markdown, with a title line */
    public String toMarkdown() {
        StringBuilder sb = new StringBuilder("## ").append(title).append("\n\n");
        sb.append("| ").append(String.join(" | ", COLUMNS)).append(" |\n");
        sb.append("|").append("---|".repeat(COLUMNS.size())).append('\n');
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %.3e | %.4f |%n", r.target(), r.students(),
                    r.accuracy().format("%.4f"), r.nll().format("%.4f"), r.ece().format("%.4f"),
                    r.interStudentVariance(), r.intraStudentEntropy()));
        }
        return sb.toString();
    }

    /**
     * Writes {@code results.md} and {@code results.json} into a directory, each through a temporary file
     * and an atomic rename.
     *
     * @param dir the run directory
     * @throws IOException if writing fails
     */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        writeAtomically(dir.resolve("results.md"), toMarkdown().getBytes(StandardCharsets.UTF_8));
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        writeAtomically(dir.resolve("results.json"), json.writeValueAsBytes(this));
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

    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}

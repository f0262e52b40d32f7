package io.distill4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.trainer.stats.Summary;
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
     * @param accuracy test accuracy over the students: mean, std and 95% Student-t interval of the mean
     * @param nll test NLL over the students
     * @param ece test ECE (10 bins) over the students
     * @param interStudentVariance variance across students of the predicted probabilities (ddof 1),
     *     averaged over test inputs and classes
     * @param intraStudentEntropy mean predictive entropy of a student on the test inputs, averaged over
     *     students
     */
    public record Row(String target, int students, Summary accuracy, Summary nll, Summary ece, double interStudentVariance,
            double intraStudentEntropy) {
    }

    /**
     * The table as GitHub-flavoured Markdown: a title line, the rows, and a line that says what {@code ±} means.
     *
     * @return the Markdown text
     */
    public String toMarkdown() {
        StringBuilder sb = new StringBuilder("## ").append(title).append("\n\n");
        sb.append("| ").append(String.join(" | ", COLUMNS)).append(" |\n");
        sb.append("|").append("---|".repeat(COLUMNS.size())).append('\n');
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %.3e | %.4f |%n", r.target(), r.students(),
                    r.accuracy().format(4), r.nll().format(4), r.ece().format(4),
                    r.interStudentVariance(), r.intraStudentEntropy()));
        }
        if (!rows.isEmpty()) {
            sb.append("\naccuracy, NLL, ECE: ").append(rows.get(0).accuracy().meaning("students"))
                    .append(". Inter-student variance: variance across students of the predicted probabilities (ddof 1),"
                            + " averaged over test inputs and classes.\n");
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

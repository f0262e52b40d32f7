package io.distill4j.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.Errors;
import io.distill4j.trainer.Metrics;
import io.distill4j.trainer.MultiStudentRun;
import io.distill4j.trainer.stats.Bootstrap;
import io.distill4j.trainer.stats.BootstrapInterval;
import io.distill4j.trainer.stats.Summary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a {@link Distillation} run produced: every student's metrics, their aggregates with Student-t 95% intervals,
 * the inter-student variances, the run's settings and provenance. {@link #write()} puts {@code results.md},
 * {@code results.json} and the model card ({@code model-card.md}, {@code model-card.json}) in the run folder.
 *
 * @param runDir the run folder
 * @param name the run's name
 * @param info its provenance
 * @param settings what was run: data, teacher, draws, target, loss, student, training, seeds
 * @param result the students' outcome
 */
public record RunResult(Path runDir, String name, RunInfo info, Map<String, Object> settings,
        MultiStudentRun.Result result) {

    /** What a metric that needs several students says with one. */
    public static final String NEEDS_TWO = "n/a: needs at least 2 students";

    /** What the ± of every table means. */
    public static final String INTERVAL = "± is the half-width of the 95% confidence interval of the mean over students"
            + " (Student t, n - 1 degrees of freedom)";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * A metric aggregated over the students.
     *
     * @param metric its name, e.g. {@code accuracy}
     * @return the aggregate
     * @throws IllegalArgumentException naming the known metrics if it is unknown
     */
    public Summary metric(String metric) {
        Summary a = result.aggregates().get(metric);
        if (a == null) {
            throw new IllegalArgumentException("no metric '" + metric + "'; known: " + result.aggregates().keySet());
        }
        return a;
    }

    /** @return the number of students */
    public int students() {
        return result.students().size();
    }

    /**
     * The inter-student variance of the predictions on the test part (variance across students of each predicted
     * probability, averaged over items and classes).
     *
     * @return the variance, or NaN with fewer than 2 students (the tables and JSON say {@link #NEEDS_TWO})
     */
    public double interStudentVariance() {
        return result.predictionVariance();
    }

    /**
     * The inter-student variance with a percentile-bootstrap interval over the test items: how much the number
     * depends on which test inputs were drawn.
     *
     * @param seed seeds the resampling
     * @return the estimate (equal to {@link #interStudentVariance()}) and its 95% interval
     * @throws IllegalStateException with fewer than 2 students or without predictions
     */
    public BootstrapInterval interStudentVarianceInterval(long seed) {
        double[] items = itemVariances();
        return Bootstrap.percentile(items.length, idx -> Bootstrap.mean(items, idx), Bootstrap.RESAMPLES, Summary.CONFIDENCE,
                seed, "test items");
    }

    /**
     * This run's inter-student variance divided by another run's on the same test items, with a paired
     * percentile-bootstrap interval (the same resample of items for both): the interval excludes 1 when the
     * difference is resolved.
     *
     * @param base the run to compare with, on the same test items
     * @param seed seeds the resampling
     * @return the ratio and its 95% interval
     * @throws IllegalArgumentException if the runs were scored on different numbers of items
     */
    public BootstrapInterval varianceRatio(RunResult base, long seed) {
        double[] mine = itemVariances();
        double[] theirs = base.itemVariances();
        if (mine.length != theirs.length) {
            throw new IllegalArgumentException("runs " + name + " and " + base.name + " were scored on " + mine.length
                    + " and " + theirs.length + " test items");
        }
        return Bootstrap.percentile(mine.length, idx -> Bootstrap.mean(mine, idx) / Bootstrap.mean(theirs, idx), Bootstrap.RESAMPLES,
                Summary.CONFIDENCE, seed, "test items");
    }

    private double[] itemVariances() {
        if (result.predictions().size() < 2) {
            throw new IllegalStateException(name + ": an inter-student variance needs the predictions of at least 2"
                    + " students, got " + result.predictions().size());
        }
        return Metrics.itemVariances(result.predictions().toArray(new double[0][][]));
    }

    /**
     * The run as a Markdown table: one row per student, the mean ± its interval, and the inter-student variances.
     *
     * @return the table, with a line saying what ± means
     */
    public String table() {
        StringBuilder sb = new StringBuilder();
        List<String> names = new ArrayList<>(result.aggregates().keySet());
        sb.append("| seed | updates | ").append(String.join(" | ", names)).append(" |\n|---|---|");
        sb.append("---|".repeat(names.size())).append('\n');
        for (MultiStudentRun.StudentResult s : result.students()) {
            sb.append("| ").append(s.seed()).append(" | ").append(s.training().steps());
            for (String n : names) {
                sb.append(" | ").append(format(s.metrics().get(n)));
            }
            sb.append(" |\n");
        }
        sb.append("| **mean ± 95% CI** | ");
        for (String n : names) {
            Summary a = result.aggregates().get(n);
            sb.append(" | ").append(format(a.mean())).append(students() >= 2
                    ? " ± " + format(a.halfWidth()) : " (± " + NEEDS_TWO + ")");
        }
        sb.append(" |\n\n").append(students() >= 2 ? result.aggregates().values().iterator().next().meaning("students")
                : INTERVAL).append(".\n\nInter-student variance: predictions ")
                .append(variance(result.predictionVariance())).append(", parameters ")
                .append(variance(result.parameterVariance())).append(".\n");
        return sb.toString();
    }

    /** @return the run's results as a JSON-ready map */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("provenance", info.asMap());
        m.put("settings", settings);
        List<Map<String, Object>> students = new ArrayList<>();
        for (MultiStudentRun.StudentResult s : result.students()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("seed", s.seed());
            e.put("updates", s.training().steps());
            e.put("metrics", s.metrics());
            e.put("folder", "students/seed-" + s.seed());
            students.add(e);
        }
        m.put("students", students);
        Map<String, Object> agg = new LinkedHashMap<>();
        result.aggregates().forEach((k, a) -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("n", a.n());
            e.put("mean", a.mean());
            e.put("std", finite(a.std()));
            e.put("ci95Low", finite(a.low()));
            e.put("ci95High", finite(a.high()));
            if (a.n() < 2) {
                e.put("note", "std and interval " + NEEDS_TWO);
            }
            agg.put(k, e);
        });
        m.put("aggregates", agg);
        m.put("interval", INTERVAL);
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("predictions", finite(result.predictionVariance()));
        v.put("parameters", finite(result.parameterVariance()));
        if (students() < 2) {
            v.put("note", NEEDS_TWO);
        }
        m.put("interStudentVariance", v);
        return m;
    }

    /**
     * The model card in Markdown: what was distilled from what, how, and how well, with intervals.
     *
     * @return the card
     */
    @SuppressWarnings("unchecked")
    public String modelCard() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Model card: ").append(name).append("\n\n");
        Map<String, Object> data = (Map<String, Object>) settings.get("data");
        Map<String, Object> teacher = (Map<String, Object>) settings.get("teacher");
        Map<String, Object> student = (Map<String, Object>) settings.get("student");
        sb.append(String.format(Locale.ROOT, "%d students (seeds %s), each a %s, distilled from %s.%n%n", students(),
                settings.get("seeds"), student.get("description"), teacher.get("source")));
        sb.append("## Data\n\n");
        data.forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
        sb.append("\n## Teacher\n\n");
        teacher.forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
        boolean lm = settings.get("lm") instanceof Map<?, ?>;
        sb.append("\n## Distillation\n\n");
        if (lm) {
            ((Map<String, Object>) settings.get("lm")).forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v)
                    .append('\n'));
        } else {
            sb.append("- target: ").append(settings.get("target")).append("\n- loss: ").append(settings.get("loss"))
                    .append(" (labels ").append(settings.get("lossLabels")).append(")\n");
        }
        sb.append("- training: ").append(settings.get("training")).append(lm
                ? "\n\n## Results on the held-out prompts (teacher-forced NLL of the teacher's answers)\n\n"
                : "\n\n## Results on the test part\n\n").append(table());
        if (result.aggregates().containsKey("intra_variance")) {
            sb.append("\nIntra-student variance (MC dropout, mean over students): ")
                    .append(variance(result.aggregates().get("intra_variance").mean())).append(".\n");
        }
        if (result.aggregates().containsKey("ece")) {
            Summary e = result.aggregates().get("ece");
            sb.append("Calibration: ECE (10 equal-width bins) ").append(format(e.mean()))
                    .append(students() >= 2 ? " ± " + format(e.halfWidth()) : "").append(".\n");
        }
        sb.append("\n## Provenance\n\n");
        info.asMap().forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
        sb.append(lm ? "\nStudents are saved under `students/seed-N/` as Hugging Face folders (`config.json`, `model.safetensors`,"
                + " `tokenizer.json`, `metrics.json`); the inter-student variance of predictions is that of the per-answer NLL.\n"
                : "\nStudents are saved under `students/seed-N/` (`student.yaml`, `parameters.params`, `metrics.json`).\n");
        return sb.toString();
    }

    /** Writes the results and the model card into the run folder, each file atomically. */
    public void write() {
        try {
            String results = "## " + name + "\n\n" + table();
            AtomicFiles.write(runDir.resolve("results.md"), results.getBytes(StandardCharsets.UTF_8));
            AtomicFiles.write(runDir.resolve("results.json"), JSON.writeValueAsBytes(asMap()));
            AtomicFiles.write(runDir.resolve("model-card.md"), modelCard().getBytes(StandardCharsets.UTF_8));
            AtomicFiles.write(runDir.resolve("model-card.json"), JSON.writeValueAsBytes(asMap()));
        } catch (IOException e) {
            throw new UncheckedIOException(runDir + ": cannot write the results: " + Errors.reason(e), e);
        }
    }

    private static Object finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static String format(Double v) {
        return v == null || v.isNaN() ? "n/a" : io.distill4j.data.Numbers.fixed(v, 4);
    }

    private static String variance(double v) {
        return Double.isNaN(v) ? NEEDS_TWO : io.distill4j.data.Numbers.sci(v);
    }
}

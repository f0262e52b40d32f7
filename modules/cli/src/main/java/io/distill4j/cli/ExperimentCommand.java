package io.distill4j.cli;

import io.distill4j.experiments.ExperimentFile;
import io.distill4j.experiments.Experiment;
import io.distill4j.experiments.LinearRegressionExperiment;
import io.distill4j.experiments.Report;
import io.distill4j.data.BadInputException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code distill4j experiment NAME}: runs a paper reproduction from {@code experiments/NAME.yaml}. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Run a paper reproduction from experiments/NAME.yaml and write its report (Markdown, JSON, PNG).")
public final class ExperimentCommand implements Callable<Integer> {

    /** The experiments by name. */
    static final Map<String, Function<Path, Experiment>> EXPERIMENTS = new LinkedHashMap<>();

    static {
        EXPERIMENTS.put("linear-regression", LinearRegressionExperiment::new);
        EXPERIMENTS.put("ffn", io.distill4j.experiments.FfnExperiment::new);
        EXPERIMENTS.put("bayesian-teacher", io.distill4j.experiments.BayesianTeacherExperiment::new);
        EXPERIMENTS.put("calibrated-teacher", io.distill4j.experiments.CalibratedTeacherExperiment::new);
        EXPERIMENTS.put("llm", io.distill4j.experiments.LlmExperiment::new);
        EXPERIMENTS.put("on-policy", h -> new io.distill4j.experiments.OnPolicyExperiment());
    }

    @Parameters(index = "0", paramLabel = "NAME", description = "the experiment: ${COMPLETION-CANDIDATES}",
            completionCandidates = Names.class)
    String name;

    @Option(names = "--quick", description = "the small variant (minutes) that also checks the paper's qualitative claims")
    boolean quick;

    @Option(names = "--config", description = "config file (default: experiments/NAME.yaml under the distill4j home)")
    Path config;

    @Option(names = "--out", description = "report folder (default: runs/experiments/NAME[-quick]/<timestamp>)")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path home = Path.of(System.getProperty("distill4j.home", "."));
        Function<Path, Experiment> factory = EXPERIMENTS.get(name);
        if (factory == null) {
            throw new BadInputException("unknown experiment '" + name + "'; known are " + EXPERIMENTS.keySet());
        }
        Path file = config != null ? config : home.resolve("experiments").resolve(name + ".yaml");
        ExperimentFile loaded = ExperimentFile.load(file, quick);
        if (!loaded.experiment().equals(name)) {
            throw loaded.config().error("/experiment", "'" + loaded.experiment() + "', expected '" + name + "'");
        }
        Path dir = out != null ? out : home.resolve("runs/experiments").resolve(name + (quick ? "-quick" : ""))
                .resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Report report = factory.apply(home).run(loaded.config(), quick, dir);
        System.out.println(report.markdown());
        System.out.println("Wrote " + dir.resolve("report.md"));
        if (!report.failures().isEmpty()) {
            System.err.println("distill4j: " + report.failures().size() + " of the paper's claims did not hold: "
                    + String.join("; ", report.failures()));
            return 1;
        }
        return 0;
    }

    /** Completion candidates: the registered experiment names. */
    static final class Names implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return EXPERIMENTS.keySet().iterator();
        }
    }
}

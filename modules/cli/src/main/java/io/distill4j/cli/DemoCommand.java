package io.distill4j.cli;

import ai.djl.Device;
import io.distill4j.pipeline.Draws;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code distill4j demo}: the main job on the shipped digits data (see {@link Demo}). */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train an MC-dropout teacher on digits with noisy labels, cache k samples per input for each "
                + "student, train students on one sample, the mean of k and inverse-variance fusion, and print their "
                + "metrics and inter-student variances with intervals.")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--data", description = "folder of scikit-learn's CSVs (default: ${DEFAULT-VALUE})",
            defaultValue = "${sys:distill4j.home:-.}/datasets/sklearn")
    Path data;

    @Option(names = "--runs", description = "folder that receives runs/<timestamp>/ (default: ${DEFAULT-VALUE})",
            defaultValue = "${sys:distill4j.home:-.}/runs")
    Path runs;

    @Option(names = "-k", description = "teacher samples per input (default: ${DEFAULT-VALUE})", defaultValue = "8")
    int k;

    @Option(names = "--students", description = "students (seeds) per target (default: ${DEFAULT-VALUE})", defaultValue = "5")
    int students;

    @Option(names = "--teacher-epochs", description = "teacher epochs (default: ${DEFAULT-VALUE})", defaultValue = "30")
    int teacherEpochs;

    @Option(names = "--student-epochs", description = "student epochs (default: ${DEFAULT-VALUE})", defaultValue = "30")
    int studentEpochs;

    @Option(names = "--targets", split = ",", description = "target builders (default: ${DEFAULT-VALUE})",
            defaultValue = "single,mean,inverse-variance")
    List<String> targets;

    @Option(names = "--seed", description = "base seed (default: ${DEFAULT-VALUE})", defaultValue = "0")
    long seed;

    @Option(names = "--label-noise", description = "fraction of training labels flipped to another class, in [0, 1)"
            + " (default: ${DEFAULT-VALUE})", defaultValue = "0.2")
    double labelNoise;

    @Option(names = "--teacher-dropout", description = "the teacher's dropout rate (default: ${DEFAULT-VALUE})",
            defaultValue = "0.5")
    double teacherDropout;

    @Option(names = "--draws", description = "per-student (each student distils its own k draws, the paper's design)"
            + " or shared (all students distil the same k) (default: ${DEFAULT-VALUE})", defaultValue = "per-student")
    String draws;

    @Option(names = "--device", description = "cpu or gpu(i) (default: ${DEFAULT-VALUE})", defaultValue = "cpu")
    String device;

    @Override
    public Integer call() throws Exception {
        DemoConfig config;
        try {
            Draws d = switch (draws) {
                case "per-student" -> Draws.PER_STUDENT;
                case "shared" -> Draws.SHARED;
                default -> throw new IllegalArgumentException("--draws must be per-student or shared, got '" + draws + "'");
            };
            config = new DemoConfig(data, runs, k, students, teacherEpochs, studentEpochs, targets, seed, labelNoise,
                    teacherDropout, d);
            for (String t : targets) {
                io.distill4j.loss.Registry.target(t, java.util.Map.of());
            }
        } catch (IllegalArgumentException e) {
            throw new io.distill4j.data.BadInputException(e.getMessage(), e);
        }
        Demo.Result result = new Demo(config, Devices.parse(device)).run();
        System.out.println();
        System.out.println(result.table().toMarkdown());
        System.out.println("Wrote " + result.runDir().resolve("results.md") + ", results.json and "
                + ResultsTable.PLOT);
        return 0;
    }
}

package io.distill4j.cli;

import ai.djl.Device;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code distill4j demo}: the main job on the shipped digits data (see {@link Demo}). */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train an MC-dropout teacher on digits, cache k samples per input, train students on one "
                + "sample, the mean of k and inverse-variance fusion, and print their metrics.")
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

    @Option(names = "--teacher-epochs", description = "teacher epochs (default: ${DEFAULT-VALUE})", defaultValue = "40")
    int teacherEpochs;

    @Option(names = "--student-epochs", description = "student epochs (default: ${DEFAULT-VALUE})", defaultValue = "30")
    int studentEpochs;

    @Option(names = "--targets", split = ",", description = "target builders (default: ${DEFAULT-VALUE})",
            defaultValue = "single,mean,inverse-variance")
    List<String> targets;

    @Option(names = "--seed", description = "base seed (default: ${DEFAULT-VALUE})", defaultValue = "0")
    long seed;

    @Option(names = "--device", description = "cpu or gpu(i) (default: ${DEFAULT-VALUE})", defaultValue = "cpu")
    String device;

    @Override
    public Integer call() throws Exception {
        DemoConfig config;
        try {
            config = new DemoConfig(data, runs, k, students, teacherEpochs, studentEpochs, targets, seed);
            for (String t : targets) {
                io.distill4j.loss.Registry.target(t, java.util.Map.of());
            }
        } catch (IllegalArgumentException e) {
            throw new io.distill4j.data.BadInputException(e.getMessage(), e);
        }
        Demo.Result result = new Demo(config, Devices.parse(device)).run();
        System.out.println();
        System.out.println(result.table().toMarkdown());
        System.out.println("Wrote " + result.runDir().resolve("results.md") + " and results.json");
        return 0;
    }
}

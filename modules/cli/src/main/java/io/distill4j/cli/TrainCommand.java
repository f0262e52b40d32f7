package io.distill4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code distill4j train CONFIG.yaml}: M students from M seeds on a teacher cache (see {@link TrainJob}). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train M students from M seeds on a teacher cache; results per seed and aggregated.")
public final class TrainCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "CONFIG", description = "the train config (sample job, student, target, loss, training)")
    Path config;

    @Override
    public Integer call() throws Exception {
        TrainJob.Outcome o = TrainJob.run(config, Path.of(System.getProperty("distill4j.home", ".")));
        System.out.println(o.markdown());
        System.out.println("Wrote " + o.runDir().resolve("results.md") + " and results.json");
        return 0;
    }
}

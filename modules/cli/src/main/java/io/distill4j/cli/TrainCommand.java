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
        io.distill4j.pipeline.RunResult r = TrainJob.run(config);
        System.out.println(r.table());
        System.out.println("Wrote " + r.runDir() + ": results.md, results.json, model-card.md, model-card.json and the"
                + " students (students/seed-N)");
        return 0;
    }
}

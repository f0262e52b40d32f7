package io.distill4j.experiments;

import io.distill4j.data.config.ConfigFile;
import java.io.IOException;
import java.nio.file.Path;

/** One reproducible experiment, configured from YAML. */
public interface Experiment {

    /** @return the experiment's name, as used on the command line and in {@code experiments/NAME.yaml} */
    String name();

    /**
     * Runs the experiment.
     *
     * @param config the experiment's settings as read by {@link ExperimentFile#load} (quick overrides already applied);
     *     bind them with {@link ExperimentFile#bind}
     * @param quick whether this is the {@code --quick} variant, which also checks the paper's qualitative
     *     claim and fails the run when it does not hold
     * @param outDir the folder that receives the report
     * @return the report, already written to {@code outDir}
     * @throws IOException if the report cannot be written
     */
    Report run(ConfigFile config, boolean quick, Path outDir) throws IOException;
}

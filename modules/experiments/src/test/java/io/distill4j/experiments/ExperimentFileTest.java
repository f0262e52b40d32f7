package io.distill4j.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every shipped experiment file binds strictly to its settings record, in both variants. */
class ExperimentFileTest {
    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));

    @Test
    void everyShippedExperimentFileBindsInBothVariants() {
        Map<String, Class<?>> configs = Map.of("linear-regression", LinearRegressionExperiment.Config.class,
                "ffn", FfnExperiment.Config.class, "bayesian-teacher", BayesianTeacherExperiment.Config.class,
                "calibrated-teacher", CalibratedTeacherExperiment.Config.class, "llm", LlmExperiment.Config.class);
        for (Map.Entry<String, Class<?>> e : configs.entrySet()) {
            for (boolean quick : new boolean[] {false, true}) {
                ExperimentFile f = ExperimentFile.load(HOME.resolve("experiments/" + e.getKey() + ".yaml"), quick);
                assertEquals(e.getKey(), f.experiment());
                assertNotNull(ExperimentFile.bind(f.config(), e.getValue()), e.getKey());
            }
        }
    }
}

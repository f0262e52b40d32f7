package io.distill4j.examples;

import io.distill4j.data.Datasets;
import io.distill4j.models.Mlp;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.Teachers;
import io.distill4j.trainer.TrainingSpec;
import java.nio.file.Path;

/**
 * The Java quick start of README.md: digits, an MC-dropout teacher sampled k = 8 times per input for each student,
 * 3 students on the inverse-variance target, their metrics printed. {@code QuickStartTest} runs it.
 */
public final class QuickStart {

    private QuickStart() {
    }

    /**
     * Runs the quick start.
     *
     * @param args the run folder (default {@code runs/quick-start})
     */
    public static void main(String[] args) {
        var digits = Datasets.sklearn("digits").scale(1 / 16f).split(0.2, 0);
        RunResult result = Distillation.builder()
                .data(digits)
                .teacher(Teachers.mcDropout(Mlp.builder().setHidden(128).optDropout(0.3f)).samples(8))
                .target("inverse-variance").loss("soft-ce")
                .student(Mlp.builder().setHidden(64).optDropout(0.2f)).students(3)
                .training(TrainingSpec.builder().setEpochs(30).build())
                .build()
                .fit(Path.of(args.length > 0 ? args[0] : "runs/quick-start"));
        System.out.println(result.table());
    }
}

package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.data.BadInputException;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.trainer.stats.Summary;
import io.distill4j.trainer.MultiStudentRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainJobTest {
    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));

    static Path sampleConfig(Path dir, double testFraction) throws IOException {
        Path f = dir.resolve("sample.yaml");
        Files.writeString(f, "cache: " + dir.resolve("cache") + "\nk: 4\nseed: 0\nbatchSize: 256\n"
                + "data:\n  dataset: iris\n  dir: " + HOME.resolve("datasets/sklearn") + "\n  standardize: true\n"
                + "  testFraction: " + testFraction + "\n  splitSeed: 0\n  sample: train\n"
                + "teacher:\n  type: mc-dropout\n  model: {hidden: [16], dropout: 0.2}\n"
                + "  train: {epochs: 30, batchSize: 16, learningRate: 0.01, weightDecay: 0.0, seed: 0}\n");
        return f;
    }

    static Path trainConfig(Path dir, Path sample, String target) throws IOException {
        Path student = dir.resolve("student.yaml");
        Files.writeString(student, "model_type: mlp\ninputs: 4\nhidden: [8]\noutputs: 3\ndropout: 0.2\n");
        Path f = dir.resolve("train.yaml");
        Files.writeString(f, "sample: " + sample + "\nstudent: " + student + "\ntarget: " + target + "\nloss: soft-ce\n"
                + "out: " + dir.resolve("runs") + "\ntraining:\n  students: 3\n  seed: 1\n  epochs: 25\n  batchSize: 16\n"
                + "  learningRate: 0.01\n");
        return f;
    }

    @Test
    void studentsLearnFromTheCacheWithPerSeedAndAggregatedResults(@TempDir Path dir) throws IOException {
        Path sample = sampleConfig(dir, 0.2);
        SampleJob.run(SampleSpec.load(sample), Device.cpu(), (done, total) -> { }, line -> { });
        TrainJob.Outcome o = TrainJob.run(trainConfig(dir, sample, "inverse-variance"), HOME);
        MultiStudentRun.Result r = o.result();
        assertEquals(3, r.students().size());
        assertEquals(java.util.List.of(1L, 2L, 3L), r.students().stream().map(MultiStudentRun.StudentResult::seed).toList());
        Summary acc = r.aggregates().get("accuracy");
        double mean = r.students().stream().mapToDouble(s -> s.metrics().get("accuracy")).average().orElseThrow();
        assertEquals(mean, acc.mean(), 1e-12);
        assertTrue(acc.mean() > 0.7, "iris students should beat chance (1/3) by far: " + acc.mean());
        assertTrue(r.predictionVariance() > 0 && r.parameterVariance() > 0);
        String md = Files.readString(o.runDir().resolve("results.md"));
        assertTrue(md.contains("| **mean ± std** |"));
        assertTrue(md.contains("95% CI: the Student-t interval of the mean (mean ± half-width of the 95% Student-t interval"
                + " of the mean over 3 students, t(2) = 4.303)"), md);
        assertTrue(Files.size(o.runDir().resolve("results.json")) > 0);

        // A target that needs the labels gets them: wrong-mass clipping around the mean.
        TrainJob.Outcome clipped = TrainJob.run(trainConfig(dir, sample, "wrong-mass-clip"), HOME);
        assertTrue(clipped.result().aggregates().get("accuracy").mean() > 0.7);
    }

    @Test
    void aCacheOfOtherRowsIsRefusedByFingerprint(@TempDir Path dir) throws IOException {
        Path sample = sampleConfig(dir, 0.2);
        SampleJob.run(SampleSpec.load(sample), Device.cpu(), (done, total) -> { }, line -> { });
        // Same cache, other split: 0.3 keeps 105 rows, the cache holds 120.
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Path moved = sampleConfig(other, 0.3);
        Files.writeString(moved, Files.readString(moved).replace(other.resolve("cache").toString(), dir.resolve("cache").toString()));
        BadInputException e = assertThrows(BadInputException.class, () -> TrainJob.run(trainConfig(other, moved, "mean"), HOME));
        assertTrue(e.getMessage().contains("holds 120 items but the train part has 105 rows"), e.getMessage());
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "sample: x.yaml\nstudnet: y\n");
        BadInputException k = assertThrows(BadInputException.class, () -> TrainJob.run(bad, HOME));
        assertTrue(k.getMessage().contains("unknown key 'studnet'"), k.getMessage());
    }
}

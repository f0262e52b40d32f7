package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import io.distill4j.data.BadInputException;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.Standardizer;
import io.distill4j.data.TabularData;
import io.distill4j.loss.Registry;
import io.distill4j.models.Inference;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.pipeline.SavedStudent;
import io.distill4j.trainer.Metrics;
import io.distill4j.trainer.MultiStudentRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code distill4j train}: a train config through the pipeline, every registry loss, saved students, bad configs. */
class TrainJobTest {
    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));

    @TempDir
    static Path shared;
    static Path iris;
    static Path diabetes;

    /** One cache per task, sampled once for every test of this class. */
    @BeforeAll
    static void sample() throws IOException {
        iris = sampleConfig(shared.resolve("iris"), "iris", 0.2, "mc-dropout", "  model: {hidden: [16], dropout: 0.2}\n");
        diabetes = sampleConfig(shared.resolve("diabetes"), "diabetes", 0.2, "output-noise",
                "  model: {hidden: [16]}\n  noise: {a: 0.1}\n");
        SampleJob.run(SampleSpec.load(iris), Device.cpu(), (done, total) -> { }, line -> { });
        SampleJob.run(SampleSpec.load(diabetes), Device.cpu(), (done, total) -> { }, line -> { });
    }

    static Path sampleConfig(Path dir, String dataset, double testFraction, String type, String model) throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve("sample.yaml");
        Files.writeString(f, "cache: cache\nk: 6\nseed: 0\nbatchSize: 256\n"
                + "data:\n  dataset: " + dataset + "\n  dir: " + HOME.toAbsolutePath().resolve("datasets/sklearn")
                + "\n  standardize: true\n  testFraction: " + testFraction + "\n  splitSeed: 0\n  sample: train\n"
                + "teacher:\n  type: " + type + "\n" + model
                + "  train: {epochs: 30, batchSize: 16, learningRate: 0.01, weightDecay: 0.0, seed: 0}\n");
        return f;
    }

    static Path trainConfig(Path dir, Path sample, String target, String loss, String extra) throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve("train.yaml");
        Files.writeString(f, "sample: " + sample + "\nstudent: {model_type: mlp, hidden: [8], dropout: 0.2}\ntarget: "
                + target + "\nloss: " + loss + "\nout: runs\nstudents: 3\n" + extra
                + "training:\n  epochs: 15\n  batchSize: 16\n  learningRate: 0.01\n");
        return f;
    }

    @Test
    void studentsLearnTheirOwnDrawsAndAreSavedWithAModelCard(@TempDir Path dir) throws IOException {
        RunResult r = TrainJob.run(trainConfig(dir, iris, "inverse-variance", "soft-ce", ""));
        assertEquals(List.of(1L, 2L, 3L), r.result().students().stream().map(MultiStudentRun.StudentResult::seed).toList());
        double mean = r.result().students().stream().mapToDouble(s -> s.metrics().get("accuracy")).average().orElseThrow();
        assertEquals(mean, r.metric("accuracy").mean(), 1e-12);
        assertTrue(mean > 0.7, "iris students should beat chance (1/3) by far: " + mean);
        assertTrue(r.interStudentVariance() > 0 && r.result().parameterVariance() > 0);
        assertTrue(r.runDir().startsWith(dir.resolve("runs")), "out is relative to the train file: " + r.runDir());
        String md = Files.readString(r.runDir().resolve("results.md"));
        assertTrue(md.contains("| **mean ± 95% CI** |") && md.contains("95% Student-t interval of the mean over"), md);
        String card = Files.readString(r.runDir().resolve("model-card.md"));
        assertTrue(card.contains("samplesPerStudent: 2") && card.contains("draws: per-student"), card);
        assertTrue(card.contains("target: inverse-variance") && card.contains("gitCommit"), card);

        // Every student is saved and reloads to the same predictions and metrics.
        TabularData test = Standardizer.standardise(SklearnCsv.load("iris", HOME.resolve("datasets/sklearn"))
                .split(0.2, 0)).test();
        for (MultiStudentRun.StudentResult s : r.result().students()) {
            Path folder = r.runDir().resolve("students/seed-" + s.seed());
            try (Model m = SavedStudent.load(folder, Device.cpu())) {
                double[][] p = Metrics.toDouble(Inference.probabilities(m, test.features(), false));
                assertEquals(s.metrics().get("accuracy"), Metrics.accuracy(p, test.labels()), 0);
                assertEquals(s.metrics().get("nll"), Metrics.nll(p, test.labels()), 1e-12);
            }
        }
    }

    @Test
    void stackedStudentsTrainAtOnceAndAreSavedAsTheirOwnMlps(@TempDir Path dir) throws IOException {
        RunResult r = TrainJob.run(trainConfig(dir, iris, "inverse-variance", "soft-ce", "stacked: true\n"));
        assertEquals(Boolean.TRUE, r.settings().get("stacked"));
        assertEquals(3, r.students());
        TabularData test = Standardizer.standardise(SklearnCsv.load("iris", HOME.resolve("datasets/sklearn"))
                .split(0.2, 0)).test();
        for (MultiStudentRun.StudentResult s : r.result().students()) {
            try (Model m = SavedStudent.load(r.runDir().resolve("students/seed-" + s.seed()), Device.cpu())) {
                double[][] p = Metrics.toDouble(Inference.probabilities(m, test.features(), false));
                assertEquals(s.metrics().get("accuracy"), Metrics.accuracy(p, test.labels()), 0);
            }
        }
        assertTrue(r.metric("accuracy").mean() > 0.7, "iris students should beat chance: " + r.metric("accuracy").mean());
        BadInputException e = assertThrows(BadInputException.class, () -> TrainJob.prepare(trainConfig(dir.resolve("b"),
                iris, "mean", "soft-ce", "stacked: yes please\n")));
        assertTrue(e.getMessage().contains("stacked"), e.getMessage());
    }

    /**
     * Issue 21 item 3: a cache of an image dataset (the data module's IDX fixture: 3 training images, 2 t10k test
     * images) trains through {@code train}, and every student is evaluated on exactly the t10k images.
     */
    @Test
    void anImageDatasetCacheTrainsAndIsEvaluatedOnItsOwnTestImages(@TempDir Path dir) throws IOException {
        Path fixture = HOME.toAbsolutePath().resolve("modules/data/src/test/resources/idx");
        Path sample = dir.resolve("sample.yaml");
        Files.writeString(sample, "cache: cache\nk: 4\nseed: 0\nbatchSize: 2\ndata: {dataset: mnist, dir: " + fixture
                + "}\nteacher:\n  type: mc-dropout\n  model: {hidden: [8], dropout: 0.2}\n"
                + "  train: {epochs: 5, batchSize: 2, learningRate: 0.01, seed: 0}\n");
        SampleJob.run(SampleSpec.load(sample), Device.cpu(), (done, total) -> { }, line -> { });
        RunResult r = TrainJob.run(trainConfig(dir.resolve("train"), sample, "mean", "soft-ce", ""));
        assertEquals(3, r.students());
        TabularData test = io.distill4j.data.datasets.Mnist.load(fixture, io.distill4j.data.datasets.Mnist.Split.TEST, "t");
        for (MultiStudentRun.StudentResult s : r.result().students()) {
            try (Model m = SavedStudent.load(r.runDir().resolve("students/seed-" + s.seed()), Device.cpu())) {
                double[][] p = Metrics.toDouble(Inference.probabilities(m, test.features(), false));
                assertEquals(s.metrics().get("accuracy"), Metrics.accuracy(p, test.labels()), 0);
                assertEquals(s.metrics().get("nll"), Metrics.nll(p, test.labels()), 1e-12);
            }
        }
    }

    /** Every registry loss, on the cache and target where it makes sense, else refused before training. */
    static Stream<String[]> losses() {
        List<String[]> out = new ArrayList<>();
        for (String loss : Registry.lossNames()) {
            if (loss.startsWith("test-")) {
                continue; // registered by TestExtension when another test ran first; ExtensionTest trains it
            }
            boolean regression = loss.equals("mse") || loss.equals("gaussian-nll");
            out.add(new String[] {loss, regression ? "diabetes" : "iris"});
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("losses")
    void everyRegistryLossTrainsThroughTrain(String loss, String task, @TempDir Path dir) throws IOException {
        Path sample = task.equals("iris") ? iris : diabetes;
        String extra = loss.equals("sparse-topk-kl") ? "topK: 2\n" : "";
        String options = loss.equals("weighted") ? "lossOptions: {base: hinton-kd}\n" : "";
        RunResult r = TrainJob.run(trainConfig(dir, sample, "mean", loss, extra + options));
        assertEquals(3, r.students());
        if (task.equals("iris")) {
            double acc = r.metric("accuracy").mean();
            assertTrue(acc > 0.5, loss + ": accuracy " + acc + " should beat chance (1/3)");
        } else {
            double mse = r.metric("mse").mean();
            assertTrue(mse < 1.0, loss + ": standardised MSE " + mse + " should beat predicting the mean (1.0)");
        }
        r.result().students().forEach(s -> s.metrics().values().forEach(v -> assertFalse(v.isNaN(), loss + ": NaN metric")));
    }

    @Test
    void pairsThatMakeNoSenseAreRefusedBeforeTrainingNamingBoth(@TempDir Path dir) throws IOException {
        String e = assertThrows(BadInputException.class,
                () -> TrainJob.prepare(trainConfig(dir, iris, "mean", "mse", ""))).getMessage();
        assertTrue(e.contains("loss 'mse' with target 'mean': the loss needs regression targets, and this cache holds"
                + " probabilities"), e);
        e = assertThrows(BadInputException.class,
                () -> TrainJob.prepare(trainConfig(dir, iris, "mean", "kl", "lossOptions: {teacher: logits}\n"))).getMessage();
        assertTrue(e.contains("the loss needs teacher logits, and this cache holds probabilities"), e);
        e = assertThrows(BadInputException.class,
                () -> TrainJob.prepare(trainConfig(dir, diabetes, "wrong-mass-clip", "mse", ""))).getMessage();
        assertTrue(e.contains("target 'wrong-mass-clip' needs class labels, and this dataset is a regression"), e);
        assertFalse(Files.exists(dir.resolve("runs")), "nothing was run");
    }

    @Test
    void olsStudentsFitInClosedFormFromYamlWithTheEstimateItNames(@TempDir Path dir) throws IOException {
        // k = 6 draws divided among 3 students: 2 each; the practical inverse-variance target fused with the pilot fit
        Path f = trainConfig(dir, diabetes, "inverse-variance", "mse", "targetOptions: {renormalise: false}\n"
                + "studentEstimate: pilot\n");
        Files.writeString(f, Files.readString(f).replace("{model_type: mlp, hidden: [8], dropout: 0.2}", "{model_type: ols}"));
        RunResult r = TrainJob.run(f);
        assertEquals(3, r.result().students().size());
        for (MultiStudentRun.StudentResult s : r.result().students()) {
            assertEquals(0, s.training().steps(), "closed form: no gradient steps");
        }
        assertEquals("pilot", r.settings().get("studentEstimate"));
        assertTrue(r.metric("mse").mean() < 1, "diabetes is standardised: an OLS student beats predicting 0");
        Files.writeString(f, Files.readString(f).replace("studentEstimate: pilot", "studentEstimate: oracle"));
        String e = assertThrows(BadInputException.class, () -> TrainJob.prepare(f)).getMessage();
        assertEquals(f + ":8:1: field studentEstimate: unknown student estimate 'oracle': known are mc-dropout, pilot, ema",
                e);
        Files.writeString(f, Files.readString(f).replace("studentEstimate: oracle", "studentEstimate: mc-dropout"));
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(f)).getMessage();
        assertTrue(e.endsWith("a student fitted in closed form has no dropout passes (use studentEstimate pilot, or"
                + " given)"), e);
    }

    @Test
    void badConfigsNameFileLineKeyAndValue(@TempDir Path dir) throws IOException {
        Path f = trainConfig(dir, iris, "mean", "soft-ce", "studentPasses: many\n");
        String e = assertThrows(BadInputException.class, () -> TrainJob.prepare(f)).getMessage();
        assertEquals(f + ":7:1: field studentPasses: expected an integer, got 'many'", e);
        Files.writeString(f, Files.readString(f).replace("studentPasses: many\n", "targetOptions: fast\n"));
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(f)).getMessage();
        assertTrue(e.startsWith(f + ":7:1: field targetOptions: expected a mapping of keys, got 'fast'"), e);
        String text = Files.readString(f).replace("targetOptions: fast\n", "");
        Files.writeString(f, text.substring(0, text.indexOf("training:")) + "training: lots\n");
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(f)).getMessage();
        assertTrue(e.startsWith(f + ":7:1: field training: expected a mapping of keys"), e);
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "sample: x.yaml\nstudnet: y\n");
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(bad)).getMessage();
        assertTrue(e.startsWith(bad + ":2:1: field studnet: unknown key 'studnet'; known keys:"), e);
        Path missing = dir.resolve("missing.yaml");
        Files.writeString(missing, "sample: nowhere.yaml\nstudent: {model_type: mlp}\n");
        e = assertThrows(BadInputException.class, () -> TrainJob.prepare(missing)).getMessage();
        assertEquals(dir.resolve("nowhere.yaml") + ": config file not found", e);
    }

    @Test
    void aCacheOfOtherRowsIsRefusedByFingerprint(@TempDir Path dir) throws IOException {
        // Same cache, other split: 0.3 keeps 105 rows, the cache holds 120.
        Path other = sampleConfig(dir, "iris", 0.3, "mc-dropout", "  model: {hidden: [16], dropout: 0.2}\n");
        Files.writeString(other, Files.readString(other).replace("cache: cache",
                "cache: " + iris.getParent().resolve("cache")));
        BadInputException e = assertThrows(BadInputException.class,
                () -> TrainJob.run(trainConfig(dir, other, "mean", "soft-ce", "")));
        assertTrue(e.getMessage().contains("field datasetFingerprint"), e.getMessage());
    }
}

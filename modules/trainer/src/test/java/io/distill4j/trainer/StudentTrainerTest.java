package io.distill4j.trainer;



import io.distill4j.models.Inference;
import io.distill4j.models.Mlp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDList;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.TabularData;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StudentTrainerTest {

    static TabularData.Split digits() {
        Path dir = Path.of(System.getProperty("distill4j.root", "../..")).resolve("datasets/sklearn");
        return SklearnCsv.load("digits", dir).scale(1f / 16).split(0.2, 0);
    }

    static BatchTargets oneHot(int[] labels) {
        return EngineFixtures.oneHot(labels, 10);
    }

    @Test
    void mlpOnDigitsBeatsChanceByAWideMarginAndIsReproducible() {
        TabularData.Split s = digits();
        TrainingSpec cfg = TrainingSpec.builder().setDevice(Device.cpu()).setSeed(3).setEpochs(8).setBatchSize(64).setLearningRate(1e-3f)
                .optWeightDecay(0f).optLogEvery(0).build();
        float[][] p1;
        float[][] p2;
        try (Model m = StudentTrainer.train("t", Mlp.builder().setInputs(64).setHidden(64).setOutputs(10).build(),
                s.train().features(), oneHot(s.train().labels()), new SoftTargetCrossEntropyLoss(), cfg)) {
            p1 = Inference.probabilities(m, s.test().features(), false);
        }
        try (Model m = StudentTrainer.train("t", Mlp.builder().setInputs(64).setHidden(64).setOutputs(10).build(),
                s.train().features(), oneHot(s.train().labels()), new SoftTargetCrossEntropyLoss(), cfg)) {
            p2 = Inference.probabilities(m, s.test().features(), false);
        }
        double acc = Metrics.accuracy(Metrics.toDouble(p1), s.test().labels());
        assertTrue(acc > 0.85, "accuracy " + acc + " should be far above chance (0.1)");
        assertArrayEquals(p1[0], p2[0], 1e-6f, "same seed, same result");
        for (float[] row : p1) {
            float sum = 0;
            for (float v : row) {
                sum += v;
            }
            assertEquals(1f, sum, 1e-5f);
        }
    }

    @Test
    void mcDropoutPassesDifferAndInferenceIsDeterministic() {
        TabularData.Split s = digits();
        TrainingSpec cfg = TrainingSpec.builder().setDevice(Device.cpu()).setSeed(1).setEpochs(1).setBatchSize(64).setLearningRate(1e-3f)
                .optWeightDecay(0f).optLogEvery(0).build();
        try (Model m = StudentTrainer.train("t", Mlp.builder().setInputs(64).setHidden(32).setOutputs(10).optDropout(0.5f).build(),
                s.train().features(), oneHot(s.train().labels()), new SoftTargetCrossEntropyLoss(), cfg)) {
            float[][] a = Inference.probabilities(m, s.test().features(), true);
            float[][] b = Inference.probabilities(m, s.test().features(), true);
            float[][] c = Inference.probabilities(m, s.test().features(), false);
            float[][] d = Inference.probabilities(m, s.test().features(), false);
            assertArrayEquals(c[0], d[0]);
            assertTrue(Math.abs(a[0][0] - b[0][0]) + Math.abs(a[1][1] - b[1][1]) > 0, "dropout passes should differ");
        }
    }

    @Test
    void nanTargetsAreRefusedBeforeTrainingStarts() {
        TabularData.Split s = digits();
        TrainingSpec cfg = TrainingSpec.builder().setDevice(Device.cpu()).setSeed(1).setEpochs(1).setBatchSize(64).setLearningRate(1e-3f)
                .optWeightDecay(0f).optLogEvery(0).build();
        BatchTargets nan = (m, rows, x, probe) -> new NDList(m.full(new ai.djl.ndarray.types.Shape(rows.length, 10), Float.NaN));
        io.distill4j.data.BadInputException e = assertThrows(io.distill4j.data.BadInputException.class,
                () -> StudentTrainer.train("nan", Mlp.builder().setInputs(64).setHidden(8).setOutputs(10).build(),
                        s.train().features(), nan, new SoftTargetCrossEntropyLoss(), cfg));
        assertTrue(e.getMessage().contains("holds NaN at index [0, 0]"), e.getMessage());
    }

    @Test
    void configsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingSpec.builder().setDevice(Device.cpu()).setSeed(1).setEpochs(0).setBatchSize(64).setLearningRate(1e-3f)
                .optWeightDecay(0f).optLogEvery(0).build());
        assertTrue(e.getMessage().contains("epochs must be positive, got 0"));
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                () -> Mlp.builder().setInputs(4).setOutputs(2).optDropout(1f).build());
        assertTrue(d.getMessage().contains("dropout must be in [0, 1), got 1.0"));
    }
}

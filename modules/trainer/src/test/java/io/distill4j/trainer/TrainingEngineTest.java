package io.distill4j.trainer;


import io.distill4j.models.Inference;
import static io.distill4j.trainer.EngineFixtures.features;
import static io.distill4j.trainer.EngineFixtures.flat;
import static io.distill4j.trainer.EngineFixtures.labels;
import static io.distill4j.trainer.EngineFixtures.mlp;
import static io.distill4j.trainer.EngineFixtures.oneHot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.distill4j.data.BadInputException;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingEngineTest {
    static final float[][] X = features(64, 5);
    static final int[] Y = labels(X);

    static TabularBatchSource source(int batch) {
        return new TabularBatchSource(X, oneHot(Y, 2), batch, ai.djl.Device.cpu());
    }

    static TrainingSpec.Builder base() {
        return TrainingSpec.builder().setSeed(7).setLearningRate(0.01f).optLogEvery(0);
    }

    @Test
    void accumulatingTwoHalfBatchesEqualsOneFullBatch() {
        float[] accumulated;
        float[] full;
        try (Model m = mlp("acc", 16, 0f); TabularBatchSource s = source(4)) {
            FitResult r = TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(),
                    base().optAccumulationSteps(2).build());
            assertEquals(8, r.steps());
            accumulated = flat(m);
        }
        try (Model m = mlp("full", 16, 0f); TabularBatchSource s = source(8)) {
            FitResult r = TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), base().build());
            assertEquals(8, r.steps());
            full = flat(m);
        }
        assertArrayEquals(full, accumulated, 1e-5f);
        try (Model m = mlp("one", 16, 0f); TabularBatchSource s = source(4)) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), base().build());
            float[] unaccumulated = flat(m);
            float diff = 0;
            for (int i = 0; i < full.length; i++) {
                diff = Math.max(diff, Math.abs(full[i] - unaccumulated[i]));
            }
            assertTrue(diff > 1e-3, "16 half-batch updates should differ from 8 full-batch ones, max diff " + diff);
        }
    }

    @Test
    void resumeFromACheckpointContinuesTheSameRunBitForBit(@TempDir Path dir) {
        // 64 rows, micro-batches of 8, 2 per update: 4 updates per epoch, 12 in 3 epochs; dropout, clipping,
        // a cosine schedule with warm-up: everything that carries state.
        TrainingSpec spec = base().setEpochs(3).optAccumulationSteps(2).optMaxGradNorm(0.5f)
                .optSchedule(LrSchedule.Kind.COSINE, 2).optCheckpoints(5, dir, 0).build();
        float[] straight;
        try (Model m = mlp("straight", 16, 0.3f); TabularBatchSource s = source(8)) {
            FitResult r = TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec);
            assertEquals(12, r.steps());
            assertEquals(3, r.epochs());
            assertEquals(dir.resolve("step-000000012"), r.lastCheckpoint());
            straight = flat(m);
        }
        List<Path> ckpts = Checkpoint.list(dir);
        assertEquals(List.of(dir.resolve("step-000000005"), dir.resolve("step-000000010"), dir.resolve("step-000000012")),
                ckpts);
        Checkpoint.State at5 = Checkpoint.readState(ckpts.get(0));
        assertEquals(1, at5.epoch());
        assertEquals(2, at5.batch());
        float[] resumed;
        try (Model m = mlp("resumed", 16, 0.3f); TabularBatchSource s = source(8)) {
            FitResult r = TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(),
                    spec.toBuilder().optCheckpoints(0, null, 0).optResumeFrom(ckpts.get(0)).build());
            assertEquals(12, r.steps());
            resumed = flat(m);
        }
        assertArrayEquals(straight, resumed, 0f, "train 12 == train 5 + checkpoint + resume + train 7");
        try (Model m = mlp("other-seed", 16, 0.3f); TabularBatchSource s = source(8)) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec.toBuilder().setSeed(8)
                    .optCheckpoints(0, null, 0).build());
            assertNotEquals(straight[0], flat(m)[0], "another seed trains another student");
        }
    }

    @Test
    void aDamagedNewestCheckpointIsPassedOverWithAWarningAndTheRunResumesFromTheNewestIntactOne(@TempDir Path dir)
            throws Exception {
        TrainingSpec spec = base().setEpochs(3).optAccumulationSteps(2).optMaxGradNorm(0.5f)
                .optSchedule(LrSchedule.Kind.COSINE, 2).optCheckpoints(5, dir, 0).build();
        float[] straight;
        try (Model m = mlp("straight", 16, 0.3f); TabularBatchSource s = source(8)) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec);
            straight = flat(m);
        }
        Path newest = dir.resolve("step-000000012");
        assertEquals(List.of("SHA256SUMS", "optimizer.bin", "parameters.params", "state.json"),
                Files.list(newest).map(p -> p.getFileName().toString()).sorted().toList());
        Path params = newest.resolve(Checkpoint.PARAMETERS);
        byte[] bytes = Files.readAllBytes(params);
        bytes[bytes.length - 9] ^= 0x01; // one bit of the last weight: DJL would load it without a word
        Files.write(params, bytes);

        List<String> warnings = new ArrayList<>();
        Path intact = Checkpoint.latest(dir, warnings::add).orElseThrow();
        assertEquals(dir.resolve("step-000000010"), intact);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).matches(java.util.regex.Pattern.quote(params.toString()) + ": damaged: its SHA-256 "
                + "[0-9a-f]{64} differs from the [0-9a-f]{64} recorded in SHA256SUMS when it was written; resuming from "
                + "the older checkpoint " + java.util.regex.Pattern.quote(intact.toString())), warnings.get(0));
        float[] resumed;
        try (Model m = mlp("resumed", 16, 0.3f); TabularBatchSource s = source(8)) {
            FitResult r = TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(),
                    spec.toBuilder().optResumeFrom(intact).build());
            assertEquals(12, r.steps());
            resumed = flat(m);
        }
        assertArrayEquals(straight, resumed, 0f, "resumed from update 10, the run ends where the uninterrupted one did");
        assertEquals(List.of(), warnings.subList(1, warnings.size()));
        assertEquals(dir.resolve("step-000000012"), Checkpoint.latest(dir, warnings::add).orElseThrow(),
                "the resumed run wrote update 12 again, intact");
    }

    @Test
    void resumingFromANamedDamagedCheckpointNamesTheFileAndNoMessageEndsInNull(@TempDir Path dir) throws Exception {
        TrainingSpec spec = base().optCheckpoints(4, dir, 0).build();
        try (Model m = mlp("small", 16, 0f); TabularBatchSource s = source(8)) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec);
        }
        Path ckpt = dir.resolve("step-000000004");
        Path params = ckpt.resolve(Checkpoint.PARAMETERS);
        byte[] bytes = Files.readAllBytes(params);
        Files.write(params, java.util.Arrays.copyOf(bytes, bytes.length - 10));
        TrainingSpec resume = spec.toBuilder().optCheckpoints(0, null, 0).optResumeFrom(ckpt).build();
        try (Model m = mlp("resume", 16, 0f); TabularBatchSource s = source(8)) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), resume));
            assertTrue(e.getMessage().matches(java.util.regex.Pattern.quote(params.toString()) + ": damaged: its SHA-256 "
                    + "[0-9a-f]{64} differs from the [0-9a-f]{64} recorded in SHA256SUMS when it was written; resume from "
                    + "an older checkpoint of " + java.util.regex.Pattern.quote(dir.toString())), e.getMessage());
        }
        // Written before checksums were kept: the loader's own error, which has no message, is named.
        Files.delete(ckpt.resolve("SHA256SUMS"));
        try (Model m = mlp("old", 16, 0f); TabularBatchSource s = source(8)) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), resume));
            assertEquals(params + ": cannot load the parameters: the file ends early", e.getMessage());
        }
        io.distill4j.data.AtomicFiles.deleteTree(dir.resolve("step-000000008"));
        Files.delete(ckpt.resolve(Checkpoint.OPTIMIZER));
        List<String> warnings = new ArrayList<>();
        Files.writeString(ckpt.resolve("SHA256SUMS"), "0".repeat(64) + "  " + Checkpoint.OPTIMIZER + "\n");
        assertEquals(java.util.Optional.empty(), Checkpoint.latest(dir, warnings::add));
        assertEquals(List.of(ckpt.resolve(Checkpoint.OPTIMIZER) + ": missing (listed in SHA256SUMS); no intact "
                + "checkpoint is left in " + dir + ", so training starts from the beginning"), warnings);
    }

    @Test
    void checkpointsArePrunedToTheNewest(@TempDir Path dir) {
        try (Model m = mlp("prune", 8, 0f); TabularBatchSource s = source(8)) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), base().setEpochs(2).optCheckpoints(3, dir, 2).build());
        }
        assertEquals(List.of(dir.resolve("step-000000015"), dir.resolve("step-000000016")), Checkpoint.list(dir));
        assertTrue(Files.isRegularFile(dir.resolve("step-000000016").resolve(Checkpoint.PARAMETERS)));
        assertEquals(Checkpoint.latest(dir).orElseThrow(), dir.resolve("step-000000016"));
    }

    @Test
    void resumingAnotherArchitectureOrSeedFailsBeforeTraining(@TempDir Path dir) {
        TrainingSpec spec = base().optCheckpoints(4, dir, 0).build();
        try (Model m = mlp("small", 16, 0f); TabularBatchSource s = source(8)) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec);
        }
        Path ckpt = dir.resolve("step-000000004");
        TrainingSpec resume = spec.toBuilder().optCheckpoints(0, null, 0).optResumeFrom(ckpt).build();
        try (Model m = mlp("wide", 32, 0f); TabularBatchSource s = source(8)) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), resume));
            assertTrue(e.getMessage().contains(ckpt + ": checkpoint of another architecture: parameter 0 is"
                    + " '01Linear_weight (16, 8) float32' in the checkpoint and '01Linear_weight (32, 8) float32' in the"
                    + " model"), e.getMessage());
        }
        try (Model m = mlp("seed", 16, 0f); TabularBatchSource s = source(8)) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), resume.toBuilder().setSeed(9).build()));
            assertTrue(e.getMessage().contains("the checkpoint's run has seed 7, this run has seed 9"), e.getMessage());
        }
        try (Model m = mlp("batch", 16, 0f); TabularBatchSource s = source(16)) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), resume));
            assertTrue(e.getMessage().contains("had 8 micro-batches per epoch, this run's has 4"), e.getMessage());
        }
        BadInputException e = assertThrows(BadInputException.class, () -> Checkpoint.readState(dir));
        assertTrue(e.getMessage().contains("not a checkpoint (no state.json)"), e.getMessage());
    }

    @Test
    void batchesThatDoNotFitTheModelOrLossFailBeforeTraining() {
        try (Model m = mlp("narrow", 8, 0f); TabularBatchSource s = source(8)) {
            m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, 6));
            float[] before = flat(m);
            BadInputException e = assertThrows(BadInputException.class,
                    () -> TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), base().build()));
            assertTrue(e.getMessage().contains("narrow: a batch with inputs [(8, 8) float32] and labels [(8, 2) float32]"
                    + " does not fit the model and loss"), e.getMessage());
            assertArrayEquals(before, flat(m), 0f, "nothing was trained");
        }
        try (Model m = mlp("labels", 8, 0f);
                TabularBatchSource s = new TabularBatchSource(X, oneHot(Y, 3), 8, ai.djl.Device.cpu())) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), base().build()));
            assertTrue(e.getMessage().contains("labels [(8, 3) float32] does not fit the model and loss"), e.getMessage());
        }
    }

    @Test
    void earlyStoppingStopsAfterPatienceAndRestoresTheBestParameters() {
        double[] script = {1.0, 0.9, 0.95, 0.97, 0.5, 0.4};
        List<float[]> seen = new ArrayList<>();
        Validator v = model -> {
            seen.add(flat(model));
            return script[seen.size() - 1];
        };
        try (Model m = mlp("early", 8, 0f); TabularBatchSource s = source(8)) {
            TrainingSpec spec = base().setEpochs(3).optValidateEvery(1)
                    .optEarlyStopping(new EarlyStopping(false, 2, 0.0, true)).build();
            FitResult r = TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec, v);
            assertTrue(r.stoppedEarly());
            assertEquals(4, r.steps());
            assertEquals(List.of(1.0, 0.9, 0.95, 0.97), r.validations());
            assertEquals(0.9, r.bestMetric(), 0);
            assertEquals(2, r.bestStep());
            assertTrue(r.restoredBest());
            assertArrayEquals(seen.get(1), flat(m), 0f, "parameters of the best validation (update 2)");
            assertNotEquals(seen.get(3)[0], flat(m)[0]);
        }
        EarlyStopping max = new EarlyStopping(true, 1, 0.01, false);
        assertTrue(max.improves(0.5, Double.NaN));
        assertTrue(max.improves(0.52, 0.5));
        assertFalse(max.improves(0.505, 0.5));
    }

    @Test
    void specsAreValidatedWithClearMessages() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingSpec.builder().optPrecision(Precision.FP16).build());
        assertTrue(e.getMessage().contains("precision fp16 (mixed precision) needs a GPU device, got cpu()"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("bf16"));
        assertTrue(e.getMessage().contains("DJL 0.35.1's PyTorch JNI aborts the process on bfloat16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainingSpec.builder().optAccumulationSteps(0).build());
        assertTrue(e.getMessage().contains("accumulationSteps must be positive, got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainingSpec.builder().optCheckpoints(10, null, 0).build());
        assertTrue(e.getMessage().contains("checkpointEvery is 10 but no checkpoint folder is set"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainingSpec.builder().optMaxGradNorm(-1).build());
        assertTrue(e.getMessage().contains("maxGradNorm must be non-negative"), e.getMessage());
        try (Model m = mlp("v", 8, 0f); TabularBatchSource s = source(8)) {
            e = assertThrows(IllegalArgumentException.class, () -> TrainingEngine.fit(m, s,
                    new SoftTargetCrossEntropyLoss(), base().optEarlyStopping(new EarlyStopping(true, 1, 0, false)).build()));
            assertTrue(e.getMessage().contains("early stopping needs a validator"), e.getMessage());
        }
    }

    @Test
    void fp16TrainsWithFloat32MasterWeights() {
        try (Model m = mlp("fp16", 16, 0.1f); TabularBatchSource s = source(8)) {
            TrainingSpec spec = base().setEpochs(20).optPrecision(Precision.FP16).allowFp16OnCpu().build();
            FitResult r = TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec);
            assertEquals(0, r.skippedSteps());
            for (Parameter p : m.getBlock().getParameters().values()) {
                assertEquals(DataType.FLOAT32, p.getArray().getDataType());
            }
            double acc = Metrics.accuracy(Metrics.toDouble(Inference.probabilities(m, X, false)), Y);
            assertTrue(acc > 0.9, "fp16 training should learn the rule, accuracy " + acc);
            assertTrue(r.lastLoss() < 0.4, "loss " + r.lastLoss());
        }
    }

    @Test
    void fp16OverflowSkipsTheUpdateAndHalvesTheLossScale() {
        try (Model m = mlp("overflow", 16, 0f); TabularBatchSource s = source(8)) {
            TrainingSpec spec = base().optPrecision(Precision.FP16).allowFp16OnCpu().build();
            m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(8, 8));
            try (TrainingSession session = new TrainingSession(m, new SoftTargetCrossEntropyLoss(), spec);
                    NDManager sub = m.getNDManager().newSubManager()) {
                MicroBatch b = s.batch(sub, 7, 0, 0, null);
                float[] before = flat(m);
                session.restoreScaler(1e30f, 0);
                session.forwardBackward(b.inputs(), b.labels(), 1f);
                assertFalse(session.update(0.01f), "float16 gradients of a 1e30-scaled loss overflow");
                assertEquals(5e29f, session.lossScale(), 0f);
                assertArrayEquals(before, flat(m), 0f, "a skipped update changes nothing");
                for (Parameter p : m.getBlock().getParameters().values()) {
                    try (NDArray g = p.getArray().getGradient()) {
                        assertEquals(0f, g.abs().sum().getFloat(), 0f, "gradients are zeroed after a skip");
                    }
                }
                session.restoreScaler(TrainingSession.INITIAL_LOSS_SCALE, 0);
                session.forwardBackward(b.inputs(), b.labels(), 1f);
                assertTrue(session.update(0.01f));
                assertTrue(Double.isFinite(session.lastGradNorm()));
                assertNotEquals(before[0], flat(m)[0]);
            }
        }
    }

    @Test
    void batchesMayLiveInAnyManagerAndAreReturnedIntact() {
        try (Model m = mlp("managers", 8, 0f); NDManager data = NDManager.newBaseManager()) {
            m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(8, 8));
            NDArray x = data.randomUniform(-1, 1, new Shape(8, 8));
            NDArray y = data.create(new int[] {0, 1, 0, 1, 0, 1, 0, 1}).oneHot(2).toType(DataType.FLOAT32, false);
            int before = ((ai.djl.ndarray.BaseNDManager) data).getManagedArrays().size();
            try (TrainingSession session = new TrainingSession(m, new SoftTargetCrossEntropyLoss(), base().build())) {
                for (int i = 0; i < 5; i++) {
                    session.forwardBackward(new NDList(x), new NDList(y), 1f);
                    session.update(0.01f);
                }
            }
            assertEquals(before, ((ai.djl.ndarray.BaseNDManager) data).getManagedArrays().size());
            assertTrue(x.isReleased() == false && x.getManager() == data);
        }
    }
}

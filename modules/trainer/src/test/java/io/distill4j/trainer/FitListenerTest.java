package io.distill4j.trainer;

import static io.distill4j.trainer.EngineFixtures.flat;
import static io.distill4j.trainer.EngineFixtures.mlp;
import static io.distill4j.trainer.TrainingEngineTest.base;
import static io.distill4j.trainer.TrainingEngineTest.source;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener API of {@link TrainingEngine#fit}: events, their order, stopping, failures, measured norms. */
class FitListenerTest {

    /** Writes every event as one line. */
    static final class Recorder implements FitListener {
        final List<String> events = new ArrayList<>();
        final List<StepMetrics> steps = new ArrayList<>();
        Throwable failure;
        boolean ended;

        @Override
        public void onFitBegin(FitContext fit) {
            events.add("begin " + fit.step() + "/" + fit.totalSteps() + " " + fit.unit());
        }

        @Override
        public void onStep(FitContext fit, StepMetrics s) {
            steps.add(s);
            events.add("step " + s.step() + (s.epochEnd() ? " end-of-epoch " + s.epoch() : ""));
        }

        @Override
        public void onValidation(FitContext fit, Validation v) {
            events.add("validation " + v.step() + " " + v.metric() + " " + v.value());
        }

        @Override
        public void onCheckpoint(FitContext fit, Path checkpoint) {
            events.add("checkpoint " + checkpoint.getFileName());
        }

        @Override
        public void onFitEnd(FitContext fit, Throwable f) {
            events.add("end " + fit.step());
            failure = f;
            ended = true;
        }
    }

    @Test
    void aCallersListenerSeesEveryEventInTheDocumentedOrder(@TempDir Path dir) {
        // 64 rows in micro-batches of 8, 2 per update: 4 updates per epoch, 8 in 2 epochs; a validation at each
        // epoch end and a checkpoint every 3 updates and at the last; warm-up over 4 updates.
        Recorder r = new Recorder();
        double[] scores = {0.7, 0.6};
        int[] calls = {0};
        Validator v = Validator.named("nll", m -> scores[calls[0]++]);
        try (Model m = mlp("events", 8, 0f); TabularBatchSource s = source(8)) {
            FitResult res = TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), base().setEpochs(2)
                    .optAccumulationSteps(2).optSchedule(LrSchedule.Kind.CONSTANT, 4).optCheckpoints(3, dir, 0).build(),
                    v, r);
            assertEquals(8, res.steps());
            assertEquals(List.of(0.7, 0.6), res.validations());
        }
        assertEquals(List.of("begin 0/8 items", "step 1", "step 2", "step 3", "checkpoint step-000000003",
                "step 4 end-of-epoch 0", "validation 4 nll 0.7", "step 5", "step 6", "checkpoint step-000000006",
                "step 7", "step 8 end-of-epoch 1", "validation 8 nll 0.6", "checkpoint step-000000008", "end 8"),
                r.events);
        assertNull(r.failure);
        for (StepMetrics s : r.steps) {
            long t = s.step() - 1;
            double base = 0.01f; // the spec's float learning rate
            double lr = t < 4 ? base * t / 4 : base; // linear warm-up, then constant
            assertEquals(lr, s.learningRate(), 1e-15, "update " + s.step());
            assertEquals(16, s.items(), "two micro-batches of 8 rows");
            assertEquals(8, s.totalSteps());
            assertEquals(s.step() <= 4 ? 0 : 1, s.epoch());
            assertTrue(Double.isNaN(s.gradNorm()), "not measured without clipping or a listener that wants it");
            assertFalse(s.skipped());
            assertEquals(1f, s.lossScale());
            assertTrue(s.seconds() > 0 && s.itemsPerSecond() > 0);
        }
    }

    @Test
    void aListenerStopsTheRunAndTheStopIsCheckpointed(@TempDir Path dir) {
        FitListener stopAt3 = new FitListener() {
            @Override
            public void onStep(FitContext fit, StepMetrics s) {
                if (s.step() == 3) {
                    fit.requestStop("enough");
                    fit.requestStop("ignored: the first reason stays");
                }
            }
        };
        Recorder r = new Recorder();
        try (Model m = mlp("stop", 8, 0f); TabularBatchSource s = source(8)) {
            FitResult res = TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(),
                    base().setEpochs(5).optCheckpoints(100, dir, 0).build(), stopAt3, r);
            assertEquals(3, res.steps());
            assertTrue(res.stoppedEarly());
            assertEquals(dir.resolve("step-000000003"), res.lastCheckpoint());
        }
        assertEquals(List.of("begin 0/40 items", "step 1", "step 2", "step 3", "checkpoint step-000000003", "end 3"),
                r.events);
    }

    @Test
    void aFailingRunStillEndsEveryListenerAndTheFailureReachesTheCaller() {
        Recorder r = new Recorder();
        FitListener boom = FitListener.onSteps(s -> {
            if (s.step() == 2) {
                throw new IllegalStateException("listener failed at 2");
            }
        });
        try (Model m = mlp("fail", 8, 0f); TabularBatchSource s = source(8)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), base().build(), r, boom));
            assertEquals("listener failed at 2", e.getMessage());
            assertTrue(r.ended);
            assertSame(e, r.failure);
            assertEquals(List.of("begin 0/8 items", "step 1", "step 2", "end 2"), r.events);
        }
    }

    @Test
    void aResumedRunTellsItsListenersWhereItStarts(@TempDir Path dir) {
        TrainingSpec spec = base().setEpochs(2).optCheckpoints(5, dir, 0).build();
        try (Model m = mlp("first", 8, 0f); TabularBatchSource s = source(8)) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec);
        }
        Recorder r = new Recorder();
        try (Model m = mlp("second", 8, 0f); TabularBatchSource s = source(8)) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(),
                    spec.toBuilder().optCheckpoints(0, null, 0).optResumeFrom(dir.resolve("step-000000005")).build(), r);
        }
        assertEquals("begin 5/16 items", r.events.get(0));
        assertEquals("step 6", r.events.get(1));
        assertEquals(13, r.events.size(), "begin, updates 6 to 16, end: " + r.events);
        assertEquals("end 16", r.events.get(12));
    }

    /**
     * A listener that wants the gradient norm gets, at the first update, the L2 norm of the gradients that a
     * separate forward and backward pass of the same batch on the same initial parameters gives; measuring it
     * changes no parameter.
     */
    @Test
    void theMeasuredGradientNormIsTheNormOfTheGradientsAndChangesNothing() {
        double expected;
        try (Model m = mlp("by-hand", 8, 0f); TabularBatchSource s = source(64)) {
            Engine.getInstance().setRandomSeed(7);
            m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(64, 8));
            try (NDManager sub = m.getNDManager().newSubManager()) {
                for (Parameter p : m.getBlock().getParameters().values()) {
                    p.getArray().setRequiresGradient(true);
                }
                MicroBatch b = s.batch(sub, 7, 0, 0, null);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDList out = m.getBlock().forward(new ParameterStore(sub, false), b.inputs(), true);
                    gc.backward(new SoftTargetCrossEntropyLoss().evaluate(b.labels(), out));
                }
                double squares = 0;
                for (Parameter p : m.getBlock().getParameters().values()) {
                    NDArray g = p.getArray().getGradient();
                    for (float x : g.toFloatArray()) {
                        squares += (double) x * x;
                    }
                    g.close();
                }
                expected = Math.sqrt(squares);
            }
        }
        List<StepMetrics> seen = new ArrayList<>();
        FitListener wants = new FitListener() {
            @Override
            public void onStep(FitContext fit, StepMetrics s) {
                seen.add(s);
            }

            @Override
            public boolean wantsGradNorm() {
                return true;
            }
        };
        float[] measured;
        float[] plain;
        try (Model m = mlp("measured", 8, 0f); TabularBatchSource s = source(64)) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), base().setEpochs(3).build(), wants);
            measured = flat(m);
        }
        try (Model m = mlp("plain", 8, 0f); TabularBatchSource s = source(64)) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), base().setEpochs(3).build());
            plain = flat(m);
        }
        assertEquals(3, seen.size());
        assertEquals(expected, seen.get(0).gradNorm(), 1e-5 * expected);
        assertTrue(seen.get(1).gradNorm() > 0 && seen.get(2).gradNorm() > 0);
        assertArrayEquals(plain, measured, 0f, "measuring the norm reads the gradients only");
    }

    @Test
    void progressIsOnByDefaultAndItsIntervalIsValidated() {
        assertTrue(TrainingSpec.builder().build().progressBar());
        assertEquals(ConsoleProgress.DEFAULT_LINE_INTERVAL, TrainingSpec.builder().build().progressInterval());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingSpec.builder().optProgressInterval(java.time.Duration.ZERO).build());
        assertEquals("progressInterval must be positive, got PT0S", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Validator.named("val loss", m -> 0));
        assertTrue(e.getMessage().contains("got 'val loss'"), e.getMessage());
    }
}

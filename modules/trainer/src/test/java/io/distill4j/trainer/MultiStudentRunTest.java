package io.distill4j.trainer;



import io.distill4j.models.Inference;
import io.distill4j.models.Mlp;
import static io.distill4j.trainer.EngineFixtures.features;
import static io.distill4j.trainer.EngineFixtures.labels;
import static io.distill4j.trainer.EngineFixtures.oneHot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import io.distill4j.trainer.stats.Summary;
import org.junit.jupiter.api.Test;
import io.distill4j.trainer.stats.Summary;
import org.junit.jupiter.api.io.TempDir;

class MultiStudentRunTest {
    static final float[][] X = features(64, 5);
    static final int[] Y = labels(X);
    static final float[][] XT = features(40, 6);
    static final int[] YT = labels(XT);
    static final List<Long> SEEDS = List.of(3L, 4L, 5L);

    /** A soft "teacher": 0.8 on the true class. */
    static double[][] teacher() {
        double[][] t = new double[YT.length][2];
        for (int i = 0; i < YT.length; i++) {
            t[i][YT[i]] = 0.8;
            t[i][1 - YT[i]] = 0.2;
        }
        return t;
    }

    static TrainingSpec spec() {
        return TrainingSpec.builder().setEpochs(4).setLearningRate(0.02f).optLogEvery(0).build();
    }

    static MultiStudentRun.Builder run(TabularBatchSource s, TrainingSpec spec) {
        return MultiStudentRun.builder().optName("ms").setSeeds(SEEDS)
                .setStudents(seed -> Mlp.builder().setInputs(8).setHidden(16).setOutputs(2).optDropout(0.2f).build())
                .setData(s).setLoss(new SoftTargetCrossEntropyLoss()).setSpec(spec)
                .setScorer(Evaluators.classification(XT, YT, teacher(), 4));
    }

    @Test
    void perSeedMetricsAggregatesAndInterStudentVariancesMatchIndependentRuns() {
        MultiStudentRun.Result r;
        try (TabularBatchSource s = new TabularBatchSource(X, oneHot(Y, 2), 8, Device.cpu())) {
            r = run(s, spec()).build().run();
        }
        assertEquals(3, r.students().size());
        assertEquals(List.of("accuracy", "nll", "ece", "brier", "entropy", "entropy_correct", "entropy_wrong",
                "divergence", "intra_variance"), List.copyOf(r.aggregates().keySet()));
        // every student again, trained alone with the engine, gives the same predictions and parameters
        double[][][] probs = new double[3][][];
        float[][] params = new float[3][];
        for (int i = 0; i < 3; i++) {
            long seed = SEEDS.get(i);
            assertEquals(seed, r.students().get(i).seed());
            assertEquals(32, r.students().get(i).training().steps());
            try (Model m = Model.newInstance("alone");
                    TabularBatchSource s = new TabularBatchSource(X, oneHot(Y, 2), 8, Device.cpu())) {
                m.setBlock(Mlp.builder().setInputs(8).setHidden(16).setOutputs(2).optDropout(0.2f).build());
                TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec().withSeed(seed));
                probs[i] = Metrics.toDouble(Inference.probabilities(m, XT, false));
                params[i] = MultiStudentRun.flatParameters(m);
                Map<String, Double> metrics = r.students().get(i).metrics();
                assertEquals(Metrics.accuracy(probs[i], YT), metrics.get("accuracy"), 0);
                assertEquals(Metrics.nll(probs[i], YT), metrics.get("nll"), 0);
                assertEquals(Metrics.distillationDivergence(teacher(), probs[i]), metrics.get("divergence"), 0);
                assertEquals(Metrics.intraStudentVariance(Evaluators.mcDropoutPasses(m, XT, 4, seed)),
                        metrics.get("intra_variance"), 0);
                assertTrue(metrics.get("intra_variance") > 0, "dropout passes differ");
            }
        }
        assertEquals(Metrics.interStudentVariance(probs), r.predictionVariance(), 0);
        assertEquals(Metrics.interStudentParameterVariance(params), r.parameterVariance(),
                1e-12 * r.parameterVariance());
        assertTrue(r.parameterVariance() > 0 && r.predictionVariance() > 0, "seeds train different students");
        double[] nll = r.students().stream().mapToDouble(st -> st.metrics().get("nll")).toArray();
        Summary a = r.aggregates().get("nll");
        double mean = (nll[0] + nll[1] + nll[2]) / 3;
        double std = Math.sqrt(((nll[0] - mean) * (nll[0] - mean) + (nll[1] - mean) * (nll[1] - mean)
                + (nll[2] - mean) * (nll[2] - mean)) / 2);
        assertEquals(mean, a.mean(), 1e-15);
        assertEquals(std, a.std(), 1e-14);
        // scipy.stats.t.ppf(0.975, 2) = 4.302652729749462
        assertEquals(a.mean() + 4.302652729749462 * std / Math.sqrt(3), a.high(), 1e-9);
        assertTrue(r.aggregates().get("accuracy").mean() > 0.8, "students learn the rule");
    }

    @Test
    void aResumedMultiStudentRunReusesEachStudentsCheckpoint(@TempDir Path dir) {
        TrainingSpec spec = spec().toBuilder().optCheckpoints(10, dir, 1).build();
        MultiStudentRun.Result first;
        MultiStudentRun.Result again;
        try (TabularBatchSource s = new TabularBatchSource(X, oneHot(Y, 2), 8, Device.cpu())) {
            first = run(s, spec).build().run();
            again = run(s, spec).optResume(true).build().run();
        }
        for (long seed : SEEDS) {
            assertEquals(List.of(MultiStudentRun.studentCheckpoints(dir, seed).resolve("step-000000032")),
                    Checkpoint.list(MultiStudentRun.studentCheckpoints(dir, seed)));
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(first.students().get(i).metrics(), again.students().get(i).metrics());
            assertEquals(32, again.students().get(i).training().steps());
        }
    }

    @Test
    void buildValidates() {
        try (TabularBatchSource s = new TabularBatchSource(X, oneHot(Y, 2), 8, Device.cpu())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> run(s, spec()).setSeeds(List.of(1L, 1L)).build());
            assertTrue(e.getMessage().contains("seeds must be distinct, got [1, 1]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> run(s, spec()).optResume(true).build());
            assertTrue(e.getMessage().contains("resume needs checkpoints"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Evaluators.classificationValidator(XT, YT, "f1"));
        assertTrue(e.getMessage().contains("unknown validation metric 'f1'"), e.getMessage());
    }

    /** A store in memory that copies what it keeps (as a folder would) and counts what it is asked to keep. */
    static final class MemoryStore implements MultiStudentRun.StudentStore {
        final Map<Long, MultiStudentRun.StudentOutcome> kept = new java.util.TreeMap<>();

        @Override
        public boolean has(long seed) {
            return kept.containsKey(seed);
        }

        @Override
        public MultiStudentRun.StudentOutcome load(long seed) {
            MultiStudentRun.StudentOutcome o = kept.get(seed);
            double[][] p = o.predictions() == null ? null
                    : java.util.Arrays.stream(o.predictions()).map(double[]::clone).toArray(double[][]::new);
            return new MultiStudentRun.StudentOutcome(o.result(), p, o.parameters().clone());
        }

        @Override
        public void save(MultiStudentRun.StudentOutcome outcome) {
            kept.put(outcome.result().seed(), outcome);
        }
    }

    @Test
    void studentsTrainedApartAndMergedEqualOneRun() {
        MultiStudentRun.Result whole;
        MultiStudentRun.Result merged;
        MemoryStore store = new MemoryStore();
        try (TabularBatchSource s = new TabularBatchSource(X, oneHot(Y, 2), 8, Device.cpu())) {
            whole = run(s, spec()).build().run();
            // one task per seed, in any order, then the merge, which trains nothing
            assertEquals(1, run(s, spec()).optStore(store).build().trainSeeds(List.of(5L)));
            assertEquals(2, run(s, spec()).optStore(store).build().trainSeeds(List.of(3L, 4L, 5L)));
            assertEquals(List.of(3L, 4L, 5L), List.copyOf(store.kept.keySet()));
            MultiStudentRun merge = run(s, spec()).optStore(store).build();
            assertEquals(0, merge.trainSeeds(SEEDS), "every student is stored");
            merged = merge.run();
            assertThrows(IllegalArgumentException.class, () -> merge.trainSeeds(List.of(9L)));
            assertThrows(IllegalStateException.class, () -> run(s, spec()).build().trainSeeds(List.of(3L)));
        }
        assertEquals(whole.aggregates(), merged.aggregates());
        assertEquals(whole.predictionVariance(), merged.predictionVariance(), 0);
        assertEquals(whole.parameterVariance(), merged.parameterVariance(), 0);
        assertTrue(whole.parameterVariance() > 0);
        for (int i = 0; i < SEEDS.size(); i++) {
            assertEquals(whole.students().get(i).metrics(), merged.students().get(i).metrics());
            assertEquals(whole.students().get(i).training().steps(), merged.students().get(i).training().steps());
        }
    }
}

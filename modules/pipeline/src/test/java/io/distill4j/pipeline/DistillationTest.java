package io.distill4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Datasets;
import io.distill4j.data.DenseCacheReader;
import io.distill4j.data.Standardizer;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.loss.Label;
import io.distill4j.loss.Registry;
import io.distill4j.models.Mlp;
import io.distill4j.trainer.StudentProbe;
import io.distill4j.trainer.TrainingSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline's design: each student's own draws, labels made from the cache for the loss, checks before work. */
class DistillationTest {

    static final TabularData.Split IRIS = Standardizer.standardise(Datasets.sklearn("iris").split(0.2, 0));
    static final TrainingSpec FAST = TrainingSpec.builder().setEpochs(5).setBatchSize(16).setLearningRate(0.01f).build();
    static final StudentProbe NO_PROBE = (x, passes) -> {
        throw new AssertionError("this target does not ask for the student's estimate");
    };

    static Distillation.Builder run(Teachers.Recipe teacher, String target) {
        return Distillation.builder().data(IRIS).teacher(teacher).target(target).loss("soft-ce")
                .student(Mlp.builder().setHidden(8).optDropout(0.2f)).students(3).training(FAST).log(l -> { });
    }

    /** The labels one student gets for the first 5 training rows. */
    static float[] labels(Distillation d, DenseCacheReader reader, int student, NDManager m) {
        CacheTargets t = new CacheTargets(reader, d.firstDraw(student), d.samplesPerStudent(),
                Registry.target(d.name(), Map.of()), new LabelAssembler(Registry.loss("soft-ce", Map.of()), 5),
                IRIS.train().labels(), "probabilities", StudentEstimates.mcDropout().start(4, null, IRIS.train().size(), 3));
        NDList l = t.labels(m, new int[] {0, 1, 2, 3, 4}, m.zeros(new ai.djl.ndarray.types.Shape(5, 4)), NO_PROBE);
        return l.head().toFloatArray();
    }

    @Test
    void eachStudentDistilsItsOwnDrawsAndSharedDrawsAreTheSame(@TempDir Path dir) {
        Teachers.Recipe teacher = Teachers.mcDropout(Mlp.builder().setHidden(16).optDropout(0.3f)).samples(2)
                .training(FAST);
        Distillation d = run(teacher, "single").build();
        assertEquals(6, d.cacheSamples(), "3 students x 2 draws");
        TeacherCache cache = teacher.fill(IRIS, d.cacheSamples(), dir.resolve("cache"), Device.cpu(), l -> { });
        assertEquals(6, cache.manifest().k());
        float[][][] all = cache.readAll();
        DenseCacheReader reader = cache.dense(false);
        try (NDManager m = NDManager.newBaseManager()) {
            for (int s = 0; s < 3; s++) {
                float[] got = labels(d, reader, s, m);
                for (int i = 0; i < 5; i++) {
                    assertArrayEquals(all[i][2 * s], java.util.Arrays.copyOfRange(got, 3 * i, 3 * i + 3),
                            "student " + s + " reads its own first draw, sample " + 2 * s);
                }
            }
            assertFalse(java.util.Arrays.equals(labels(d, reader, 0, m), labels(d, reader, 1, m)),
                    "students 0 and 1 distil different draws");
            Distillation shared = run(teacher, "single").draws(Draws.SHARED).build();
            assertEquals(2, shared.cacheSamples());
            assertArrayEquals(labels(shared, reader, 0, m), labels(shared, reader, 2, m), "shared draws are the same");
        }
    }

    @Test
    void stackedStudentsEachGetTheLabelsTheyWouldGetAlone(@TempDir Path dir) {
        Teachers.Recipe teacher = Teachers.mcDropout(Mlp.builder().setHidden(16).optDropout(0.3f)).samples(3)
                .training(FAST);
        Distillation d = run(teacher, "inverse-variance").build();
        TeacherCache cache = teacher.fill(IRIS, d.cacheSamples(), dir.resolve("cache"), Device.cpu(), l -> { });
        DenseCacheReader reader = cache.dense(false);
        LabelAssembler assembler = new LabelAssembler(Registry.loss("soft-ce", Map.of()), 5);
        java.util.List<CacheTargets> each = new java.util.ArrayList<>();
        for (int s = 0; s < 3; s++) {
            each.add(new CacheTargets(reader, d.firstDraw(s), 3, Registry.target("inverse-variance", Map.of()), assembler,
                    IRIS.train().labels(), "probabilities", StudentEstimates.mcDropout().start(4, null, IRIS.train().size(), 3)));
        }
        try (NDManager m = NDManager.newBaseManager()) {
            long[][] rows = {{4, 0, 7}, {1, 9, 2}, {30, 5, 6}};
            NDArray rowArray = m.create(new long[] {4, 0, 7, 1, 9, 2, 30, 5, 6}, new ai.djl.ndarray.types.Shape(3, 3));
            NDArray inputs = m.randomNormal(new ai.djl.ndarray.types.Shape(3, 3, 4));
            // a fixed "stack" estimate: logits (S = 4 passes, R = 3, B = 3, C = 3), each student's slice its own
            NDArray logits = m.randomNormal(new ai.djl.ndarray.types.Shape(4, 3, 3, 3));
            int[] probes = new int[1];
            NDList stackedLabels = new StackedCacheLabels(each).labels(m, rowArray, inputs, (x, passes) -> {
                probes[0]++;
                assertEquals(4, passes);
                return logits;
            });
            assertEquals(1, probes[0], "the stack's passes run once per step for all students");
            float[] got = stackedLabels.head().toFloatArray();
            for (int s = 0; s < 3; s++) {
                int student = s;
                int[] own = java.util.Arrays.stream(rows[s]).mapToInt(v -> (int) v).toArray();
                float[] alone = each.get(s).labels(m, own, inputs.get(s),
                        (x, passes) -> logits.get(":, " + student).softmax(-1)).head().toFloatArray();
                assertArrayEquals(alone, java.util.Arrays.copyOfRange(got, s * 9, s * 9 + 9), 1e-6f, "student " + s);
            }
        }
    }

    @Test
    void aStackedRunScoresAndSavesEachStudentAsItsOwnMlp(@TempDir Path dir) throws Exception {
        TabularData.Split split = IRIS;
        TabularData shifted = new TabularData("iris-shifted", java.util.Arrays.stream(split.test().features())
                .map(r -> new float[] {r[0] + 0.5f, r[1], r[2], r[3]}).toArray(float[][]::new), split.test().labels(),
                null, 3);
        RunResult r = run(Teachers.mcDropout(Mlp.builder().setHidden(16).optDropout(0.3f)).samples(2).training(FAST),
                "mean").stacked(true).validation(split.test(), "accuracy").test("shifted", shifted).evaluationPasses(0)
                .build().fit(dir.resolve("run"));
        assertEquals(3, r.students());
        for (var st : r.result().students()) {
            Path folder = dir.resolve("run/students/seed-" + st.seed());
            try (ai.djl.Model m = SavedStudent.load(folder, Device.cpu())) {
                float[][] z = io.distill4j.models.Inference.outputs(m, split.test().features(), false);
                float[][] zs = io.distill4j.models.Inference.outputs(m, shifted.features(), false);
                assertEquals(accuracy(z, split.test().labels()), st.metrics().get("accuracy"), 1e-12, "seed " + st.seed());
                assertEquals(accuracy(zs, shifted.labels()), st.metrics().get("shifted/accuracy"), 1e-12);
            }
            assertEquals(FAST.epochs(), st.training().validations().size(), "one validation per epoch, its own curve");
        }
        assertFalse(r.result().students().get(0).training().validations().equals(
                r.result().students().get(1).training().validations())
                && r.result().students().get(0).metrics().equals(r.result().students().get(1).metrics()),
                "students of a stack differ");
        assertThrows(IllegalArgumentException.class, () -> run(Teachers.mcDropout(Mlp.builder().setHidden(4)), "mean")
                .stacked(true).validation(split.test(), "loss").build());
    }

    /** Share of rows whose largest output is the label. */
    private static double accuracy(float[][] z, int[] y) {
        int hit = 0;
        for (int i = 0; i < z.length; i++) {
            int best = 0;
            for (int c = 1; c < z[i].length; c++) {
                if (z[i][c] > z[i][best]) {
                    best = c;
                }
            }
            hit += best == y[i] ? 1 : 0;
        }
        return hit / (double) z.length;
    }

    @Test
    void withOneStudentWhatNeedsTwoSaysSoInTheTableTheCardAndTheJsonNeverNaN(@TempDir Path dir) throws Exception {
        Teachers.Recipe teacher = Teachers.mcDropout(Mlp.builder().setHidden(8).optDropout(0.3f)).samples(2)
                .training(TrainingSpec.builder().setEpochs(2).setBatchSize(16).setLearningRate(0.01f).build());
        RunResult r = run(teacher, "mean").students(1).training(TrainingSpec.builder().setEpochs(1).setBatchSize(16)
                .setLearningRate(0.01f).build()).build().fit(dir.resolve("run"));
        assertEquals(1, r.students());
        String table = r.table();
        assertTrue(table.contains("Inter-student variance: predictions n/a: needs at least 2 students, parameters n/a:"
                + " needs at least 2 students."), table);
        assertTrue(table.contains("(± n/a: needs at least 2 students)"), table);
        for (String f : List.of("results.md", "results.json", "model-card.md", "model-card.json")) {
            String text = Files.readString(dir.resolve("run").resolve(f));
            assertFalse(text.contains("NaN") || text.contains("Infinity"), f + " holds no NaN:\n" + text);
            assertTrue(text.contains("n/a: needs at least 2 students"), f + " says why:\n" + text);
        }
        Map<?, ?> json = new com.fasterxml.jackson.databind.ObjectMapper().readValue(
                dir.resolve("run/results.json").toFile(), Map.class);
        Map<?, ?> variance = (Map<?, ?>) json.get("interStudentVariance");
        assertEquals(null, variance.get("predictions"));
        assertEquals("n/a: needs at least 2 students", variance.get("note"));
    }

    @Test
    void withADeterministicTeacherTheTargetsCoincide(@TempDir Path dir) {
        Teachers.Recipe teacher = Teachers.deterministic(Mlp.builder().setHidden(16)).samples(4).training(FAST);
        TeacherCache cache = teacher.fill(IRIS, 12, dir.resolve("cache"), Device.cpu(), l -> { });
        float[][][] all = cache.readAll();
        for (int j = 1; j < 12; j++) {
            assertArrayEquals(all[7][0], all[7][j], "a deterministic teacher's draws are all equal");
        }
        DenseCacheReader reader = cache.dense(false);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] single = labels(run(teacher, "single").build(), reader, 1, m);
            float[] mean = labels(run(teacher, "mean").build(), reader, 1, m);
            assertArrayEquals(single, mean, 1e-7f);
            StudentProbe probe = (x, passes) -> m.randomUniform(0.1f, 0.9f, new ai.djl.ndarray.types.Shape(passes, 5, 3))
                    .softmax(-1);
            Distillation iv = run(teacher, "inverse-variance").build();
            CacheTargets t = new CacheTargets(reader, iv.firstDraw(1), 4, Registry.target("inverse-variance", Map.of()),
                    new LabelAssembler(Registry.loss("soft-ce", Map.of()), 5), IRIS.train().labels(), "probabilities", StudentEstimates.mcDropout().start(4, null, IRIS.train().size(), 3));
            float[] fused = t.labels(m, new int[] {0, 1, 2, 3, 4}, m.zeros(new ai.djl.ndarray.types.Shape(5, 4)), probe)
                    .head().toFloatArray();
            // zero teacher variance: the fusion keeps the teacher, up to its 1e-8 variance guard (a_S = 1e-8 / (var_S + 1e-8))
            assertArrayEquals(single, fused, 1e-4f, "zero teacher variance: the fusion keeps the teacher");
        }
    }

    @Test
    void aTargetThatTurnsLogitsIntoProbabilitiesIsNotSoftmaxedAgain(@TempDir Path dir) {
        Teachers.Recipe teacher = Teachers.mcDropout(Mlp.builder().setHidden(16).optDropout(0.3f)).samples(3)
                .training(FAST).logits();
        TeacherCache cache = teacher.fill(IRIS, 3, dir.resolve("cache"), Device.cpu(), l -> { });
        assertEquals("logits", cache.manifest().signal());
        float[][][] z = cache.readAll();
        var target = Registry.target("bayesian-mean", Map.of("input", "logits", "temperature", 4.0));
        CacheTargets t = new CacheTargets(cache.dense(false), 0, 3, target, new LabelAssembler(Registry.loss("hinton-kd",
                Map.of()), 5), IRIS.train().labels(), "logits", StudentEstimates.mcDropout().start(4, null, IRIS.train().size(), 3));
        try (NDManager m = NDManager.newBaseManager()) {
            float[] got = t.labels(m, new int[] {0, 1}, m.zeros(new ai.djl.ndarray.types.Shape(2, 4)), NO_PROBE).get(1)
                    .toFloatArray();
            for (int i = 0; i < 2; i++) {
                // p_T = (1/k) sum_j softmax(z_j / 4), in double precision
                double[] want = new double[3];
                for (float[] draw : z[i]) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (float v : draw) {
                        max = Math.max(max, v / 4.0);
                    }
                    double sum = 0;
                    for (float v : draw) {
                        sum += Math.exp(v / 4.0 - max);
                    }
                    for (int c = 0; c < 3; c++) {
                        want[c] += Math.exp(draw[c] / 4.0 - max) / sum / 3;
                    }
                }
                for (int c = 0; c < 3; c++) {
                    assertEquals(want[c], got[i * 3 + c], 1e-6, "row " + i + " class " + c);
                }
            }
        }
        assertEquals(null, LabelAssembler.check(Registry.loss("hinton-kd", Map.of()), "hinton-kd", target, "bayesian-mean",
                "logits", 3, true, 5));
        assertEquals("loss 'hinton-kd' with target 'bayesian-mean': target 'bayesian-mean' cannot read a cache of logits"
                + " (a bayesian-mean target needs its input option to match the cache)", LabelAssembler.check(
                        Registry.loss("hinton-kd", Map.of()), "hinton-kd", Registry.target("bayesian-mean", Map.of()),
                        "bayesian-mean", "logits", 3, true, 5));
        assertTrue(LabelAssembler.check(Registry.loss("kl", Map.of("teacher", "logits")), "kl", target, "bayesian-mean",
                "logits", 3, true, 5).contains("teacher logits, and target 'bayesian-mean' gives probabilities"));
    }

    @Test
    void labelsFollowWhatEachLossDeclares() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray samples = m.create(new float[] {0.7f, 0.2f, 0.1f, 0.5f, 0.3f, 0.2f}, new ai.djl.ndarray.types.Shape(1, 2, 3));
            NDArray target = samples.mean(new int[] {1});
            NDArray y = m.create(new int[] {0});
            NDList hinton = new LabelAssembler(Registry.loss("hinton-kd", Map.of()), 2).assemble(samples, target, y,
                    "probabilities");
            assertEquals(List.of(Label.CLASS_LABELS, Label.TARGET_PROBABILITIES), Registry.loss("hinton-kd", Map.of()).labels());
            assertArrayEquals(new int[] {0}, hinton.get(0).toIntArray());
            assertArrayEquals(new float[] {0.6f, 0.25f, 0.15f}, hinton.get(1).toFloatArray(), 1e-7f);
            NDList topk = new LabelAssembler(Registry.loss("sparse-topk-kl", Map.of()), 2).assemble(samples, target, y,
                    "probabilities");
            assertArrayEquals(new long[] {0, 1}, topk.get(0).toLongArray());
            assertArrayEquals(new float[] {(float) Math.log(0.6), (float) Math.log(0.25)}, topk.get(1).toFloatArray(), 1e-6f);
            assertEquals(Math.log(0.15), topk.get(2).getFloat(0), 1e-5);
            NDList weighted = new LabelAssembler(Registry.loss("weighted", Map.of("base", "soft-ce")), 2).assemble(samples,
                    target, y, "probabilities");
            // per-class sample variance (ddof 1) of (0.7, 0.5), (0.2, 0.3), (0.1, 0.2), averaged over classes
            assertEquals((0.02 + 0.005 + 0.005) / 3, weighted.get(1).getFloat(0), 1e-7);
        }
    }

    @Test
    void badRunsAreRefusedBeforeAnyWork(@TempDir Path dir) throws Exception {
        Teachers.Recipe teacher = Teachers.mcDropout(Mlp.builder().setHidden(16).optDropout(0.3f)).samples(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(teacher, "mean").loss("mse").build());
        assertEquals("loss 'mse' with target 'mean': the loss needs regression targets, and this cache holds probabilities",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> run(teacher, "mean").training(FAST.toBuilder()
                .optEarlyStopping(io.distill4j.trainer.EarlyStopping.of("nll", 2, 0.0, true)).build()).build());
        assertTrue(e.getMessage().contains("early stopping needs validation rows"), e.getMessage());
        Path file = dir.resolve("file");
        Files.writeString(file, "x");
        BadInputException b = assertThrows(BadInputException.class, () -> run(teacher, "mean").build()
                .fit(file.resolve("run")));
        assertTrue(b.getMessage().startsWith(file.resolve("run") + ": cannot write the run folder"), b.getMessage());
        assertFalse(Files.exists(file.resolveSibling("cache")), "nothing was created");
    }

    @Test
    void aRunFolderThatFailsAfterTrainingLosesNothingAndNamesWhereTheResultsWent(@TempDir Path dir) throws Exception {
        Path runDir = dir.resolve("run");
        boolean[] broken = {false};
        Distillation d = Distillation.builder().data(IRIS).teacher(Teachers.deterministic(Mlp.builder().setHidden(8))
                .samples(1).training(FAST)).target("mean").loss("soft-ce").student(Mlp.builder().setHidden(8)).students(2)
                .training(FAST.toBuilder().setEpochs(2).build()).evaluationPasses(0).cacheDir(dir.resolve("cache"))
                .log(line -> {
                    if (!broken[0]) { // checked and created by now: break it before any work, as a disk that fails late
                        broken[0] = true;
                        try {
                            Files.delete(runDir);
                            Files.writeString(runDir, "in the way");
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }
                }).build();
        BadInputException e = assertThrows(BadInputException.class, () -> d.fit(runDir));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(runDir.toString())
                + ": cannot write the run folder after training \\(.+\\); nothing is lost: the results and the students not "
                + "saved there were written to (.+) instead").matcher(e.getMessage());
        assertTrue(m.matches(), e.getMessage());
        Path rescue = Path.of(m.group(1));
        try {
            assertTrue(rescue.getFileName().toString().startsWith("distill4j-rescue-run-"), rescue.toString());
            for (String f : List.of("results.md", "results.json", "model-card.md", "model-card.json")) {
                assertTrue(Files.size(rescue.resolve(f)) > 0, f);
            }
            for (long seed : new long[] {1, 2}) {
                try (ai.djl.Model student = SavedStudent.load(rescue.resolve("students/seed-" + seed), Device.cpu())) {
                    assertEquals(3, io.distill4j.models.Inference.probabilities(student, IRIS.test().features(), false)[0].length);
                }
            }
            assertTrue(Files.readString(rescue.resolve("results.md")).contains("accuracy"));
        } finally {
            try (java.util.stream.Stream<Path> s = Files.walk(rescue)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}

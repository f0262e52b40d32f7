package io.distill4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.data.BadInputException;
import io.distill4j.data.SampleStatistics;
import io.distill4j.data.TeacherCache;
import io.distill4j.teacher.SampleProgress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleJobTest {

    private static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));

    private static Map<String, Object> config(Path cache, String dataset, String type) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("cache", cache.toString());
        c.put("k", 6);
        c.put("seed", 3);
        c.put("batchSize", 16);
        c.put("rowsPerShard", 40);
        c.put("data", new LinkedHashMap<>(Map.of("dataset", dataset, "standardize", true)));
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("type", type);
        t.put("model", new LinkedHashMap<>(Map.of("hidden", List.of(16), "dropout", 0.3)));
        t.put("train", new LinkedHashMap<>(Map.of("epochs", 6, "batchSize", 16, "learningRate", 0.02)));
        c.put("teacher", t);
        return c;
    }

    private static SampleSpec spec(Map<String, Object> c) {
        return SampleSpec.parse(c, HOME.resolve("job.yaml"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> teacher(Map<String, Object> c) {
        return (Map<String, Object>) c.get("teacher");
    }

    @Test
    void mcDropoutJobTrainsSavesAndResumesToTheSameCache(@TempDir Path dir) {
        List<String> log = new ArrayList<>();
        SampleJob.Result a = SampleJob.run(spec(config(dir.resolve("a"), "iris", "mc-dropout")), Device.cpu(),
                SampleProgress.NONE, log::add);
        assertEquals(120, a.items(), "the train part of iris (80%)");
        assertEquals(0, a.resumedFrom());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("training the teacher")), log.toString());
        assertTrue(Files.exists(dir.resolve("a-teacher/teacher-0000.params")));
        // interrupted run: stop after the third batch
        Map<String, Object> cb = config(dir.resolve("b"), "iris", "mc-dropout");
        int[] calls = {0};
        assertThrows(IllegalStateException.class, () -> SampleJob.run(spec(cb), Device.cpu(), (done, total) -> {
            if (++calls[0] == 4) {
                throw new IllegalStateException("interrupted");
            }
        }, l -> { }));
        long partial = TeacherCache.open(dir.resolve("b")).manifest().items();
        assertTrue(partial > 0 && partial < 120, "partial " + partial);
        List<String> log2 = new ArrayList<>();
        SampleJob.Result b = SampleJob.run(spec(cb), Device.cpu(), SampleProgress.NONE, log2::add);
        assertEquals(partial, b.resumedFrom());
        assertTrue(log2.stream().anyMatch(l -> l.startsWith("loading the teacher trained by an earlier run")), log2.toString());
        float[][][] sa = TeacherCache.open(dir.resolve("a")).readAll();
        float[][][] sb = TeacherCache.open(dir.resolve("b")).readAll();
        for (int i = 0; i < 120; i++) {
            for (int j = 0; j < 6; j++) {
                assertArrayEquals(sa[i][j], sb[i][j], 1e-6f, "item " + i + " sample " + j);
            }
        }
        TeacherCache c = TeacherCache.open(dir.resolve("a"));
        assertEquals("mc-dropout", c.manifest().teacher().get("name"));
        assertEquals(6, c.manifest().k());
        assertEquals(3, c.manifest().width());
        assertTrue(SampleStatistics.of(sa[0]).count() == 6);
    }

    @Test
    void everyTeacherTypeRuns(@TempDir Path dir) {
        Map<String, Object> ens = config(dir.resolve("ens"), "iris", "ensemble");
        ens.remove("k");
        teacher(ens).put("members", 2);
        TeacherCache e = TeacherCache.open(SampleJob.run(spec(ens), Device.cpu(), SampleProgress.NONE, l -> { }).cache());
        assertEquals(2, e.manifest().k());
        assertTrue(Files.exists(dir.resolve("ens-teacher/member-1/teacher-0000.params")));

        Map<String, Object> lap = config(dir.resolve("lap"), "wine", "laplace");
        teacher(lap).put("laplace", Map.of("hessian", "diagonal", "priorPrecision", 2.0));
        teacher(lap).put("temperature", 2.0);
        TeacherCache l = TeacherCache.open(SampleJob.run(spec(lap), Device.cpu(), SampleProgress.NONE, s -> { }).cache());
        assertEquals("diagonal-ggn", l.manifest().teacher().get("hessian"));
        assertEquals(2.0, l.manifest().teacher().get("temperature"));

        Map<String, Object> det = config(dir.resolve("det"), "iris", "deterministic");
        det.put("k", 1);
        teacher(det).put("output", "logits");
        TeacherCache d = TeacherCache.open(SampleJob.run(spec(det), Device.cpu(), SampleProgress.NONE, s -> { }).cache());
        assertEquals("logits", d.manifest().signal());

        Map<String, Object> noise = config(dir.resolve("noise"), "diabetes", "output-noise");
        teacher(noise).put("noise", Map.of("a", 0.5));
        teacher(noise).put("model", Map.of("hidden", List.of(16)));
        TeacherCache n = TeacherCache.open(SampleJob.run(spec(noise), Device.cpu(), SampleProgress.NONE, s -> { }).cache());
        assertEquals("regression", n.manifest().task());
        // standardised targets: Var(y_train) = 1, so the noise variance is a = 0.5
        assertEquals(List.of(0.5), ((List<?>) n.manifest().teacher().get("noiseVariance")).stream()
                .map(v -> Math.round(((Number) v).doubleValue() * 1e6) / 1e6).toList());
    }

    @Test
    void aCheckpointIsLoadedInsteadOfTraining(@TempDir Path dir) {
        SampleJob.run(spec(config(dir.resolve("first"), "iris", "mc-dropout")), Device.cpu(), SampleProgress.NONE, l -> { });
        Map<String, Object> c = config(dir.resolve("second"), "iris", "mc-dropout");
        teacher(c).remove("train");
        teacher(c).put("checkpoint", dir.resolve("first-teacher").toString());
        List<String> log = new ArrayList<>();
        SampleJob.run(spec(c), Device.cpu(), SampleProgress.NONE, log::add);
        assertTrue(log.stream().anyMatch(l -> l.startsWith("loading teacher checkpoint")), log.toString());
        assertEquals(TeacherCache.open(dir.resolve("first")).manifest().teacher().get("weightsSha256"),
                TeacherCache.open(dir.resolve("second")).manifest().teacher().get("weightsSha256"));
        Map<String, Object> wrong = config(dir.resolve("third"), "iris", "mc-dropout");
        teacher(wrong).put("checkpoint", dir.resolve("first-teacher").toString());
        teacher(wrong).put("model", Map.of("hidden", List.of(32), "dropout", 0.2));
        BadInputException e = assertThrows(BadInputException.class,
                () -> SampleJob.run(spec(wrong), Device.cpu(), SampleProgress.NONE, l -> { }));
        assertTrue(e.getMessage().contains("teacher-0000.params") && e.getMessage().contains("teacher.model"), e.getMessage());
    }

    @Test
    void aDamagedTeacherCheckpointIsNamedAsDamagedNotBlamedOnTheConfiguration(@TempDir Path dir) throws Exception {
        Map<String, Object> first = config(dir.resolve("first"), "iris", "mc-dropout");
        SampleJob.run(spec(first), Device.cpu(), SampleProgress.NONE, l -> { });
        Path saved = dir.resolve("first-teacher");
        Path params = saved.resolve("teacher-0000.params");
        assertEquals(List.of("SHA256SUMS", "teacher-0000.params"), Files.list(saved).map(p -> p.getFileName().toString())
                .sorted().toList());
        byte[] bytes = Files.readAllBytes(params);
        bytes[bytes.length / 2] ^= 0x10; // one bit in a weight: DJL would load it without a word
        Files.write(params, bytes);
        Map<String, Object> c = config(dir.resolve("second"), "iris", "mc-dropout");
        teacher(c).remove("train");
        teacher(c).put("checkpoint", saved.toString());
        BadInputException e = assertThrows(BadInputException.class,
                () -> SampleJob.run(spec(c), Device.cpu(), SampleProgress.NONE, l -> { }));
        assertTrue(e.getMessage().matches(java.util.regex.Pattern.quote(params.toString()) + ": damaged: its SHA-256 "
                + "[0-9a-f]{64} differs from the [0-9a-f]{64} recorded in SHA256SUMS when it was written; restore the "
                + "teacher checkpoint " + java.util.regex.Pattern.quote(saved.toString()) + " from a copy, or train a new "
                + "teacher into a new cache"), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("second")), "the teacher is checked before the cache is created");
        // The job's own saved teacher, met again when the first job is rerun, is checked the same way.
        BadInputException rerun = assertThrows(BadInputException.class,
                () -> SampleJob.run(spec(first), Device.cpu(), SampleProgress.NONE, l -> { }));
        assertEquals(e.getMessage(), rerun.getMessage());
        // A checkpoint saved without checksums (by an older distill4j, or copied without them) and cut short.
        Files.delete(saved.resolve("SHA256SUMS"));
        Files.write(params, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        BadInputException cut = assertThrows(BadInputException.class,
                () -> SampleJob.run(spec(c), Device.cpu(), SampleProgress.NONE, l -> { }));
        assertTrue(cut.getMessage().startsWith(params + ": damaged, or saved from another architecture: cannot load it ("),
                cut.getMessage());
        assertTrue(cut.getMessage().endsWith("); check the file and teacher.model"), cut.getMessage());
        assertFalse(cut.getMessage().contains("null"), cut.getMessage());
    }

    @Test
    void configFaultsNameTheFileAndField(@TempDir Path dir) throws Exception {
        Map<String, Object> c = config(dir.resolve("x"), "iris", "mc-dropout");
        teacher(c).put("hiden", 3);
        assertMessage(c, "field teacher.hiden: unknown key 'hiden'; known keys: checkpoint, checkpoints, laplace, members, model,"
                + " noise, output, temperature, train, type");
        c = config(dir.resolve("x"), "iris", "mc-dropout");
        teacher(c).put("type", "bayes");
        assertMessage(c, "field teacher.type: unknown value 'bayes'");
        c = config(dir.resolve("x"), "iris", "mc-dropout");
        teacher(c).put("output", "values");
        assertMessage(c, "field teacher.output: 'values' does not fit the classification dataset iris");
        c = config(dir.resolve("x"), "diabetes", "laplace");
        assertMessage(c, "laplace is a classification teacher");
        c = config(dir.resolve("x"), "iris", "mc-dropout");
        c.put("k", "many");
        assertMessage(c, "field k: expected an integer, got 'many'");
        c = config(dir.resolve("x"), "iris", "mc-dropout");
        teacher(c).put("train", Map.of("epochs", 2.5));
        assertMessage(c, "field teacher.train.epochs: expected an integer, got '2.5'");
        c = config(dir.resolve("x"), "iris", "mc-dropout");
        teacher(c).put("train", Map.of("epochs", 0));
        assertMessage(c, "field teacher.train: epochs must be positive");
        c = config(dir.resolve("x"), "iris", "mc-dropout");
        c.put("data", "iris");
        assertMessage(c, "field data: expected a mapping of keys, got 'iris'");
        c = config(dir.resolve("x"), "iris", "mc-dropout");
        teacher(c).put("model", Map.of("hidden", List.of(16, -2)));
        assertMessage(c, "field teacher.model.hidden[1]: must be positive, got -2");
        c = config(dir.resolve("x"), "iris", "mc-dropout");
        c.remove("cache");
        assertMessage(c, "field cache: required");
        Path yaml = dir.resolve("bad.yaml");
        Files.writeString(yaml, "cache: [unclosed\n");
        BadInputException e = assertThrows(BadInputException.class, () -> SampleSpec.load(yaml));
        assertTrue(e.getMessage().startsWith(yaml + ":1:17: malformed YAML"), e.getMessage());
        Path good = dir.resolve("good.yaml");
        Files.writeString(good, "cache: " + dir.resolve("y") + "\nk: 4\ndata:\n  dataset: iris\nteacher:\n  type: mc-dropout\n"
                + "  model: {hidden: [8], dropout: 0.1}\n");
        SampleSpec s = SampleSpec.load(good);
        assertEquals(4, s.k());
        assertArrayEquals(new int[] {8}, s.teacher().hidden());
        assertEquals(0.1f, s.teacher().dropout());
    }

    @Test
    void theMemoryBudgetIsReadAndSettingsThatCannotFitAreRefusedBeforeTheTeacherIsTrained(@TempDir Path dir) {
        Map<String, Object> c = config(dir.resolve("x"), "iris", "deterministic");
        assertEquals(256, spec(c).memoryBudgetMiB(), "default");
        c.put("memoryBudgetMiB", 0);
        assertMessage(c, "field memoryBudgetMiB: must be a positive integer, got 0");
        // a deterministic teacher cannot split a batch: 16 inputs x k = 100,000 x 3 classes do not fit 8 MiB
        Map<String, Object> det = config(dir.resolve("x"), "iris", "deterministic");
        det.put("k", 100_000);
        det.put("memoryBudgetMiB", 8);
        BadInputException e = assertThrows(BadInputException.class, () -> SampleJob.run(spec(det), Device.cpu(),
                (done, total) -> { }, line -> { }));
        assertTrue(e.getMessage().startsWith(HOME.resolve("job.yaml") + ": field batchSize: 16 inputs x k=100000 samples need about"),
                e.getMessage());
        assertFalse(Files.exists(dir.resolve("x-teacher")), "refused before the teacher is trained");
        Map<String, Object> big = config(dir.resolve("x"), "iris", "mc-dropout");
        big.put("k", 100_000);
        big.put("memoryBudgetMiB", 4);
        e = assertThrows(BadInputException.class, () -> SampleJob.run(spec(big), Device.cpu(), (done, total) -> { },
                line -> { }));
        assertTrue(e.getMessage().startsWith(HOME.resolve("job.yaml") + ": field memoryBudgetMiB: one item's k=100000 x 3 float32 samples"
                + " take 1.1 MiB, over a quarter of the budget 4.0 MiB"), e.getMessage());
    }

    private static void assertMessage(Map<String, Object> c, String fragment) {
        BadInputException e = assertThrows(BadInputException.class, () -> spec(c));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertTrue(e.getMessage().matches(java.util.regex.Pattern.quote(HOME.resolve("job.yaml").toString()) + ":\\d+:\\d+: .*"),
                "file:line:column first: " + e.getMessage());
    }

    @Test
    void everyShippedExampleParses() throws Exception {
        Path examples = HOME.resolve("modules/teacher/examples");
        List<Path> files;
        try (var s = Files.list(examples)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertEquals(7, files.size(), files.toString());
        for (Path f : files) {
            SampleSpec spec = SampleSpec.load(f);
            if (spec.isSequence()) {
                assertTrue(Files.isRegularFile(spec.sequence().prompts()), f + ": its prompts are shipped");
            } else {
                assertTrue(SampleSpec.TYPES.contains(spec.teacher().type()), f.toString());
            }
            assertEquals(HOME.toAbsolutePath().normalize().resolve("runs"), spec.cache().getParent(),
                    f + ": examples write under the home's runs/ (paths are relative to the job file)");
        }
    }
}

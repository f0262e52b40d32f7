package io.distill4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.cli.TrainJob;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.models.lm.io.PeftAdapter;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.StudentOutcomes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --engine local[2]} with a causal-LM config (the tiny Llama fixture as the {@code lm} teacher,
 * {@code models/llama-tiny.yaml} students, token-level KD, two seeds): the sample job's cache is filled by tasks, each
 * student is a task of its own ({@code students/seed-N/outcome.json}), and the merge gives the plain {@code train}
 * run's results, model card and saved students, as does training seed 2, then seed 1, then the merge in this JVM; a
 * rerun after one student's outcome (and the run's results) is deleted trains that student only. The same holds for
 * LoRA students (each seed a task; the merge reads the trained block back from {@code base/} and {@code adapter/}).
 */
class SparkLmGridTest {

    static final Path PRESET = SparkLmSamplingTest.HOME.resolve("models/llama-tiny.yaml").toAbsolutePath();

    @TempDir
    static Path dir;

    static Path config(Path sample) throws IOException {
        return config(dir, sample, "");
    }

    /** A token-KD config of two {@code llama-tiny} students in {@code in}, runs under {@code in/runs}. */
    static Path config(Path in, Path sample, String extra) throws IOException {
        Path file = in.resolve("lm.yaml");
        Files.writeString(file, "sample: " + sample + "\nstudent: " + PRESET + "\nout: " + in.resolve("runs")
                + "\nstudents: 2\ndraws: per-student\nlm: {mode: token-kd, alpha: 0.5, heldOut: 0.4}\n"
                + "training: {epochs: 2, batchSize: 4, learningRate: 0.003, warmupSteps: 1}\n" + extra);
        return file;
    }

    /** The files a saved student folder holds (a LoRA student's base and adapter too), compared as bytes. */
    static final List<String> STUDENT_FILES = List.of(HfFolder.CONFIG, HfFolder.WEIGHTS, HfFolder.TOKENIZER,
            "metrics.json");
    static final List<String> LORA_FILES = List.of("base/" + HfFolder.CONFIG, "base/" + HfFolder.WEIGHTS,
            "base/" + HfFolder.TOKENIZER, "adapter/" + PeftAdapter.CONFIG, "adapter/" + PeftAdapter.WEIGHTS);

    /** The files of a saved student folder, as bytes (a LoRA student's base, when saved, and adapter too). */
    static void assertSameStudent(Path want, Path have) throws IOException {
        for (String f : STUDENT_FILES) {
            assertEquals(-1, Files.mismatch(want.resolve(f), have.resolve(f)), have.resolve(f) + " differs");
        }
        for (String f : LORA_FILES) {
            assertEquals(Files.exists(want.resolve(f)), Files.exists(have.resolve(f)), f);
            if (Files.exists(want.resolve(f))) {
                assertEquals(-1, Files.mismatch(want.resolve(f), have.resolve(f)), have.resolve(f) + " differs");
            }
        }
    }

    @Test
    void eachSeedIsATaskAndTheMergeEqualsAPlainRunAndARerunTrainsOnlyTheMissingSeed() throws IOException {
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "hello world\nthe cat sat\non the mat\nwhere is it\nred and blue\n");
        Path sample = SparkLmSamplingTest.job(dir, "qa", prompts);
        Path config = config(sample);
        Path grid = dir.resolve("grid");
        TestSpark.stop();   // each command starts (and stops) its own context
        Object[] r = CommandLineEngineTest.cli("train", "--engine", "local[2]", "--out", grid.toString(),
                config.toString());
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[2]).contains("to sample on local[2]"), "the lm job was sampled as tasks: " + r[2]);
        Path cell = grid.resolve("lm");
        assertTrue(Files.isRegularFile(StudentOutcomes.file(cell, 1)), "seed 1 stored apart");
        assertTrue(Files.isRegularFile(StudentOutcomes.file(cell, 2)), "seed 2 stored apart");

        Object[] plain = CommandLineEngineTest.cli("train", config.toString());
        assertEquals(0, plain[0], (String) plain[2]);
        Path runDir;
        try (Stream<Path> runs = Files.list(dir.resolve("runs"))) {
            runDir = runs.findFirst().orElseThrow();
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> want = json.readValue(runDir.resolve("results.json").toFile(), new TypeReference<>() { });
        assertMerged(json, want, runDir, cell);
        assertFalse(((Map<?, ?>) want.get("interStudentVariance")).isEmpty(), "the parameter variance is computed");

        // seed by seed in this JVM, seed 2 first: the same run (the order tasks take does not matter)
        Path apart = dir.resolve("apart");
        Distillation d = TrainJob.prepare(config).run();
        assertEquals(List.of(1L, 2L), d.separableSeeds());
        assertNull(d.fitStudents(apart, List.of(2L)));
        assertTrue(Files.isRegularFile(StudentOutcomes.file(apart, 2)));
        assertFalse(Files.exists(StudentOutcomes.file(apart, 1)));
        assertNull(TrainJob.prepare(config).run().fitStudents(apart, List.of(1L)));
        assertEquals(2, TrainJob.prepare(config).run().fitStudents(apart, List.of(1L, 2L)).students());
        assertMerged(json, want, runDir, apart);

        // interrupted after seed 1: seed 2's outcome and the run's results are gone
        Path seed1 = cell.resolve("students/seed-1");
        FileTime weights1 = Files.getLastModifiedTime(seed1.resolve(HfFolder.WEIGHTS));
        FileTime outcome1 = Files.getLastModifiedTime(StudentOutcomes.file(cell, 1));
        FileTime outcome2 = Files.getLastModifiedTime(StudentOutcomes.file(cell, 2));
        Files.delete(StudentOutcomes.file(cell, 2));
        Files.delete(cell.resolve("results.json"));
        Object[] again = CommandLineEngineTest.cli("train", "--engine", "local[2]", "--out", grid.toString(),
                config.toString());
        assertEquals(0, again[0], (String) again[2]);
        assertEquals(weights1, Files.getLastModifiedTime(seed1.resolve(HfFolder.WEIGHTS)), "seed 1 not trained again");
        assertEquals(outcome1, Files.getLastModifiedTime(StudentOutcomes.file(cell, 1)), "seed 1 not stored again");
        assertTrue(Files.isRegularFile(StudentOutcomes.file(cell, 2)), "seed 2 trained and stored again");
        assertTrue(Files.getLastModifiedTime(StudentOutcomes.file(cell, 2)).compareTo(outcome2) >= 0);
        assertMerged(json, want, runDir, cell);
    }

    /**
     * LoRA students (rank 4 on q and v): each seed is a task that saves the merged folder, {@code base/} and
     * {@code adapter/}; the merge reads each trained block back (base plus adapter) so the inter-student variance of
     * parameters, results, model card and every saved file equal a plain {@code train}; a rerun after seed 2's outcome
     * and the run's results are deleted trains seed 2 only; LoRA on a student folder splits alike.
     */
    @Test
    void loraStudentsAreTasksTooAndTheMergeEqualsAPlainRun() throws IOException {
        Path in = Files.createDirectories(dir.resolve("lora"));
        Path prompts = in.resolve("prompts.txt");
        Files.writeString(prompts, "hello world\nthe cat sat\non the mat\nwhere is it\nred and blue\n");
        Path config = config(in, SparkLmSamplingTest.job(in, "qa", prompts),
                "lora: {rank: 4, alpha: 8, targets: [q, v]}\n");
        assertEquals(List.of(1L, 2L), TrainJob.prepare(config).run().separableSeeds());
        Path grid = in.resolve("grid");
        TestSpark.stop();   // each command starts (and stops) its own context
        Object[] r = CommandLineEngineTest.cli("train", "--engine", "local[2]", "--out", grid.toString(),
                config.toString());
        assertEquals(0, r[0], (String) r[2]);
        Path cell = grid.resolve("lm");
        for (long seed : List.of(1L, 2L)) {
            assertTrue(Files.isRegularFile(StudentOutcomes.file(cell, seed)), "seed " + seed + " stored apart");
        }
        Object[] plain = CommandLineEngineTest.cli("train", config.toString());
        assertEquals(0, plain[0], (String) plain[2]);
        Path runDir;
        try (Stream<Path> runs = Files.list(in.resolve("runs"))) {
            runDir = runs.findFirst().orElseThrow();
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> want = json.readValue(runDir.resolve("results.json").toFile(), new TypeReference<>() { });
        Object parameters = ((Map<?, ?>) want.get("interStudentVariance")).get("parameters");
        assertTrue(parameters instanceof Number n && n.doubleValue() > 0, "the parameter variance is computed: "
                + want.get("interStudentVariance"));
        assertTrue(Files.readString(runDir.resolve("model-card.md")).contains("- lora: rank 4"));
        assertMerged(json, want, runDir, cell);

        Path adapter1 = cell.resolve("students/seed-1/adapter").resolve(PeftAdapter.WEIGHTS);
        FileTime weights1 = Files.getLastModifiedTime(adapter1);
        FileTime outcome1 = Files.getLastModifiedTime(StudentOutcomes.file(cell, 1));
        Files.delete(StudentOutcomes.file(cell, 2));
        Files.delete(cell.resolve("results.json"));
        Object[] again = CommandLineEngineTest.cli("train", "--engine", "local[2]", "--out", grid.toString(),
                config.toString());
        assertEquals(0, again[0], (String) again[2]);
        assertEquals(weights1, Files.getLastModifiedTime(adapter1), "seed 1 not trained again");
        assertEquals(outcome1, Files.getLastModifiedTime(StudentOutcomes.file(cell, 1)), "seed 1 not stored again");
        assertTrue(Files.isRegularFile(StudentOutcomes.file(cell, 2)), "seed 2 trained and stored again");
        assertMerged(json, want, runDir, cell);

        // LoRA on a student folder (the tiny Llama itself): the base is that folder; seed 2, seed 1, then the merge
        // in this JVM equal one fit (each student's adapters are drawn from its seed, not from the JVM's history)
        Path folderConfig = in.resolve("folder.yaml");
        Files.writeString(folderConfig, Files.readString(config).replace("student: " + PRESET,
                "student: " + SparkLmSamplingTest.TEACHER));
        Path one = in.resolve("folder-fit");
        TrainJob.prepare(folderConfig).run().fit(one);
        Map<String, Object> wantFolder = json.readValue(one.resolve("results.json").toFile(), new TypeReference<>() { });
        Path apart = in.resolve("folder-apart");
        assertNull(TrainJob.prepare(folderConfig).run().fitStudents(apart, List.of(2L)));
        assertNull(TrainJob.prepare(folderConfig).run().fitStudents(apart, List.of(1L)));
        assertEquals(2, TrainJob.prepare(folderConfig).run().fitStudents(apart, List.of(1L, 2L)).students());
        assertFalse(Files.exists(apart.resolve("students/seed-1/base")), "the base is the student folder");
        assertMerged(json, wantFolder, one, apart);
    }

    /** The grid's cell equals the plain run: results, model card (up to provenance), saved students byte for byte. */
    static void assertMerged(ObjectMapper json, Map<String, Object> want, Path runDir, Path cell) throws IOException {
        Map<String, Object> have = json.readValue(cell.resolve("results.json").toFile(), new TypeReference<>() { });
        for (String key : List.of("students", "aggregates", "interStudentVariance", "settings")) {
            assertEquals(want.get(key), have.get(key), key);
        }
        assertEquals(2, ((List<?>) have.get("students")).size());
        assertEquals(CommandLineEngineTest.withoutProvenance(runDir.resolve("model-card.md")),
                CommandLineEngineTest.withoutProvenance(cell.resolve("model-card.md")), "model card");
        for (long seed : List.of(1L, 2L)) {
            assertSameStudent(runDir.resolve("students/seed-" + seed), cell.resolve("students/seed-" + seed));
        }
    }
}

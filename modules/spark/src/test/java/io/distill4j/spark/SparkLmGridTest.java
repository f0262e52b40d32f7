package io.distill4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.cli.TrainJob;
import io.distill4j.models.lm.io.HfFolder;
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
 * rerun after one student's outcome (and the run's results) is deleted trains that student only; a LoRA run stays one
 * piece.
 */
class SparkLmGridTest {

    static final Path PRESET = SparkLmSamplingTest.HOME.resolve("models/llama-tiny.yaml").toAbsolutePath();

    @TempDir
    static Path dir;

    static Path config(Path sample) throws IOException {
        Path file = dir.resolve("lm.yaml");
        Files.writeString(file, "sample: " + sample + "\nstudent: " + PRESET + "\nout: " + dir.resolve("runs")
                + "\nstudents: 2\ndraws: per-student\nlm: {mode: token-kd, alpha: 0.5, heldOut: 0.4}\n"
                + "training: {epochs: 2, batchSize: 4, learningRate: 0.003, warmupSteps: 1}\n");
        return file;
    }

    /** The files of a saved student folder and of its outcome, as bytes. */
    static void assertSameStudent(Path want, Path have) throws IOException {
        for (String f : List.of(HfFolder.CONFIG, HfFolder.WEIGHTS, HfFolder.TOKENIZER, "metrics.json")) {
            assertEquals(-1, Files.mismatch(want.resolve(f), have.resolve(f)), have.resolve(f) + " differs");
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
        // a LoRA run's saved folder is the merged model, not the trained block: it stays one piece
        Path lora = dir.resolve("lora.yaml");
        Files.writeString(lora, Files.readString(config) + "lora: {rank: 4, alpha: 8, targets: [q, v]}\n");
        assertEquals(List.of(), TrainJob.prepare(lora).run().separableSeeds());

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
     * A model card up to its provenance section, with the teacher's provenance map written in a fixed order: the card
     * prints the cache manifest's map, whose iteration order ({@code Map.copyOf} in {@code CacheManifest}) depends on
     * the key order of the manifest file it was read from, which a later writer of the cache may change.
     */
    static String card(Path runDir) throws IOException {
        return CommandLineEngineTest.withoutProvenance(runDir.resolve("model-card.md")).lines()
                .map(l -> l.startsWith("- provenance: {") && l.endsWith("}")
                        ? "- provenance: " + java.util.Arrays.stream(l.substring(15, l.length() - 1).split(", "))
                                .sorted().toList()
                        : l)
                .collect(java.util.stream.Collectors.joining("\n"));
    }

    /** The grid's cell equals the plain run: results, model card (up to provenance), saved students byte for byte. */
    static void assertMerged(ObjectMapper json, Map<String, Object> want, Path runDir, Path cell) throws IOException {
        Map<String, Object> have = json.readValue(cell.resolve("results.json").toFile(), new TypeReference<>() { });
        for (String key : List.of("students", "aggregates", "interStudentVariance", "settings")) {
            assertEquals(want.get(key), have.get(key), key);
        }
        assertEquals(2, ((List<?>) have.get("students")).size());
        assertEquals(card(runDir), card(cell), "model card");
        for (long seed : List.of(1L, 2L)) {
            assertSameStudent(runDir.resolve("students/seed-" + seed), cell.resolve("students/seed-" + seed));
        }
    }
}

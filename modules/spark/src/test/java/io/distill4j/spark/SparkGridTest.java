package io.distill4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Datasets;
import io.distill4j.data.Standardizer;
import io.distill4j.data.TabularData;
import io.distill4j.models.Mlp;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.SavedStudent;
import io.distill4j.pipeline.StudentOutcomes;
import io.distill4j.pipeline.Teachers;
import io.distill4j.trainer.TrainingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A grid of distillation runs as Spark tasks equals the same runs made one after the other, and reruns reuse them. */
class SparkGridTest {

    /** Cells are target names; every cell distils iris into two students from seeds 1 and 2. */
    static final class Targets implements SparkGrid.Recipe<String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String name(String target) {
            return target;
        }

        @Override
        public Distillation build(String target) {
            TabularData.Split iris = Standardizer.standardise(Datasets.sklearn("iris").split(0.2, 0));
            TrainingSpec fast = TrainingSpec.builder().setEpochs(4).setBatchSize(16).setLearningRate(0.01f).build();
            return Distillation.builder().data(iris)
                    .teacher(Teachers.mcDropout(Mlp.builder().setHidden(16).optDropout(0.3f)).samples(2).training(fast))
                    .target(target).loss("soft-ce").student(Mlp.builder().setHidden(8).optDropout(0.2f)).students(2)
                    .evaluationPasses(2).training(fast).log(l -> { }).build();
        }
    }

    /** What a run measured: per-student metrics and updates, aggregates, inter-student variances. */
    static Map<String, Object> measured(Map<String, Object> results) {
        return Map.of("students", results.get("students"), "aggregates", results.get("aggregates"),
                "interStudentVariance", results.get("interStudentVariance"), "settings", results.get("settings"));
    }

    @Test
    void gridCellsEqualSequentialRunsAndAreNotTrainedTwice(@TempDir Path dir) throws IOException {
        List<String> cells = List.of("mean", "single");
        List<SparkGrid.CellResult> grid = SparkGrid.run(TestSpark.context(), dir.resolve("grid"), cells, new Targets());
        assertEquals(cells, grid.stream().map(SparkGrid.CellResult::name).toList());
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < cells.size(); i++) {
            SparkGrid.CellResult cell = grid.get(i);
            assertFalse(cell.reused());
            Path seqDir = dir.resolve("sequential").resolve(cells.get(i));
            new Targets().build(cells.get(i)).fit(seqDir);
            Map<String, Object> sequential = json.readValue(seqDir.resolve("results.json").toFile(),
                    new TypeReference<Map<String, Object>>() { });
            Map<String, Object> settings = new java.util.LinkedHashMap<>(measured(cell.results()));
            assertEquals(2, ((List<?>) settings.get("students")).size(), "two students, with their metrics");
            assertTrue(((Map<?, ?>) settings.get("aggregates")).containsKey("accuracy"), settings.toString());
            assertEquals(measured(sequential).get("students"), settings.get("students"), cells.get(i) + ": students");
            assertEquals(measured(sequential).get("aggregates"), settings.get("aggregates"), cells.get(i));
            assertEquals(measured(sequential).get("interStudentVariance"), settings.get("interStudentVariance"));
            assertTrue(Files.exists(dir.resolve("grid").resolve(cells.get(i)).resolve("model-card.md")));
            assertTrue(Files.exists(dir.resolve("grid").resolve(cells.get(i)).resolve("students/seed-2")));
        }
        List<SparkGrid.CellResult> again = SparkGrid.run(TestSpark.context(), dir.resolve("grid"), cells, new Targets());
        for (int i = 0; i < cells.size(); i++) {
            assertTrue(again.get(i).reused(), "a finished cell is read back");
            assertEquals(grid.get(i).resultsJson(), again.get(i).resultsJson());
        }

        // interrupted before the merge and before seed 2 of "mean" finished: the rerun trains seed 2 only, then
        // merges both students into the sequential run's numbers
        Path mean = dir.resolve("grid").resolve("mean");
        Files.delete(mean.resolve("results.json"));
        SparkSampling.deleteTree(mean.resolve("students/seed-2"));
        Path seed1 = mean.resolve("students/seed-1").resolve(SavedStudent.PARAMETERS);
        FileTime trained = Files.getLastModifiedTime(seed1);
        byte[] bytes = Files.readAllBytes(seed1);
        List<SparkGrid.CellResult> resumed = SparkGrid.run(TestSpark.context(), dir.resolve("grid"), cells,
                new Targets());
        assertFalse(resumed.get(0).reused());
        assertTrue(resumed.get(1).reused());
        assertEquals(trained, Files.getLastModifiedTime(seed1), "seed 1 was not trained again");
        assertArrayEquals(bytes, Files.readAllBytes(seed1));
        assertTrue(Files.exists(StudentOutcomes.file(mean, 2)), "seed 2 trained again");
        Map<String, Object> sequential = json.readValue(dir.resolve("sequential/mean/results.json").toFile(),
                new TypeReference<Map<String, Object>>() { });
        Map<String, Object> merged = resumed.get(0).results();
        for (String key : List.of("students", "aggregates", "interStudentVariance")) {
            assertEquals(measured(sequential).get(key), measured(merged).get(key), "mean after the rerun: " + key);
        }
    }

    @Test
    void aRunTrainedSeedBySeedAndMergedEqualsOneFit(@TempDir Path dir) throws IOException {
        // what the grid's tasks do, here in one JVM: seed 2, then seed 1, then the merge (which trains nothing)
        Distillation d = new Targets().build("mean");
        Path apart = dir.resolve("apart");
        assertEquals(List.of(1L, 2L), d.separableSeeds());
        assertEquals(null, d.fitStudents(apart, List.of()), "prepares only");
        assertFalse(Files.exists(apart.resolve("students")));
        assertEquals(null, new Targets().build("mean").fitStudents(apart, List.of(2L)));
        assertTrue(Files.exists(StudentOutcomes.file(apart, 2)));
        assertFalse(Files.exists(StudentOutcomes.file(apart, 1)));
        new Targets().build("mean").fitStudents(apart, List.of(1L));
        FileTime seed2 = Files.getLastModifiedTime(apart.resolve("students/seed-2").resolve(SavedStudent.PARAMETERS));
        RunResult merged = new Targets().build("mean").fitStudents(apart, List.of(1L, 2L));
        assertEquals(seed2, Files.getLastModifiedTime(apart.resolve("students/seed-2").resolve(SavedStudent.PARAMETERS)),
                "the merge trains nothing");
        RunResult one = new Targets().build("mean").fit(dir.resolve("one"));
        assertEquals(one.result().aggregates(), merged.result().aggregates());
        assertEquals(one.result().predictionVariance(), merged.result().predictionVariance());
        assertEquals(one.result().parameterVariance(), merged.result().parameterVariance());
        assertTrue(Double.isFinite(merged.result().parameterVariance()) && merged.result().parameterVariance() > 0);
        assertEquals(one.asMap().get("students"), merged.asMap().get("students"));
        // the model cards differ only in the run's times and the folder of the teacher cache (inside each run)
        String times = "(?m)^- (started|finished): .*$";
        assertEquals(one.modelCard().replaceAll(times, ""), merged.modelCard().replaceAll(times, "")
                .replace(apart.resolve("teacher-cache").toString(), dir.resolve("one/teacher-cache").toString()),
                "model cards");
    }

    @Test
    void duplicateOrUnsafeCellNamesAreRefusedBeforeAnyTask(@TempDir Path dir) {
        BadInputException twice = assertThrows(BadInputException.class,
                () -> SparkGrid.run(TestSpark.context(), dir, List.of("mean", "mean"), new Targets()));
        assertTrue(twice.getMessage().contains("two cells are named 'mean'"), twice.getMessage());
        BadInputException unsafe = assertThrows(BadInputException.class,
                () -> SparkGrid.run(TestSpark.context(), dir, List.of("../up"), new Targets()));
        assertTrue(unsafe.getMessage().contains("name '../up'"), unsafe.getMessage());
    }
}

package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.data.TeacherCache;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 item 10: one rule for relative paths, relative to the YAML file that names them, tested by running the
 * {@code distill4j} command in a separate JVM whose working directory is another folder.
 */
class RelativePathsTest {

    @Test
    void pathsInJobFilesAreRelativeToTheFileWhateverTheWorkingDirectory(@TempDir Path dir) throws Exception {
        Path jobs = Files.createDirectories(dir.resolve("project/jobs"));
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        String data = jobs.relativize(FaultsTest.HOME.resolve("datasets/sklearn")).toString();
        Files.writeString(jobs.resolve("sample.yaml"), "cache: ../caches/iris\nk: 2\ndata:\n  dataset: iris\n  dir: " + data
                + "\n  standardize: true\nteacher:\n  type: deterministic\n  model: {hidden: [4]}\n"
                + "  train: {epochs: 1, batchSize: 32}\n");
        Files.writeString(jobs.resolve("student.yaml"), "model_type: mlp\nhidden: [4]\n");
        Files.writeString(jobs.resolve("train.yaml"), "sample: sample.yaml\nstudent: student.yaml\nstudents: 2\n"
                + "out: ../runs\nevaluationPasses: 0\ntraining: {epochs: 1, batchSize: 32, progressBar: false}\n");

        Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Dai.djl.offline=true",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "train", "../project/jobs/train.yaml")
                .directory(elsewhere.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), out);
        assertEquals(0, p.exitValue(), out);

        assertEquals(120, TeacherCache.open(dir.resolve("project/caches/iris")).manifest().items(),
                "the sample job's cache beside its file, not under the working directory");
        assertTrue(Files.isRegularFile(dir.resolve("project/caches/iris-teacher/teacher-0000.params")));
        Path run;
        try (Stream<Path> s = Files.list(dir.resolve("project/runs"))) {
            run = s.findFirst().orElseThrow();
        }
        assertTrue(Files.isRegularFile(run.resolve("model-card.json")) && Files.isDirectory(run.resolve("students/seed-2")));
        try (Stream<Path> s = Files.list(elsewhere)) {
            assertEquals(List.of(), s.toList(), "nothing written to the working directory");
        }
    }

}

package io.distill4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.cli.Main;
import io.distill4j.data.CacheManifest;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.teacher.SampleProgress;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's {@code --engine} with this module on the class path, as {@code ./distill4j} runs it: the CLI
 * finds the Spark engine through {@code ServiceLoader}; {@code sample --engine local[2]} writes the cache a plain
 * {@code sample} writes, {@code train --engine local[2]} trains a grid of configs whose runs equal plain
 * {@code train} runs and are not trained again by a rerun; a master that is malformed or does not answer is one line,
 * exit 2, before anything is written.
 */
class CommandLineEngineTest {

    @TempDir
    static Path dir;
    static Path weights;

    /** An iris MC-dropout job (k = 5, batches of 16, shards of 32) on the teacher trained once for the class. */
    static Path job(String name) throws IOException {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, "cache: " + dir.resolve(name) + "\nk: 4\nseed: 3\nbatchSize: 16\nrowsPerShard: 32\n"
                + "data:\n  dataset: iris\n  standardize: true\n"
                + "teacher:\n  type: mc-dropout\n  model:\n    hidden: [16]\n    dropout: 0.3\n"
                + "  train:\n    epochs: 3\n    batchSize: 16\n    learningRate: 0.02\n"
                + (weights != null ? "  checkpoint: " + weights + "\n" : ""));
        return file;
    }

    /** A train config on a sample job: two students, a few epochs. */
    static Path train(String name, Path sample, String target) throws IOException {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, "sample: " + sample + "\nstudent: {model_type: mlp, hidden: [8], dropout: 0.2}\n"
                + "target: " + target + "\nloss: soft-ce\nout: " + dir.resolve("runs-" + name) + "\nstudents: 2\n"
                + "evaluationPasses: 2\ntraining:\n  epochs: 3\n  batchSize: 16\n  learningRate: 0.01\n");
        return file;
    }

    @BeforeAll
    static void trainTeacher() throws IOException {
        SampleJob.run(SampleSpec.load(job("trainer")), Device.cpu(), SampleProgress.NONE, l -> { });
        weights = dir.resolve("trainer-teacher");
        TestSpark.stop();   // each command starts (and stops) its own context
    }

    /** Runs the command line; returns the exit code, stdout and stderr. */
    static Object[] cli(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            int rc = Main.run(args);
            return new Object[] {rc, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void sampleWithASparkEngineWritesThePlainCommandsCache() throws IOException {
        Object[] plain = cli("sample", job("plain").toString());
        assertEquals(0, plain[0], (String) plain[2]);
        Object[] spark = cli("sample", "--engine", "local[2]", job("spark").toString());
        assertEquals(0, spark[0], (String) spark[2]);
        assertTrue(((String) spark[1]).contains(": 120 items x 4 samples (120 new, resumed from 0)"), (String) spark[1]);
        assertTrue(((String) spark[2]).contains("4 to sample on local[2]"), (String) spark[2]);
        Path want = dir.resolve("plain");
        Path have = dir.resolve("spark");
        CacheManifest m = CacheManifest.read(want);
        assertEquals(m, CacheManifest.read(have), "manifests");
        assertEquals(4, m.shards().size());
        for (CacheManifest.Shard s : m.shards()) {
            assertEquals(-1, Files.mismatch(want.resolve(s.file()), have.resolve(s.file())), s.file() + " differs");
        }
        assertTrue(Files.exists(have.resolve(SampleJob.RUNS_FILE)), "the run is recorded as a plain one is");
        assertFalse(Files.exists(have.resolve(SparkSampling.ATTEMPTS)));
    }

    @Test
    void aMasterThatIsMalformedOrDoesNotAnswerIsOneLineBeforeAnything() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();   // closed again: nothing listens there
        }
        String master = "spark://127.0.0.1:" + port;
        Object[] r = cli("sample", "--engine", master, job("unreachable").toString());
        assertEquals(2, r[0], (String) r[2]);
        assertEquals("distill4j: error: option --engine: cannot reach the Spark master " + master + ": Connection refused",
                oneLine(r));
        Object[] bad = cli("train", "--engine", "spark://nohost", train("bad", job("unreachable"), "mean").toString());
        assertEquals(2, bad[0], (String) bad[2]);
        assertEquals("distill4j: error: option --engine: 'spark://nohost' is not a Spark master (local[N], local[N,F],"
                + " spark://host:port, yarn, k8s://...)", oneLine(bad));
        assertFalse(Files.exists(dir.resolve("unreachable")), "no cache folder");
        assertFalse(Files.exists(dir.resolve("runs-bad")), "no run folder");
    }

    @Test
    void trainWithASparkEngineRunsEachConfigAsATaskEqualToAPlainRunAndResumes() throws IOException {
        Path sample = job("grid-cache");
        List<Path> configs = List.of(train("mean", sample, "mean"), train("single", sample, "single"));
        Path grid = dir.resolve("grid");
        Object[] r = cli("train", "--engine", "local[2]", "--out", grid.toString(), configs.get(0).toString(),
                configs.get(1).toString());
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("mean: " + grid.resolve("mean") + " (trained)"), (String) r[1]);
        assertTrue(Files.exists(dir.resolve("grid-cache/manifest.json")), "the sample job's cache was filled first");
        ObjectMapper json = new ObjectMapper();
        for (Path config : configs) {
            String name = config.getFileName().toString().replace(".yaml", "");
            Object[] plain = cli("train", config.toString());
            assertEquals(0, plain[0], (String) plain[2]);
            Path runDir;
            try (Stream<Path> runs = Files.list(dir.resolve("runs-" + name))) {
                runDir = runs.findFirst().orElseThrow();
            }
            Map<String, Object> want = json.readValue(runDir.resolve("results.json").toFile(), new TypeReference<>() { });
            Map<String, Object> have = json.readValue(grid.resolve(name).resolve("results.json").toFile(),
                    new TypeReference<>() { });
            for (String key : List.of("students", "aggregates", "interStudentVariance", "settings")) {
                assertEquals(want.get(key), have.get(key), name + ": " + key);
            }
            assertEquals(2, ((List<?>) have.get("students")).size());
            // each student was a task of its own (stored with its outcome), merged into the plain run's numbers
            assertTrue(Files.exists(io.distill4j.pipeline.StudentOutcomes.file(grid.resolve(name), 1)));
            assertTrue(Files.exists(io.distill4j.pipeline.StudentOutcomes.file(grid.resolve(name), 2)));
            assertEquals(withoutProvenance(runDir.resolve("model-card.md")),
                    withoutProvenance(grid.resolve(name).resolve("model-card.md")), name + ": model card");
        }
        Object[] again = cli("train", "--engine", "local[2]", "--out", grid.toString(), configs.get(0).toString(),
                configs.get(1).toString());
        assertEquals(0, again[0], (String) again[2]);
        assertTrue(((String) again[1]).contains("single: " + grid.resolve("single") + " (finished earlier, not trained"
                + " again)"), (String) again[1]);
    }

    /** A model card up to its provenance (command line, times), which differs between any two runs. */
    static String withoutProvenance(Path card) throws IOException {
        String text = Files.readString(card);
        int at = text.indexOf("## Provenance");
        assertTrue(at > 0, text);
        return text.substring(0, at);
    }

    /** The one line a failed command printed on stderr (no stack trace). */
    static String oneLine(Object[] r) {
        String err = ((String) r[2]).lines().filter(l -> !l.startsWith("distill4j sample: ")
                && !l.startsWith("distill4j train: ")).reduce((a, b) -> a + "\n" + b).orElse("").strip();
        assertFalse(err.contains("\n") || err.contains("\tat "), err);
        return err;
    }
}

package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.data.CacheManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --engine} on the command line's own class path, which has no Spark (modules/spark tests the found engine):
 * {@code local} is the plain run; a Spark master is one line naming what to add, exit 2, before any work.
 */
class EngineOptionTest {

    static final String NOT_FOUND = "distill4j: error: option --engine: no engine on the class path runs '%s': Spark"
            + " masters (local[N], spark://host:port, yarn, k8s://...) need modules/spark and Spark 4's jars, which"
            + " ./distill4j adds for --engine (it builds them with 'mvn -pl modules/spark -am package'); else put"
            + " distill4j-spark_2.13 and Spark 4 on the class path";

    @Test
    void sparkIsNotOnTheCommandLinesClassPath() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.apache.spark.SparkConf"));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("io.distill4j.spark.SparkSampleEngine"));
    }

    @Test
    void aSparkMasterWithoutTheSparkModuleIsOneLineAndNothingIsWritten(@TempDir Path dir) throws IOException {
        Path job = TrainJobTest.sampleConfig(dir.resolve("job"), "iris", 0.2, "mc-dropout",
                "  model: {hidden: [16], dropout: 0.2}\n");
        for (String engine : new String[] {"spark://127.0.0.1:7077", "local[2]", "yarn"}) {
            Object[] r = MainTest.run("sample", "--engine", engine, job.toString());
            assertEquals(Main.USER_ERROR, r[0], (String) r[1]);
            assertEquals(String.format(NOT_FOUND, engine), MainTest.oneLine(r));
        }
        assertFalse(Files.exists(dir.resolve("job/cache")), "no cache folder");
        assertFalse(Files.exists(dir.resolve("job/cache-teacher")), "no teacher trained");
        Path train = TrainJobTest.trainConfig(dir.resolve("train"), job, "mean", "soft-ce", "");
        Object[] r = MainTest.run("train", "--engine", "spark://127.0.0.1:7077", train.toString());
        assertEquals(Main.USER_ERROR, r[0], (String) r[1]);
        assertEquals(String.format(NOT_FOUND, "spark://127.0.0.1:7077"), MainTest.oneLine(r));
        assertFalse(Files.exists(dir.resolve("train/runs")), "no run folder");
    }

    @Test
    void engineLocalIsThePlainRunAndAGridNeedsAnEngine(@TempDir Path dir) throws IOException {
        Path job = TrainJobTest.sampleConfig(dir.resolve("job"), "iris", 0.2, "deterministic", "  model: {hidden: [8]}\n");
        Files.writeString(job, Files.readString(job).replace("epochs: 30", "epochs: 2"));
        Object[] r = MainTest.run("sample", "--engine", "local", job.toString());
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(120, CacheManifest.read(dir.resolve("job/cache")).items(), "iris's training part, sampled here");
        Path a = TrainJobTest.trainConfig(dir.resolve("a"), job, "mean", "soft-ce", "");
        Path b = TrainJobTest.trainConfig(dir.resolve("b"), job, "mean", "soft-ce", "");
        Object[] two = MainTest.run("train", a.toString(), b.toString());
        assertEquals(Main.USER_ERROR, two[0], (String) two[1]);
        assertEquals("distill4j: error: several train configs (2) form a grid: run them with --engine (e.g. --engine"
                + " local[2]), or one at a time", MainTest.oneLine(two));
        Object[] out = MainTest.run("train", "--out", dir.resolve("grid").toString(), a.toString());
        assertEquals(Main.USER_ERROR, out[0], (String) out[1]);
        assertTrue(MainTest.oneLine(out).startsWith("distill4j: error: option --out: only with --engine"));
        assertFalse(Files.exists(dir.resolve("a/runs")) || Files.exists(dir.resolve("grid")), "nothing trained");
    }
}

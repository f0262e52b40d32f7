package io.distill4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.teacher.SampleProgress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standalone master and worker on 127.0.0.1 with two executors of one core: one executor JVM is killed by its PID
 * while the job runs, and the cache still equals the single-machine one bit for bit.
 */
@org.junit.jupiter.api.condition.DisabledIfSystemProperty(named = "distill4j.spark.standalone", matches = "skip",
        disabledReason = "-Ddistill4j.spark.standalone=skip leaves out the cluster test (about 2 minutes on 2 cores)")
class StandaloneClusterTest {

    @Test
    void killingAnExecutorMidJobStillGivesTheLocalCache(@TempDir Path dir) throws Exception {
        Path data = Path.of(System.getProperty("distill4j.root", "../..")).resolve("datasets/sklearn").toAbsolutePath();
        String common = "k: 16\nseed: 11\nbatchSize: 16\nrowsPerShard: 32\n"
                + "data:\n  dataset: digits\n  scale: 0.0625\n  sample: all\n  dir: " + data + "\n"
                + "teacher:\n  type: mc-dropout\n  model:\n    hidden: [32]\n    dropout: 0.3\n"
                + "  train:\n    epochs: 2\n    batchSize: 64\n    learningRate: 0.02\n";
        // the cluster comes up in its own JVMs while this one trains the teacher and writes the local cache
        Path home = Path.of("target", "standalone-cluster").toAbsolutePath();
        SparkSampling.deleteTree(home);
        CompletableFuture<StandaloneCluster> starting = CompletableFuture.supplyAsync(() -> {
            try {
                return StandaloneCluster.start(home, 2);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Path localJob = dir.resolve("local.yaml");
        Files.writeString(localJob, "cache: " + dir.resolve("local") + "\n" + common);
        try {
            SampleJob.run(SampleSpec.load(localJob), Device.cpu(), SampleProgress.NONE, l -> { });
        } catch (RuntimeException e) {
            starting.thenAccept(StandaloneCluster::close);
            throw e;
        }
        Path clusterJob = dir.resolve("cluster.yaml");
        Files.writeString(clusterJob, "cache: " + dir.resolve("cluster") + "\n" + common
                + "  checkpoint: " + dir.resolve("local-teacher") + "\n");

        TestSpark.stop();   // one context per JVM
        // the cluster's folder (SPARK_HOME, logs, executor stderr) stays in target/ for a look after a failure
        try (StandaloneCluster cluster = starting.get(200, TimeUnit.SECONDS)) {
            SparkConf conf = SparkEngine.conf(cluster.url, "distill4j standalone test")
                    .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                    .set("spark.executor.cores", "1").set("spark.cores.max", "2").set("spark.executor.memory", "768m")
                    .set("spark.executor.extraClassPath", String.join(java.io.File.pathSeparator, cluster.classDirs));
            JavaSparkContext sc = SparkEngine.start(conf);
            try {
                Path cache = dir.resolve("cluster");
                CompletableFuture<SparkSampling.Outcome> job = CompletableFuture.supplyAsync(() -> SparkSampling.sample(sc,
                        clusterJob, new SparkSampling.Options("cpu", false, List.of()), l -> { }));
                // kill one executor JVM as soon as the first shard is committed
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
                boolean killed = false;
                long committedAtKill = -1;
                while (!job.isDone() && System.nanoTime() < deadline) {
                    if (parts(cache) > 0) {
                        List<ProcessHandle> executors = cluster.executors();
                        if (!executors.isEmpty()) {
                            committedAtKill = parts(cache);
                            killed = executors.get(0).destroyForcibly();
                            break;
                        }
                    }
                    Thread.sleep(20);
                }
                SparkSampling.Outcome o = job.get(300, TimeUnit.SECONDS);
                assertTrue(killed, "an executor was killed while the job ran");
                assertEquals(57, o.shards(), "1797 digits in shards of 32");
                assertTrue(committedAtKill < o.shards(), committedAtKill + " of " + o.shards() + " shards at the kill");
                SparkSamplingTest.assertSameCache(dir.resolve("local"), cache);
                assertFalse(Files.exists(cache.resolve(SparkSampling.ATTEMPTS)));
            } finally {
                sc.stop();
            }
        }
    }

    private static long parts(Path cache) throws java.io.IOException {
        if (!Files.isDirectory(cache)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(cache)) {
            return s.filter(p -> p.getFileName().toString().matches("part-\\d+\\.arrow")).count();
        }
    }
}

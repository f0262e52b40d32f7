package io.distill4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.TeacherCache;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.teacher.SampleProgress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Distributed sampling on {@code local[2,2]} against the single-machine {@code SampleJob} on the same teacher: same
 * manifest, same shard bytes; retried attempts, resumed runs and bad caches.
 */
class SparkSamplingTest {

    @TempDir
    static Path dir;
    /** The teacher's weights, trained once by a local job. */
    static Path weights;

    /** A job on iris's training part (120 rows), k = 5, batches of 16; with the shared teacher unless weights is null. */
    static Path job(String name, int rowsPerShard, long seed, boolean trained) throws IOException {
        String yaml = "cache: " + dir.resolve(name) + "\n"
                + "k: 5\nseed: " + seed + "\nbatchSize: 16\nrowsPerShard: " + rowsPerShard + "\n"
                + "data:\n  dataset: iris\n  standardize: true\n"
                + "teacher:\n  type: mc-dropout\n  model:\n    hidden: [16]\n    dropout: 0.3\n"
                + "  train:\n    epochs: 4\n    batchSize: 16\n    learningRate: 0.02\n"
                + (trained ? "  checkpoint: " + weights + "\n" : "");
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        return file;
    }

    /** The single-machine reference cache of a layout. */
    static Path local(String name, int rowsPerShard) throws IOException {
        SampleJob.run(SampleSpec.load(job(name, rowsPerShard, 7, true)), Device.cpu(), SampleProgress.NONE, l -> { });
        return dir.resolve(name);
    }

    @BeforeAll
    static void trainTeacher() throws IOException {
        SampleJob.run(SampleSpec.load(job("trainer", 40, 7, false)), Device.cpu(), SampleProgress.NONE, l -> { });
        weights = dir.resolve("trainer-teacher");
        assertTrue(Files.exists(weights.resolve("teacher-0000.params")));
    }

    static SparkSampling.Outcome spark(Path job, List<Integer> crash) {
        return SparkSampling.sample(TestSpark.context(), job, new SparkSampling.Options("cpu", false, crash), l -> { });
    }

    /** Same manifest (as parsed: its JSON map order is not fixed) and byte-identical shards. */
    static void assertSameCache(Path want, Path have) throws IOException {
        CacheManifest a = CacheManifest.read(want);
        CacheManifest b = CacheManifest.read(have);
        assertEquals(a, b, "manifests");
        for (CacheManifest.Shard s : a.shards()) {
            assertEquals(-1, Files.mismatch(want.resolve(s.file()), have.resolve(s.file())), s.file() + " differs");
        }
        TeacherCache.open(have).verify();
        try (Stream<Path> files = Files.list(have)) {
            // the shards and the manifest (and a sequence cache's tokenizer), and the runs' history a command adds
            // (runs.jsonl), nothing else
            List<String> names = files.map(p -> p.getFileName().toString())
                    .filter(f -> !f.equals(SampleJob.RUNS_FILE)).sorted().toList();
            List<String> expected = new ArrayList<>();
            a.shards().forEach(s -> expected.add(s.file()));
            expected.add(CacheManifest.FILE_NAME);
            // a sequence cache keeps its teacher's tokenizer, the same as the local run's
            Path tokenizer = want.resolve("tokenizer.json");
            if (Files.exists(tokenizer)) {
                assertEquals(-1, Files.mismatch(tokenizer, have.resolve("tokenizer.json")), "tokenizer.json differs");
                expected.add("tokenizer.json");
            }
            assertEquals(expected.stream().sorted().toList(), names, "no temporary files or attempt folders left");
        }
    }

    @Test
    void shardsCuttingBatchesEqualTheLocalCacheBitForBit() throws IOException {
        Path want = local("local40", 40);  // 40 is not a multiple of 16: tasks draw only their items of the batches they cut
        SparkSampling.Outcome o = spark(job("spark40", 40, 7, true), List.of());
        assertEquals(3, o.shards());
        assertEquals(3, o.scheduled());
        assertEquals(120, o.result().items());
        assertEquals(0, o.result().resumedFrom());
        assertSameCache(want, dir.resolve("spark40"));
        assertEquals(3, CacheManifest.read(want).shards().size(), "the local writer also cuts 3 shards");
    }

    /**
     * Tasks of three consecutive shards write them through one writer: the cache is the local one bit for bit, and a
     * task whose first attempt fails after committing its first shard (shard 1 of the task of shards 0-2) is retried,
     * finds that shard identical and commits the rest.
     */
    @Test
    void tasksOfSeveralShardsGiveTheLocalCacheAndSurviveAFailureMidTask() throws IOException {
        Path want = local("local16", 16);
        java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
        org.apache.spark.scheduler.SparkListener listener = new org.apache.spark.scheduler.SparkListener() {
            @Override
            public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd end) {
                if (!(end.reason() instanceof org.apache.spark.Success$)) {
                    failed.incrementAndGet();
                }
            }
        };
        TestSpark.context().sc().addSparkListener(listener);
        try {
            SparkSampling.Outcome o = SparkSampling.sample(TestSpark.context(), job("grouped16", 16, 7, true),
                    new SparkSampling.Options("cpu", false, List.of(1, 7), 3), l -> { });
            assertEquals(8, o.shards());
            assertEquals(8, o.scheduled());
            assertEquals(3, o.tasks(), "shards 0-2, 3-5, 6-7");
            assertSameCache(want, dir.resolve("grouped16"));
            for (int wait = 0; wait < 100 && failed.get() < 2; wait++) {
                Thread.sleep(50);   // the listener bus delivers events asynchronously
            }
            assertEquals(2, failed.get(), "the first attempts of the tasks holding shards 1 and 7 failed");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        } finally {
            TestSpark.context().sc().removeSparkListener(listener);
        }
    }

    @Test
    void shardsPerTaskFollowTheSettingOrAboutFourTasksPerCore() {
        assertEquals(8, SparkSampling.shardsPerTask(0, 29, 1), "29 shards, 1 core: 4 tasks (8, 8, 8, 5)");
        assertEquals(4, SparkSampling.shardsPerTask(0, 29, 2), "2 cores: 8 tasks");
        assertEquals(1, SparkSampling.shardsPerTask(0, 6, 2), "few shards: one per task");
        assertEquals(8, SparkSampling.shardsPerTask(0, 10_000, 4), "at most 8");
        assertEquals(5, SparkSampling.shardsPerTask(5, 29, 1), "asked for");
        assertEquals(0, SparkSampling.parseShardsPerTask(null), "not set: automatic");
        assertEquals(5, SparkSampling.parseShardsPerTask(" 5 "));
        BadInputException bad = assertThrows(BadInputException.class, () -> SparkSampling.parseShardsPerTask("0"));
        assertEquals("Spark setting spark.distill4j.shardsPerTask: must be a positive integer, got '0'", bad.getMessage());
        assertThrows(BadInputException.class, () -> SparkSampling.parseShardsPerTask("many"));
        List<SparkSampling.ShardTask> one = List.of(new SparkSampling.ShardTask(2, 32, 16),
                new SparkSampling.ShardTask(3, 48, 16), new SparkSampling.ShardTask(5, 80, 16),
                new SparkSampling.ShardTask(6, 96, 16), new SparkSampling.ShardTask(7, 112, 8));
        assertEquals(List.of(new SparkSampling.ShardTask(2, 32, 32), new SparkSampling.ShardTask(5, 80, 32),
                new SparkSampling.ShardTask(7, 112, 8)), SparkSampling.group(one, 2), "runs are cut at gaps and at 2");
    }

    @Test
    void aTaskFailingOnItsFirstAttemptIsRetriedAndLeavesNothingBehind() throws IOException {
        Path want = local("local32", 32);
        SparkSampling.Outcome o = spark(job("retry32", 32, 7, true), List.of(1, 3));
        assertEquals(4, o.shards());
        assertSameCache(want, dir.resolve("retry32"));
    }

    @Test
    void aRerunKeepsListedAndCommittedShardsAndSamplesOnlyMissingOnes() throws IOException {
        Path want = local("localResume", 32);
        Path job = job("resume", 32, 7, true);
        spark(job, List.of());
        Path cache = dir.resolve("resume");
        // The driver died after the tasks: the manifest lists shard 0 only; shard 2 was never committed; shard 3
        // holds another shard's rows (a file from some other layout).
        CacheManifest full = CacheManifest.read(cache);
        CacheManifest first = new CacheManifest(full.formatVersion(), full.task(), full.k(), full.width(),
                full.signal(), full.dtype(), 32, full.teacher(), full.datasetFingerprint(), List.of(full.shards().get(0)));
        first.writeAtomically(cache, false);
        Files.delete(cache.resolve("part-00002.arrow"));
        Files.copy(cache.resolve("part-00001.arrow"), cache.resolve("part-00003.arrow"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.createDirectories(cache.resolve(SparkSampling.ATTEMPTS).resolve("00002-attempt-99"));
        Files.writeString(cache.resolve(SparkSampling.ATTEMPTS).resolve("00002-attempt-99/part-00002.arrow.tmp"), "x");

        SparkSampling.Outcome o = spark(job, List.of());
        assertEquals(32, o.result().resumedFrom());
        assertEquals(1, o.adopted(), "shard 1 kept");
        assertEquals(2, o.scheduled(), "shard 2 missing, shard 3 not the expected rows");
        assertSameCache(want, cache);

        SparkSampling.Outcome again = spark(job, List.of());
        assertEquals(0, again.scheduled(), "a complete cache schedules nothing");
        assertEquals(120, again.result().resumedFrom());
        assertSameCache(want, cache);
    }

    @Test
    void sparkResumesALocalRunThatWasInterruptedAsTheLocalWriterWould() throws IOException {
        // a local run stopped after its third batch: shards [0, 40) and [40, 48) (the writer commits what it holds)
        Path job = job("interrupted", 40, 7, true);
        int[] calls = {0};
        assertThrows(IllegalStateException.class, () -> SampleJob.run(SampleSpec.load(job), Device.cpu(),
                (done, total) -> {
                    if (++calls[0] == 4) {
                        throw new IllegalStateException("interrupted");
                    }
                }, l -> { }));
        assertEquals(48, CacheManifest.read(dir.resolve("interrupted")).items());
        Path copy = dir.resolve("interrupted-local");
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(dir.resolve("interrupted"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        Path localJob = job("interrupted-local", 40, 7, true);
        SampleJob.run(SampleSpec.load(localJob), Device.cpu(), SampleProgress.NONE, l -> { });
        SparkSampling.Outcome o = spark(job, List.of());
        assertEquals(48, o.result().resumedFrom());
        assertEquals(2, o.scheduled(), "[48, 88) and [88, 120)");
        assertSameCache(copy, dir.resolve("interrupted"));
    }

    @Test
    void theCommandSamplesAJobOnItsOwnLocalMaster() throws IOException {
        Path want = local("localCommand", 32);
        TestSpark.stop();   // the command starts (and stops) its own context
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int rc = SparkMain.run(new String[] {"sample", "--master", "local[2]", "--no-fsync",
            job("command", 32, 7, true).toString()}, new java.io.PrintStream(out, true), System.err);
        assertEquals(0, rc, out.toString());
        assertTrue(out.toString().contains(": 120 items, k=5, 4 shards (4 sampled now, 0 adopted)"), out.toString());
        assertSameCache(want, dir.resolve("command"));
        // the run is recorded as `distill4j sample` records it: one line of runs.jsonl
        List<String> runs = Files.readAllLines(dir.resolve("command").resolve(SampleJob.RUNS_FILE));
        assertEquals(1, runs.size());
        java.util.Map<?, ?> run = new com.fasterxml.jackson.databind.ObjectMapper().readValue(runs.get(0),
                java.util.Map.class);
        String command = String.valueOf(run.get("command"));
        assertTrue(command.startsWith("distill4j-spark sample --master 'local[2]' --no-fsync "), command);
        assertEquals(120, run.get("items"));
        assertEquals(0, run.get("resumedFrom"));
        assertEquals(CacheManifest.read(want).teacher(), run.get("teacher"));
        assertEquals(java.util.Map.of("seed", 7), run.get("seeds"));
        assertEquals(5, ((java.util.Map<?, ?>) run.get("config")).get("k"));
    }

    @Test
    void aBadShardsPerTaskSettingIsOneLineAndExit2BeforeTheCacheIsCreated() throws IOException {
        TestSpark.stop();   // the command starts its own context, which reads spark.* system properties
        Path job = job("badSetting", 32, 7, true);
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        System.setProperty(SparkSampling.SHARDS_PER_TASK, "lots");
        try {
            int rc = SparkMain.run(new String[] {"sample", "--master", "local[1]", "--no-fsync", job.toString()},
                    System.out, new java.io.PrintStream(err, true));
            assertEquals(2, rc, err.toString());
        } finally {
            System.clearProperty(SparkSampling.SHARDS_PER_TASK);
        }
        String message = err.toString().strip();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.contains("Spark setting spark.distill4j.shardsPerTask: must be a positive integer, got 'lots'"),
                message);
        assertFalse(Files.exists(dir.resolve("badSetting")), "no cache folder, no manifest");
    }

    @Test
    void theServiceLoaderFindsTheSparkEngineForLocalAndStandaloneMasters() throws IOException {
        assertTrue(io.distill4j.pipeline.SampleEngine.find("spark://10.0.0.1:7077") instanceof SparkSampleEngine);
        BadInputException none = assertThrows(BadInputException.class,
                () -> io.distill4j.pipeline.SampleEngine.find("ray://x"));
        assertTrue(none.getMessage().startsWith("option --engine: no engine on the class path runs 'ray://x'"),
                none.getMessage());
        Path want = local("localEngine", 32);
        TestSpark.stop();   // the engine starts (and stops) its own context
        SampleJob.Result r = io.distill4j.pipeline.SampleEngine.find("local[2]").sample("local[2]",
                job("engine", 32, 7, true), "cpu", l -> { });
        assertEquals(120, r.items());
        assertSameCache(want, dir.resolve("engine"));
    }

    @Test
    void aCacheOfAnotherTeacherIsRefusedBeforeAnyTask() throws IOException {
        spark(job("seeded", 40, 7, true), List.of());
        Path other = job("seeded", 40, 8, true);   // same cache folder, another sampling seed
        BadInputException e = assertThrows(BadInputException.class, () -> spark(other, List.of()));
        assertTrue(e.getMessage().contains("field teacher.seed"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("seeded").resolve(SparkSampling.ATTEMPTS)));
    }

    @Test
    void anExecutorThatCannotSeeTheWeightsFailsWithOneLine() throws IOException {
        Path job = job("noweights", 40, 7, true);
        Files.writeString(job, Files.readString(job).replace(weights.toString(), dir.resolve("missing").toString()));
        BadInputException e = assertThrows(BadInputException.class, () -> spark(job, List.of()));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }
}

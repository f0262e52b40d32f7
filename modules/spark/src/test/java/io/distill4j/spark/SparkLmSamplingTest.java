package io.distill4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.data.CacheManifest;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.teacher.SampleProgress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lm} jobs (a local causal language model, the tiny Llama fixture of modules/models) on {@code local[2,2]}: one
 * task per prompt range, the model loaded once per executor JVM, and the sequence cache equal to the one a plain local
 * run writes (manifest as a record, shards byte for byte); a task failing on its first attempt is retried, a rerun
 * after a driver crash adopts committed shards and samples only the missing one, and no temporary file is left.
 */
class SparkLmSamplingTest {

    static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));
    /** The tiny Llama teacher the cli's LM tests sample (config.json, model.safetensors, tokenizer.json). */
    static final Path TEACHER = HOME.resolve("modules/models/src/test/resources/lm/llama-tiny").toAbsolutePath();
    /** 9 prompts: 4 shards of 2 and one of 1. */
    static final int PROMPTS = 9;

    @TempDir
    static Path dir;
    static Path prompts;

    @BeforeAll
    static void prompts() throws IOException {
        prompts = dir.resolve("prompts.txt");
        List<String> words = List.of("hello world", "the cat sat", "on the mat", "where is it", "red and blue");
        Files.writeString(prompts, IntStream.range(0, PROMPTS).mapToObj(i -> words.get(i % words.size()) + " " + i)
                .collect(Collectors.joining("\n")) + "\n");
    }

    /** An lm job of k = 3 on the prompts, 2 prompts a shard, sampled with temperature 1 (so the seed matters). */
    static Path job(Path dir, String name, Path prompts) throws IOException {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, "cache: " + dir.resolve(name) + "\nk: 3\nseed: 3\nrowsPerShard: 2\n"
                + "prompts: {file: " + prompts + "}\n"
                + "teacher: {type: lm, folder: " + TEACHER + ", maxTokens: 6, topLogprobs: 4, temperature: 1.0}\n");
        return file;
    }

    static Path local(String name) throws IOException {
        SampleJob.run(SampleSpec.load(job(dir, name, prompts)), Device.cpu(), SampleProgress.NONE, l -> { });
        return dir.resolve(name);
    }

    static SparkSampling.Outcome spark(Path job, List<Integer> crash) {
        return SparkSampling.sample(TestSpark.context(), job, new SparkSampling.Options("cpu", false, crash), l -> { });
    }

    @Test
    void promptRangesSampledAsTasksEqualTheLocalCacheAndARerunSamplesOnlyMissingShards() throws IOException {
        Path want = local("local");
        CacheManifest local = CacheManifest.read(want);
        assertEquals(PROMPTS, local.items());
        assertEquals(5, local.shards().size(), "the local writer cuts 5 shards of 2 prompts");
        assertEquals("causal-lm", local.teacher().get("name"));

        // shards 1 and 3 fail on their first attempt (after writing, before committing) and are retried
        Path job = job(dir, "spark", prompts);
        SparkSampling.Outcome o = spark(job, List.of(1, 3));
        assertEquals(5, o.shards());
        assertEquals(5, o.scheduled());
        assertEquals(PROMPTS, o.result().items());
        Path cache = dir.resolve("spark");
        SparkSamplingTest.assertSameCache(want, cache);  // also: no attempt folder, no temporary file

        // the driver died after the tasks: the manifest lists shard 0 only, and shard 2 was never committed
        CacheManifest full = CacheManifest.read(cache);
        new CacheManifest(full.formatVersion(), full.task(), full.k(), full.width(), full.signal(), full.dtype(), 2,
                full.teacher(), full.datasetFingerprint(), full.sequence(), List.of(full.shards().get(0)))
                .writeAtomically(cache, false);
        Files.delete(cache.resolve("part-00002.arrow"));
        long committedAt = Files.getLastModifiedTime(cache.resolve("part-00003.arrow")).toMillis();
        SparkSampling.Outcome again = spark(job, List.of());
        assertEquals(2, again.result().resumedFrom());
        assertEquals(3, again.adopted(), "shards 1, 3, 4 read back (k rows an item), not sampled again");
        assertEquals(1, again.scheduled(), "shard 2 alone");
        assertEquals(committedAt, Files.getLastModifiedTime(cache.resolve("part-00003.arrow")).toMillis(),
                "an adopted shard is not rewritten");
        SparkSamplingTest.assertSameCache(want, cache);
        assertEquals(0, spark(job, List.of()).scheduled(), "a complete cache schedules nothing");
    }

    @Test
    void aCacheOfAnotherSamplingSeedIsRefusedBeforeAnyTask() throws IOException {
        Path job = job(dir, "seeded", prompts);
        spark(job, List.of());
        Files.writeString(job, Files.readString(job).replace("seed: 3", "seed: 4"));
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(io.distill4j.data.BadInputException.class,
                () -> spark(job, List.of()));
        assertTrue(e.getMessage().contains("seed"), e.getMessage());
    }
}

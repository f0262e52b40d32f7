package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.TeacherCacheWriter;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.http.FakeOpenAiServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every fault a user or the environment can cause, fed through the CLI's {@link Main#run} entry in this JVM (issue 16
 * item 11): for each case the exit code, exactly one line on standard error with no stack trace, the line itself, and
 * the files left behind (by default: nothing created or changed under the case's folder). The kinds covered, with
 * their counts, are printed when the class ends.
 */
class FaultsTest {

    static final Path HOME = TrainJobTest.HOME.toAbsolutePath().normalize();
    static final String SKLEARN = HOME.resolve("datasets/sklearn").toString();

    @TempDir
    static Path root;

    private static final Map<String, Integer> KINDS = new LinkedHashMap<>();

    /** Makes the case's files and returns the command line. */
    interface Setup {
        String[] args(Path dir) throws Exception;
    }

    /** Checks the files left behind; {@code before} is the folder's listing after the setup. */
    interface Leftover {
        void check(Path dir, List<String> before) throws Exception;
    }

    /**
     * One fault.
     *
     * @param kind the group it is counted in
     * @param name what is wrong
     * @param exit the exit code wanted
     * @param line a regular expression the one line must match ({@code DIR} stands for the case's folder)
     * @param setup its files and command line
     * @param leftover the check of the files afterwards
     */
    record Case(String kind, String name, int exit, String line, Setup setup, Leftover leftover) {
    }

    static final Leftover NOTHING_CREATED = (dir, before) -> assertEquals(before, listing(dir), "files created or removed");

    static Case c(String kind, String name, int exit, String line, Setup setup) {
        return new Case(kind, name, exit, line, setup, NOTHING_CREATED);
    }

    static String sampleJob(String cache, String teacher) {
        return "cache: " + cache + "\nk: 4\nseed: 0\nbatchSize: 64\nrowsPerShard: 50\n"
                + "data:\n  dataset: iris\n  dir: " + SKLEARN + "\n  standardize: true\n  sample: train\n"
                + "teacher:\n" + teacher;
    }

    static final String MLP_TEACHER = "  type: mc-dropout\n  model: {hidden: [8], dropout: 0.2}\n"
            + "  train: {epochs: 1, batchSize: 32, learningRate: 0.01, seed: 0}\n";

    static Path write(Path dir, String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
        return f;
    }

    /** A train job on {@code sample.yaml} (written too) with extra top-level lines. */
    static String[] train(Path dir, String extra) throws IOException {
        write(dir, "sample.yaml", sampleJob("cache", MLP_TEACHER));
        return new String[] {"train", write(dir, "train.yaml", "sample: sample.yaml\nstudent: {model_type: mlp, hidden: [8]}\n"
                + "students: 2\n" + extra + (extra.contains("training:") ? "" : "training: {epochs: 1}\n")).toString()};
    }

    static List<Case> cases() {
        List<Case> all = new ArrayList<>();
        // ---- the command line
        all.add(c("command line", "unknown command", 2, "distill4j: Unmatched argument.*'frobnicate'.*", d -> new String[] {"frobnicate"}));
        all.add(c("command line", "unknown option", 2, "distill4j: Unknown option: '--no-such-option'.*",
                d -> new String[] {"demo", "--no-such-option"}));
        all.add(c("command line", "demo with one student", 2, "distill4j: error: .*students must be at least 2.*",
                d -> new String[] {"demo", "--students", "1", "--runs", d.resolve("runs").toString()}));
        all.add(c("command line", "unknown target", 2, "distill4j: error: .*unknown target 'nope'.*",
                d -> new String[] {"demo", "--targets", "mean,nope", "--runs", d.resolve("runs").toString()}));
        all.add(c("command line", "unknown device", 2, "distill4j: error: .*unknown device 'tpu'.*",
                d -> new String[] {"demo", "--device", "tpu", "--runs", d.resolve("runs").toString()}));
        // ---- datasets
        all.add(c("dataset", "missing dataset file", 2, "distill4j: error: DIR/digits.csv: dataset file not found",
                d -> new String[] {"demo", "--data", d.toString(), "--runs", d.resolve("runs").toString()}));
        all.add(c("dataset", "a non-number in the dataset", 2,
                "distill4j: error: DIR/digits.csv: line 2: field feature 1: not a finite number: 'oops'", d -> {
                    write(d, "digits.csv", "1,2,3\n4,oops,5\n");
                    return new String[] {"demo", "--data", d.toString(), "--runs", d.resolve("runs").toString()};
                }));
        // ---- sample job files
        all.add(c("sample config", "unknown key", 2, "distill4j: error: DIR/s.yaml:\\d+:\\d+: field teacher.hiden: unknown key "
                + "'hiden'; known keys: .*", d -> new String[] {"sample", write(d, "s.yaml", sampleJob("c", MLP_TEACHER
                + "  hiden: 3\n")).toString()}));
        all.add(c("sample config", "wrong type", 2, "distill4j: error: DIR/s.yaml:2:1: field k: expected an integer, got 'many'",
                d -> new String[] {"sample", write(d, "s.yaml", sampleJob("c", MLP_TEACHER).replace("k: 4", "k: many"))
                        .toString()}));
        all.add(c("sample config", "out of range", 2, "distill4j: error: DIR/s.yaml:\\d+:\\d+: field teacher.model.dropout: must be "
                + "in \\[0, 1\\), got 1.5", d -> new String[] {"sample", write(d, "s.yaml", sampleJob("c", MLP_TEACHER
                .replace("dropout: 0.2", "dropout: 1.5"))).toString()}));
        all.add(c("sample config", "teacher that does not fit the data", 2, "distill4j: error: DIR/s.yaml:\\d+:\\d+: field "
                + "teacher.type: output-noise is a regression teacher; dataset iris is a classification",
                d -> new String[] {"sample", write(d, "s.yaml", sampleJob("c", "  type: output-noise\n")).toString()}));
        all.add(c("sample config", "malformed YAML", 2, "distill4j: error: DIR/s.yaml:1:17: malformed YAML: .*",
                d -> new String[] {"sample", write(d, "s.yaml", "cache: [unclosed\n").toString()}));
        all.add(c("sample config", "missing file", 2, "distill4j: error: DIR/none.yaml: config file not found",
                d -> new String[] {"sample", d.resolve("none.yaml").toString()}));
        // ---- issue 21 item 3: an image dataset whose IDX files are absent, in a sample job and in the train job on it
        all.add(c("sample config", "image dataset files absent", 2, "distill4j: error: DIR/s.yaml:8:3: field data.dir: "
                + "DIR/raw: holds no mnist files \\(train-images-idx3-ubyte and train-labels-idx1-ubyte, plain or \\.gz\\); "
                + "run datasets/mnist/fetch.sh", d -> new String[] {"sample", write(d, "s.yaml", sampleJob("c", MLP_TEACHER)
                .replace("dataset: iris\n  dir: " + SKLEARN, "dataset: mnist\n  dir: raw")).toString()}));
        all.add(c("train config", "its sample job's image files absent", 2, "distill4j: error: DIR/sample.yaml:8:3: field "
                + "data.dir: DIR/raw: holds no fashion-mnist files \\(train-images-idx3-ubyte and train-labels-idx1-ubyte, "
                + "plain or \\.gz\\); run datasets/fashion-mnist/fetch.sh", d -> {
                    String[] args = train(d, "");
                    write(d, "sample.yaml", sampleJob("cache", MLP_TEACHER).replace("dataset: iris\n  dir: " + SKLEARN,
                            "dataset: fashion-mnist\n  dir: raw"));
                    return args;
                }));
        // ---- issue 16 item 3: an unusable cache folder, checked before the teacher is trained; nothing created
        all.add(c("sample cache folder", "the cache is a regular file", 2, "distill4j: error: DIR/isfile: cannot use it for the "
                + "teacher cache \\(field cache of DIR/s.yaml\\): it is a file, not a folder", d -> {
                    write(d, "isfile", "x");
                    return new String[] {"sample", write(d, "s.yaml", sampleJob("isfile", MLP_TEACHER)).toString()};
                }));
        all.add(c("sample cache folder", "the cache is under a regular file", 2, "distill4j: error: DIR/isfile/cache: cannot use "
                + "it for the teacher cache \\(.*\\): DIR/isfile is a file, not a folder", d -> {
                    write(d, "isfile", "x");
                    return new String[] {"sample", write(d, "s.yaml", sampleJob("isfile/cache", MLP_TEACHER)).toString()};
                }));
        all.add(new Case("sample cache folder", "the cache is under /proc", 2, "distill4j: error: /proc/distill4j-cache/c: cannot "
                + "use it for the teacher cache \\(.*\\): cannot write in /proc: .*",
                d -> new String[] {"sample", write(d, "s.yaml", sampleJob("/proc/distill4j-cache/c", MLP_TEACHER)).toString()},
                (d, before) -> {
                    NOTHING_CREATED.check(d, before);
                    assertFalse(Files.exists(Path.of("/proc/distill4j-cache")));
                }));
        // ---- train job files
        all.add(c("train config", "wrong type", 2, "distill4j: error: DIR/train.yaml:4:1: field studentPasses: expected an "
                + "integer, got 'many'", d -> train(d, "studentPasses: many\n")));
        all.add(c("train config", "scalar for a mapping", 2, "distill4j: error: DIR/train.yaml:4:1: field targetOptions: expected a "
                + "mapping of keys, got 'fast'", d -> train(d, "targetOptions: fast\n")));
        all.add(c("train config", "scalar for a section", 2, "distill4j: error: DIR/train.yaml:4:1: field training: expected a "
                + "mapping of keys, got 'lots'", d -> train(d, "training: lots\n")));
        all.add(c("train config", "unknown key", 2, "distill4j: error: DIR/train.yaml:4:1: field studnets: unknown key 'studnets'.*",
                d -> train(d, "studnets: 3\n")));
        all.add(c("train config", "unknown loss", 2, "distill4j: error: DIR/train.yaml.*field lossOptions: unknown loss 'nope': "
                + "known are .*", d -> train(d, "loss: nope\n")));
        all.add(c("train config", "a loss that does not fit the cache", 2, "distill4j: error: DIR/train.yaml.*loss 'mse' with "
                + "target 'mean': the loss needs regression targets.*", d -> train(d, "loss: mse\n")));
        all.add(c("train config", "missing sample job", 2, "distill4j: error: DIR/nowhere.yaml: config file not found", d ->
                new String[] {"train", write(d, "train.yaml", "sample: nowhere.yaml\nstudent: {model_type: mlp}\n").toString()}));
        all.add(c("train config", "unknown student type", 2, "distill4j: error: DIR/train.yaml:2:\\d+: field student.model_type: "
                + "unknown model_type 'cnn'.*", d -> new String[] {"train", write(d, "train.yaml",
                "sample: s.yaml\nstudent: {model_type: cnn}\n").toString()}));
        // ---- issue 16 item 2: an unwritable out, checked before any training; nothing created
        all.add(new Case("train output folder", "out under /proc", 2, "distill4j: error: /proc/distill4j-out/\\d{8}-\\d{6}: cannot "
                + "write the run folder: .*", d -> train(d, "out: /proc/distill4j-out\n"), (d, before) -> {
                    NOTHING_CREATED.check(d, before);
                    assertFalse(Files.exists(Path.of("/proc/distill4j-out")));
                }));
        all.add(c("train output folder", "out under a regular file", 2, "distill4j: error: DIR/isfile/runs/\\d{8}-\\d{6}: cannot "
                + "write the run folder: .*", d -> {
                    write(d, "isfile", "x");
                    return train(d, "out: isfile/runs\n");
                }));
        all.add(c("train output folder", "checkpointDir under a regular file", 2, "distill4j: error: DIR/isfile/ckpt: cannot "
                + "use it for the checkpoint folder \\(training checkpointDir\\): DIR/isfile is a file, not a folder", d -> {
                    write(d, "isfile", "x");
                    return train(d, "out: runs\ntraining: {epochs: 1, checkpointEvery: 10, checkpointDir: isfile/ckpt}\n");
                }));
        // ---- issue 16 item 7: train on a sequence cache
        all.add(c("train on a sequence cache", "an http sample job", 2, "distill4j: error: DIR/train.yaml:\\d+:\\d+: field student: "
                + "model_type mlp learns from a dense cache, but the sample job DIR/qa.yaml \\(teacher.type http\\) writes "
                + "a sequence cache: use a causal-LM student \\(a gpt2 or llama preset such as models/llama-tiny.yaml, or a "
                + "Hugging Face folder\\)", d -> {
                    write(d, "qa.yaml", "cache: qa\nprompts: {file: p.txt}\nteacher: {type: http, server: 'http://127.0.0.1:9'}\n");
                    return new String[] {"train", write(d, "train.yaml", "sample: qa.yaml\nstudent: {model_type: mlp}\n")
                            .toString()};
                }));
        // ---- caches: issue 16 items 1, 8, 9
        all.add(new Case("cache", "disk full while writing a cache", 4, "distill4j: out of space: DIR/cache: no space left on "
                + "device while writing manifest\\.json \\([0-9,]+ bytes needed, [0-9,]+ bytes free\\); what was committed "
                + "is kept: free space and run the same command again to resume", d -> {
                    Files.createDirectories(d.resolve("cache"));
                    Files.createSymbolicLink(d.resolve("cache/manifest.json.tmp"), Path.of("/dev/full"));
                    return new String[] {"sample", write(d, "s.yaml", sampleJob("cache", MLP_TEACHER)).toString()};
                }, (d, before) -> {
                    List<String> after = listing(d);
                    assertTrue(after.contains("cache-teacher/teacher-0000.params"), "the trained teacher is kept: " + after);
                    assertFalse(after.contains("cache/manifest.json.tmp"), "nothing half-written, not even the link");
                    assertTrue(after.stream().noneMatch(f -> f.startsWith("cache/") && !f.equals("cache/")), after.toString());
                    Object[] again = MainTest.run("sample", d.resolve("s.yaml").toString());
                    assertEquals(0, again[0], (String) again[1]);
                    assertEquals(120, TeacherCache.open(d.resolve("cache")).manifest().items(), "the rerun completes it");
                    TeacherCache.open(d.resolve("cache")).verify();
                    // the run that completed the cache is recorded beside it, with its provenance; the failed one is not
                    List<String> runs = Files.readAllLines(d.resolve("cache").resolve(io.distill4j.pipeline.SampleJob.RUNS_FILE));
                    assertEquals(1, runs.size(), runs.toString());
                    var rec = new com.fasterxml.jackson.databind.ObjectMapper().readTree(runs.get(0));
                    assertEquals("distill4j sample " + d.resolve("s.yaml"), rec.get("command").asText());
                    assertEquals(4, rec.get("config").get("k").asInt());
                    assertEquals(TeacherCache.open(d.resolve("cache")).manifest().datasetFingerprint(),
                            rec.get("data").get("fingerprint").asText());
                    assertTrue(rec.has("gitCommit") && rec.has("distill4j") && rec.has("engine") && rec.has("started")
                            && rec.has("finished") && rec.get("device").asText().startsWith("cpu"), rec.toString());
                }));
        all.add(c("cache", "wrong rows count in the manifest", 2, "distill4j: error: DIR/cache/manifest.json: shard "
                + "part-00001.arrow: field rows: 3 rows from item 2 end at item 5, but the next shard part-00002.arrow starts "
                + "at item 4 \\(expected 2 rows\\)", d -> {
                    Path cache = d.resolve("cache");
                    try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(cache, "regression", 1, 1, "values", Map.of(),
                            "fp", 2, CacheWriteOptions.DEFAULT.withFsync(false))) {
                        for (int i = 0; i < 6; i++) {
                            w.append(new float[][] {{i}});
                        }
                    }
                    Path manifest = cache.resolve("manifest.json");
                    String json = Files.readString(manifest);
                    int at = json.indexOf("\"rows\" : 2", json.indexOf("part-00001.arrow"));
                    Files.writeString(manifest, json.substring(0, at) + "\"rows\" : 3" + json.substring(at + 10));
                    return new String[] {"cache", "verify", cache.toString()};
                }));
        all.add(c("cache", "damaged sequence shard (verify's report on standard output)", 2, "REPORT(?s).*part-00000\\.arrow.*",
                d -> {
            Path cache = d.resolve("seq");
            try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(cache, 1, 10, 2, Map.of("name", "t"), "fp", 2,
                    CacheWriteOptions.DEFAULT.withFsync(false))) {
                for (int i = 0; i < 4; i++) {
                    w.append(new int[] {1, 2}, List.of(new SequenceSample(new int[] {3, 4}, new int[] {3, 5, 4, 6},
                            new float[] {-0.1f, -2.5f, -0.2f, -2f}, new float[] {-4.3368f, -3.0806f})));
                }
            }
            Path shard = cache.resolve("part-00000.arrow");
            byte[] b = Files.readAllBytes(shard);
            for (int i = b.length / 3; i < b.length / 3 + 16; i++) {
                b[i] ^= 0x5a;
            }
            Files.write(shard, b);
            return new String[] {"cache", "verify", cache.toString()};
        }));
        all.add(c("cache", "no cache in the folder", 2, "distill4j: error: DIR/none.*", d -> new String[] {"cache", "verify",
                d.resolve("none").toString()}));
        // ---- issue 16 item 6: a damaged teacher checkpoint is named as damaged
        all.add(c("teacher checkpoint", "damaged teacher checkpoint", 2, "distill4j: error: DIR/first-teacher/teacher-0000\\.params: "
                + "damaged: its SHA-256 [0-9a-f]{64} differs from the [0-9a-f]{64} recorded in SHA256SUMS when it was written;.*",
                d -> {
                    SampleJob.run(SampleSpec.load(write(d, "first.yaml", sampleJob("first", MLP_TEACHER))), Device.cpu(),
                            SampleProgress.NONE, l -> { });
                    Path params = d.resolve("first-teacher/teacher-0000.params");
                    byte[] b = Files.readAllBytes(params);
                    b[b.length / 2] ^= 0x10;
                    Files.write(params, b);
                    return new String[] {"sample", write(d, "s.yaml", sampleJob("second", "  type: mc-dropout\n  model: "
                            + "{hidden: [8], dropout: 0.2}\n  checkpoint: first-teacher\n")).toString()};
                }));
        // ---- issue 16 item 4: a server whose top-K mass exceeds 1 is a server fault (exit 3), committed items kept
        all.add(new Case("teacher server", "top-K probabilities summing above 1", 3, "distill4j: teacher server error: .*",
                d -> {
                    write(d, "p.txt", "one\ntwo\n");
                    FakeOpenAiServer s = new FakeOpenAiServer((n, body) -> FakeOpenAiServer.Reply.ok(
                            FakeOpenAiServer.contentReply(body, body.path("n").asInt(1), 2).replace("-2.5", "-0.01")));
                    SERVERS.add(s);
                    return new String[] {"sample", write(d, "qa.yaml", "cache: qa\nk: 2\nprompts: {file: p.txt}\nteacher: "
                            + "{type: http, server: '" + s.baseUri() + "', maxTokens: 2, topLogprobs: 3, maxRetries: 0, "
                            + "vocabularySize: 1000}\n").toString()};
                }, (d, before) -> assertTrue(listing(d).stream().noneMatch(f -> f.startsWith("qa/part-")),
                        "no shard holds the bad response: " + listing(d))));
        all.add(new Case("teacher server", "no server listening", 3, "distill4j: teacher server error: .*127\\.0\\.0\\.1:\\d+.*",
                d -> {
                    write(d, "p.txt", "one\n");
                    int port;
                    try (java.net.ServerSocket closed = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                        port = closed.getLocalPort();
                    }
                    return new String[] {"sample", write(d, "qa.yaml", "cache: qa\nk: 2\nprompts: {file: p.txt}\nteacher: "
                            + "{type: http, server: 'http://127.0.0.1:" + port + "', maxRetries: 0, vocabularySize: 1000}\n")
                            .toString()};
                }, (d, before) -> assertTrue(listing(d).stream().noneMatch(f -> f.startsWith("qa/part-")), listing(d).toString())));
        // ---- experiments
        all.add(c("experiment config", "unknown experiment", 2, "distill4j: error: unknown experiment 'nope'; known are .*",
                d -> new String[] {"experiment", "nope"}));
        all.add(c("experiment config", "unknown key", 2, "distill4j: error: DIR/x.yaml:9:1: field studnets: unknown key "
                + "'studnets'.*", d -> new String[] {"experiment", "linear-regression", "--config", write(d, "x.yaml",
                "experiment: linear-regression\ndataset: d.csv\ntarget: y\ntestFraction: 0.2\nnoise: [0.1]\nk: [1, 2]\n"
                + "students: 10\nseed: 0\nstudnets: 3\n").toString(), "--out", d.resolve("out").toString()}));
        all.add(c("experiment config", "a quick override of no setting", 2, "distill4j: error: DIR/x.yaml:3:3: field "
                + "quick.nosie: overrides no setting", d -> new String[] {"experiment", "linear-regression", "--quick",
                "--config", write(d, "x.yaml", "experiment: linear-regression\nquick:\n  nosie: [1]\n").toString(),
                "--out", d.resolve("out").toString()}));
        all.add(c("experiment config", "another experiment's file", 2, "distill4j: error: DIR/x.yaml:1:\\d+: field experiment: "
                + "'ffn', expected 'linear-regression'", d -> new String[] {"experiment", "linear-regression", "--config",
                write(d, "x.yaml", "experiment: ffn\n").toString()}));
        return all;
    }

    static final List<FakeOpenAiServer> SERVERS = new ArrayList<>();

    @TestFactory
    Stream<DynamicTest> everyFaultIsOneLineWithItsExitCodeAndLeavesNothingBehind() {
        List<Case> all = cases();
        int[] n = {0};
        return all.stream().map(k -> DynamicTest.dynamicTest(k.kind() + ": " + k.name(), () -> {
            Path dir = root.resolve("case-" + n[0]++);
            Files.createDirectories(dir);
            String[] args = k.setup().args(dir);
            List<String> before = listing(dir);
            PrintStream old = System.out;
            ByteArrayOutputStream stdout = new ByteArrayOutputStream();
            System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
            Object[] r;
            try {
                r = MainTest.run(args);
            } finally {
                System.setOut(old);
            }
            String line = MainTest.oneLine(r);
            assertEquals(k.exit(), r[0], line);
            if (k.line().startsWith("REPORT")) { // cache verify: its report is the output, standard error stays empty
                String report = stdout.toString(StandardCharsets.UTF_8);
                assertEquals("", line);
                assertTrue(report.matches(k.line().substring("REPORT".length()).replace("DIR", "\\Q" + dir + "\\E")),
                        report);
                assertFalse(report.contains("null") || report.contains("leaked") || report.contains("Exception"), report);
                k.leftover().check(dir, before);
                KINDS.merge(k.kind(), 1, Integer::sum);
                return;
            }
            assertTrue(line.matches(k.line().replace("DIR", "\\Q" + dir + "\\E")), "\nwant " + k.line() + "\ngot  " + line);
            k.leftover().check(dir, before);
            KINDS.merge(k.kind(), 1, Integer::sum);
        }));
    }

    @AfterAll
    static void report() {
        SERVERS.forEach(FakeOpenAiServer::close);
        StringBuilder b = new StringBuilder("fault kinds covered through Main.run:");
        KINDS.forEach((k, v) -> b.append("\n  ").append(k).append(": ").append(v));
        b.append("\n  total: ").append(KINDS.values().stream().mapToInt(Integer::intValue).sum());
        System.out.println(b);
    }

    /** The files under a folder, relative, sorted (folders end in '/'). */
    static List<String> listing(Path dir) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(p -> !p.equals(dir)).forEach(p -> out.add(dir.relativize(p) + (Files.isDirectory(p) ? "/" : "")));
        }
        return new ArrayList<>(out);
    }
}

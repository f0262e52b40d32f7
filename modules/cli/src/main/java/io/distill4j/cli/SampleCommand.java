package io.distill4j.cli;

import io.distill4j.teacher.http.TeacherServerException;
import io.distill4j.pipeline.SampleEngine;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import java.nio.file.Path;
import io.distill4j.trainer.ConsoleProgress;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code distill4j sample CONFIG.yaml}: runs a teacher from a YAML config (see {@link SampleSpec}) and fills
 * its teacher-output cache with k samples per input, showing progress and items per second. Tabular
 * teachers (MC dropout, deep ensemble, last-layer Laplace, output noise, deterministic) write a dense
 * cache; language-model teachers (an OpenAI-compatible server, or a local Hugging Face model folder) write
 * a sequence cache. Run it again after an interruption and it resumes where the committed part of the
 * cache ends, with the teacher it trained (or loaded) the first time.
 *
 * <p>With {@code --engine} naming a Spark master ({@code local[N]}, {@code spark://host:port}, ...) the items are
 * sampled there ({@link SampleEngine#find}: the distill4j-spark_2.13 jar and Spark must be on the class path) into
 * the same cache, bit for bit.
 *
 * <p>Exit codes: 0 done; 2 a bad config, data, cache or teacher checkpoint (one line, from {@link Main}); 3
 * the teacher server failed for good (one line; what was committed is kept, and running again resumes); 4
 * the disk is full (one line from {@link Main} naming the folder, the file and the bytes; what was committed
 * is kept, and running again once space is freed resumes).
 */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Run a teacher from a YAML config and cache k samples per input (resumes after interruption). "
                + "Exit 3 when a teacher server fails for good; committed items are kept.",
        footer = {"", "Teacher types (teacher.type) and example jobs in modules/teacher/examples/:",
            "  mc-dropout     dense cache    digits-mc-dropout.yaml",
            "  deterministic  dense cache    iris-deterministic.yaml",
            "  ensemble       dense cache    digits-ensemble.yaml",
            "  laplace        dense cache    digits-laplace.yaml",
            "  output-noise   dense cache    diabetes-output-noise.yaml",
            "  http           sequence cache qa-llama-server.yaml (llama.cpp),",
            "                                vllm-api-key.yaml (vLLM, apiKeyEnv)",
            "  lm             sequence cache a local Hugging Face folder (teacher.folder)",
            "Every key: the javadoc of io.distill4j.pipeline.SampleSpec. A dense cache",
            "trains MLP students, a sequence cache causal-LM students (distill4j train;",
            "modules/cli/examples/train-qa-llama.yaml)."})
public final class SampleCommand implements Callable<Integer> {

    /** Exit code when a teacher server fails for good ({@link Main#SERVER_ERROR}). */
    public static final int SERVER_ERROR = Main.SERVER_ERROR;

    @Parameters(index = "0", paramLabel = "CONFIG", description = "the job's YAML file (cache, k, data, teacher)")
    Path config;

    @Option(names = "--device", description = "cpu or gpu(i) (default: ${DEFAULT-VALUE})", defaultValue = "cpu")
    String device;

    @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = LOCAL,
            description = "where to sample: local (default: this JVM), or a Spark master: local[N], spark://host:port,"
                    + " yarn, k8s://... (needs modules/spark: ./distill4j adds it and Spark's jars; README, 'Running on"
                    + " a Spark cluster')")
    String engine;

    /** The engine that runs here, in this JVM, without any engine on the class path. */
    static final String LOCAL = "local";

    @Override
    public Integer call() {
        SampleSpec spec = SampleSpec.load(config);
        ai.djl.Device dev = Devices.parse(device);
        io.distill4j.pipeline.RunInfo info = io.distill4j.pipeline.RunInfo.start(io.distill4j.pipeline.RunInfo.commandLine(), dev);
        ConsoleProgress[] bar = {null};
        SampleJob.Result r;
        try {
            r = LOCAL.equals(engine.trim()) ? runLocal(spec, dev, bar)
                    : SampleEngine.find(engine.trim()).sample(engine.trim(), config, device,
                            line -> System.err.println("distill4j sample: " + line));
        } catch (TeacherServerException e) {
            System.err.println("distill4j: teacher server error: " + e.getMessage()
                    + " (committed items are kept; run the same command again to resume)");
            return SERVER_ERROR;
        }
        SampleJob.recordRun(r, info.finish(), io.distill4j.data.config.ConfigFile.load(config).asMap(), spec.seed());
        System.out.println(String.format(Locale.ROOT, "%s: %d items x %d samples (%d new, resumed from %d) in %.2f s, %.0f items/s",
                r.cache(), r.items(), r.k(), r.items() - r.resumedFrom(), r.resumedFrom(), r.seconds(), r.itemsPerSecond()));
        return 0;
    }

    /**
     * Runs the job in this JVM; an HTTP teacher's run, which waits on its server, without the C2 compiler
     * ({@link IoBoundCompilation}).
     */
    private SampleJob.Result runLocal(SampleSpec spec, ai.djl.Device dev, ConsoleProgress[] bar) {
        if (spec.isSequence() && spec.sequence().http() != null) {
            try (IoBoundCompilation c1 = IoBoundCompilation.begin()) {
                return run(spec, dev, bar);
            }
        }
        return run(spec, dev, bar);
    }

    /**
     * Runs the job in this JVM with the one progress display of long jobs ({@link ConsoleProgress}): a bar on a
     * terminal, a plain line now and then otherwise, where no terminal is probed (the probe runs external commands).
     */
    private SampleJob.Result run(SampleSpec spec, ai.djl.Device dev, ConsoleProgress[] bar) {
        SampleJob.Result r;
        try {
            r = SampleJob.run(spec, dev, (done, total) -> {
                if (bar[0] == null) {
                    bar[0] = ConsoleProgress.builder().setTask("sample").setTotal(total).optUnit("items")
                            .optStartFrom(done).build();
                }
                bar[0].stepTo(done);
            }, line -> System.err.println("distill4j sample: " + line));
        } finally {
            if (bar[0] != null) {
                bar[0].close();
                bar[0] = null;
            }
        }
        return r;
    }
}

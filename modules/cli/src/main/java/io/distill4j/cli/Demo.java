package io.distill4j.cli;

import ai.djl.Device;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.TabularData;
import io.distill4j.data.datasets.ImageTask;
import io.distill4j.models.Mlp;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.Draws;
import io.distill4j.pipeline.RunInfo;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.Teachers;
import io.distill4j.trainer.TrainingSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The main job, end to end, on the {@link Distillation} pipeline: an MC-dropout MLP teacher trained on digits with
 * noisy labels (so that it is honestly uncertain), sampled k times per input for each of M students (each student
 * distils its own draws, as in Cui &amp; Pei 2026), M students per target (one sample, mean of k, inverse-variance
 * fusion), and a table of test accuracy, NLL, ECE, the inter-student variance with its bootstrap interval and its
 * ratio to the first target's, and intra-student entropy, with a plot of the variances. The targets share one
 * teacher cache.
 */
public final class Demo {
    private static final Logger LOG = LogManager.getLogger(Demo.class);

    /** Teacher architecture: 64-128-10 with the configured dropout. */
    static final int TEACHER_HIDDEN = 128;
    /** Student architecture: 64-64-10 with dropout 0.2 (MC-dropout passes feed inverse-variance fusion). */
    static final int STUDENT_HIDDEN = 64;
    static final int BATCH = 64;
    static final float LR = 1e-3f;

    private final DemoConfig config;
    private final Device device;

    /**
     * Creates the demo.
     *
     * @param config its settings
     * @param device the device to train on
     */
    public Demo(DemoConfig config, Device device) {
        this.config = config;
        this.device = device;
    }

    /**
     * Runs the demo: one pipeline run per target under {@code <runs>/<timestamp>/<target>/}, and the summary table
     * ({@code results.md}, {@code results.json}) in the run folder.
     *
     * @return the run folder and the table
     * @throws IOException if the run folder cannot be written
     */
    public Result run() throws IOException {
        TabularData digits = SklearnCsv.load("digits", config.datasetDir()).scale(1f / 16f);
        TabularData.Split clean = digits.split(0.2, config.seed());
        TabularData train = clean.train();
        int[] noisy = ImageTask.flipLabels(train.labels(), train.numClasses(), config.labelNoise(), config.seed());
        TabularData.Split split = new TabularData.Split(new TabularData(train.name(), train.features(), noisy, null,
                train.numClasses()), clean.test());
        Path runDir = config.runsDir().resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS")));
        LOG.info("digits: {} train ({}% of labels flipped), {} test, {} classes; run folder {}", split.train().size(),
                Math.round(100 * config.labelNoise()), split.test().size(), digits.numClasses(), runDir);
        RunInfo info = RunInfo.start(RunInfo.commandLine(), device);
        TrainingSpec teacherTraining = TrainingSpec.builder().setDevice(device).setSeed(config.seed())
                .setEpochs(config.teacherEpochs()).setBatchSize(BATCH).setLearningRate(LR).optWeightDecay(1e-4f)
                .optLogEvery(0).build();
        TrainingSpec studentTraining = teacherTraining.toBuilder().setEpochs(config.studentEpochs()).build();
        List<Long> seeds = new ArrayList<>();
        for (int s = 0; s < config.students(); s++) {
            seeds.add(config.seed() + 1 + s);
        }
        List<ResultsTable.Row> rows = new ArrayList<>();
        List<RunResult> runs = new ArrayList<>();
        for (String target : config.targets()) {
            RunResult r = Distillation.builder().name(target).data(split)
                    .teacher(Teachers.mcDropout(Mlp.builder().setHidden(TEACHER_HIDDEN)
                            .optDropout((float) config.teacherDropout()))
                            .samples(config.k()).training(teacherTraining).seed(config.seed()))
                    .target(target).loss("soft-ce")
                    .student(Mlp.builder().setHidden(STUDENT_HIDDEN).optDropout(0.2f)).seeds(seeds).draws(config.draws())
                    .training(studentTraining).cacheDir(runDir.resolve("teacher-cache")).command(info.command())
                    .build().fit(runDir.resolve(target));
            rows.add(row(target, r, runs.isEmpty() ? null : runs.get(0), config.seed()));
            runs.add(r);
        }
        Map<String, Object> provenance = new LinkedHashMap<>(info.finish().asMap());
        provenance.put("config", config.asMap());
        provenance.put("settings", runs.get(0).settings());
        ResultsTable table = new ResultsTable(String.format(Locale.ROOT,
                "digits, %.0f%% noisy labels: MC-dropout teacher (dropout %.2f), %d students per target, %s",
                100 * config.labelNoise(), config.teacherDropout(), config.students(), config.draws() == Draws.PER_STUDENT
                        ? "each distilling its own " + config.k() + " draws" : "all distilling the same " + config.k()
                        + " draws"), provenance, rows);
        table.write(runDir);
        return new Result(runDir, table);
    }

    private static ResultsTable.Row row(String target, RunResult r, RunResult base, long seed) {
        return new ResultsTable.Row(target, r.students(), r.metric("accuracy"), r.metric("nll"), r.metric("ece"),
                r.interStudentVarianceInterval(seed), base == null ? null : r.varianceRatio(base, seed),
                r.metric("entropy").mean());
    }

    /**
     * What the demo produced.
     *
     * @param runDir the run folder holding the cache, each target's run and the summary
     * @param table the results table
     */
    public record Result(Path runDir, ResultsTable table) {
    }
}

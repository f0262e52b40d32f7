package io.distill4j.cli;


import io.distill4j.models.Inference;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.Sha256;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.loss.Registry;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import io.distill4j.loss.StudentEstimate;
import io.distill4j.loss.TargetBuilder;
import io.distill4j.teacher.McDropoutTeacher;
import io.distill4j.trainer.BatchTargets;
import io.distill4j.trainer.Metrics;
import io.distill4j.models.Mlp;
import io.distill4j.trainer.StudentTrainer;
import io.distill4j.trainer.TrainConfig;
import io.distill4j.trainer.stats.Summary;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The main job, end to end: train an MC-dropout MLP teacher on digits, cache k samples per training
 * input, train M students per target (one sample, mean of k, inverse-variance fusion) and tabulate test
 * accuracy, NLL, ECE, inter-student variance and intra-student entropy.
 */
public final class Demo {
    private static final Logger LOG = LogManager.getLogger(Demo.class);

    /** Teacher architecture: 64-128-10 with dropout 0.3. */
    static final int TEACHER_HIDDEN = 128;
    /** Student architecture: 64-64-10 with dropout 0.2 (MC-dropout passes feed inverse-variance fusion). */
    static final int STUDENT_HIDDEN = 64;
    /** MC-dropout passes of the student for its own estimate in inverse-variance fusion. */
    static final int STUDENT_PASSES = 4;
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
     * Runs the demo and writes {@code results.md} and {@code results.json} into a new run folder.
     *
     * @return the run folder and the table
     * @throws IOException if the run folder cannot be written
     */
    public Result run() throws IOException {
        TabularData digits = SklearnCsv.load("digits", config.datasetDir()).scale(1f / 16f);
        TabularData.Split split = digits.split(0.2, config.seed());
        TabularData train = split.train();
        TabularData test = split.test();
        int classes = digits.numClasses();
        Path runDir = config.runsDir().resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS")));
        LOG.info("digits: {} train, {} test, {} classes; run folder {}", train.size(), test.size(), classes, runDir);

        TrainConfig teacherCfg = new TrainConfig(config.teacherEpochs(), BATCH, LR, 1e-4f, config.seed(), device);
        Mlp.Builder teacherArch = Mlp.builder().setInputs(digits.width()).setHidden(TEACHER_HIDDEN).setOutputs(classes)
                .optDropout(0.3f);
        int teacherSteps = config.teacherEpochs() * steps(train.size());
        int studentSteps = config.targets().size() * config.students() * config.studentEpochs() * steps(train.size());
        float[][][] samples;
        double teacherAccuracy;
        try (ProgressBar bar = bar("teacher", teacherSteps + train.size());
                Model teacher = StudentTrainer.train("teacher", teacherArch.build(), train.features(),
                        oneHot(train.labels(), classes), new SoftTargetCrossEntropyLoss(), teacherCfg,
                        (e, s, n, l) -> bar.step())) {
            teacherAccuracy = Metrics.accuracy(Metrics.toDouble(Inference.probabilities(teacher, test.features(), false)),
                    test.labels());
            McDropoutTeacher sampler = new McDropoutTeacher(teacher, config.k(), classes, config.seed(), teacherArch.describe());
            TeacherCache cache = sampler.sample(train.features(), runDir.resolve("teacher-cache"), 256,
                    done -> bar.stepTo(teacherSteps + done));
            cache.verify();
            samples = cache.readAll();
        }
        LOG.info("teacher test accuracy {}; cached k={} samples for {} inputs", String.format(Locale.ROOT, "%.4f",
                teacherAccuracy), config.k(), samples.length);

        List<ResultsTable.Row> rows = new ArrayList<>();
        try (ProgressBar bar = bar("students", studentSteps)) {
            for (String name : config.targets()) {
                rows.add(trainStudents(name, Registry.target(name, Map.of()), train, test, samples, classes, bar));
            }
        }
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("command", "distill4j demo");
        provenance.put("config", config.asMap());
        provenance.put("teacher", teacherArch.describe());
        provenance.put("student", Mlp.builder().setInputs(digits.width()).setHidden(STUDENT_HIDDEN).setOutputs(classes)
                .optDropout(0.2f).describe());
        provenance.put("teacherTestAccuracy", teacherAccuracy);
        provenance.put("datasetFingerprint", Sha256.fingerprint(digits.features()));
        provenance.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
        provenance.put("device", device.toString());
        provenance.put("java", System.getProperty("java.version"));
        ResultsTable table = new ResultsTable(String.format(Locale.ROOT,
                "digits: MC-dropout teacher (k=%d), %d students per target", config.k(), config.students()),
                provenance, rows);
        table.write(runDir);
        return new Result(runDir, table);
    }

    private ResultsTable.Row trainStudents(String name, TargetBuilder builder, TabularData train, TabularData test,
            float[][][] samples, int classes, ProgressBar bar) {
        int m = config.students();
        double[] acc = new double[m];
        double[] nll = new double[m];
        double[] ece = new double[m];
        double[][][] probs = new double[m][][];
        double entropy = 0;
        int k = samples[0].length;
        float[] flat = new float[samples.length * k * classes];
        for (int i = 0; i < samples.length; i++) {
            for (int j = 0; j < k; j++) {
                System.arraycopy(samples[i][j], 0, flat, (i * k + j) * classes, classes);
            }
        }
        for (int s = 0; s < m; s++) {
            long seed = config.seed() + 1 + s;
            TrainConfig cfg = new TrainConfig(config.studentEpochs(), BATCH, LR, 1e-4f, seed, device);
            try (NDManager data = NDManager.newBaseManager(device)) {
                NDArray all = data.create(flat, new Shape(samples.length, k, classes));
                BatchTargets targets = (mgr, rows, x, probe) -> {
                    NDArray batch = all.get(mgr.create(rows));
                    batch.attach(mgr); // the gathered rows belong to the step, not to the run's data manager
                    StudentEstimate est = null;
                    if (builder.needsStudentEstimate()) {
                        NDArray passes = probe.mcDropoutProbabilities(x, STUDENT_PASSES);
                        est = StudentEstimate.fromPasses(passes.transpose(1, 0, 2));
                    }
                    return new NDList(builder.build(batch, est));
                };
                Mlp.Builder arch = Mlp.builder().setInputs(train.width()).setHidden(STUDENT_HIDDEN).setOutputs(classes)
                        .optDropout(0.2f);
                try (Model student = StudentTrainer.train("student-" + name + "-" + seed, arch.build(), train.features(),
                        targets, new SoftTargetCrossEntropyLoss(), cfg, (e, st, n, l) -> bar.step())) {
                    probs[s] = Metrics.toDouble(Inference.probabilities(student, test.features(), false));
                }
            }
            acc[s] = Metrics.accuracy(probs[s], test.labels());
            nll[s] = Metrics.nll(probs[s], test.labels());
            ece[s] = Metrics.ece(probs[s], test.labels());
            entropy += Metrics.meanEntropy(probs[s]) / m;
        }
        return new ResultsTable.Row(name, m, Summary.of(acc), Summary.of(nll), Summary.of(ece),
                Metrics.interStudentVariance(probs), entropy);
    }

    private static BatchTargets oneHot(int[] labels, int classes) {
        return (mgr, rows, x, probe) -> {
            int[] y = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                y[i] = labels[rows[i]];
            }
            return new NDList(mgr.create(y).oneHot(classes).toType(ai.djl.ndarray.types.DataType.FLOAT32, false));
        };
    }

    private static int steps(int n) {
        return (n + BATCH - 1) / BATCH;
    }

    private static ProgressBar bar(String task, long max) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(500).continuousUpdate().build();
    }

    /**
     * What the demo produced.
     *
     * @param runDir the run folder holding the cache and the results
     * @param table the results table
     */
    public record Result(Path runDir, ResultsTable table) {
    }
}

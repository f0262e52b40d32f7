package io.distill4j.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.Sha256;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.loss.Registry;
import io.distill4j.loss.StudentEstimate;
import io.distill4j.loss.TargetBuilder;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.trainer.BatchTargets;
import io.distill4j.trainer.EngineConfig;
import io.distill4j.trainer.Evaluators;
import io.distill4j.models.MlpPreset;
import io.distill4j.trainer.MultiStudentRun;
import io.distill4j.trainer.stats.Summary;
import io.distill4j.trainer.TabularBatchSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code distill4j train CONFIG.yaml}: M students from M seeds learn from a teacher cache made by
 * {@code distill4j sample}, with a target builder and a loss chosen by name; results per seed and
 * aggregated (mean, std, 95% CI), plus the inter-student variances of predictions and parameters.
 *
 * <p>The config names the sample job ({@code sample:}), whose data settings rebuild exactly the rows the
 * teacher saw, in cache order; the cache's dataset fingerprint must match them. Keys: {@code sample},
 * {@code student} (an MLP preset file), {@code target} and {@code targetOptions}, {@code loss} and
 * {@code lossOptions}, {@code studentPasses} (MC-dropout passes for targets that need the student's own
 * estimate, default 4), {@code out} (default {@code runs/train}), and {@code training} (see
 * {@link EngineConfig}).
 */
public final class TrainJob {
    private static final Set<String> KEYS = Set.of("sample", "student", "target", "targetOptions", "loss", "lossOptions",
            "studentPasses", "out", "training");

    private TrainJob() {
    }

    /**
     * What a run produced.
     *
     * @param runDir the folder holding {@code results.md} and {@code results.json}
     * @param result the multi-student result
     * @param markdown the results as Markdown
     */
    public record Outcome(Path runDir, MultiStudentRun.Result result, String markdown) {
    }

    /**
     * Runs a train config.
     *
     * @param file the YAML config
     * @param home the folder relative paths in the config are resolved against
     * @return the outcome
     * @throws IOException if results cannot be written
     */
    @SuppressWarnings("unchecked")
    public static Outcome run(Path file, Path home) throws IOException {
        Map<String, Object> root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readValue(file.toFile(), Map.class);
        } catch (java.io.FileNotFoundException | java.nio.file.NoSuchFileException e) {
            throw new BadInputException(file + ": train config not found", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": malformed YAML: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (root == null) {
            throw new BadInputException(file + ": empty train config");
        }
        for (String k : root.keySet()) {
            if (!KEYS.contains(k)) {
                throw new BadInputException(file + ": unknown key '" + k + "' (known: " + new java.util.TreeSet<>(KEYS) + ")");
            }
        }
        String src = file.toString();
        Path samplePath = home.resolve(required(root, "sample", src));
        SampleSpec sample = SampleSpec.load(samplePath);
        Map<String, Object> studentMap;
        Path studentPath = home.resolve(required(root, "student", src));
        try {
            studentMap = new ObjectMapper(new YAMLFactory()).readValue(studentPath.toFile(), Map.class);
        } catch (IOException e) {
            throw new BadInputException(studentPath + ": cannot read the student preset: " + e.getMessage(), e);
        }
        MlpPreset preset = MlpPreset.fromPreset(studentMap, studentPath.toString());
        String targetName = required(root, "target", src);
        String lossName = required(root, "loss", src);
        TargetBuilder target;
        ai.djl.training.loss.Loss loss;
        try {
            target = Registry.target(targetName, (Map<String, ?>) root.getOrDefault("targetOptions", Map.of()));
            loss = Registry.loss(lossName, (Map<String, ?>) root.getOrDefault("lossOptions", Map.of()));
        } catch (IllegalArgumentException e) {
            throw new BadInputException(src + ": " + e.getMessage(), e);
        }
        int passes = ((Number) root.getOrDefault("studentPasses", 4)).intValue();
        if (passes < 2) {
            throw new BadInputException(src + ": field studentPasses: must be at least 2, got " + passes);
        }
        EngineConfig engine = EngineConfig.fromMap((Map<String, ?>) root.getOrDefault("training", Map.of()), src + " (training)");

        SampleJob.Prepared data = SampleJob.prepare(sample.data());
        if (!"train".equals(sample.data().sample())) {
            throw new BadInputException(samplePath + ": field data.sample: students learn from the train part, got '"
                    + sample.data().sample() + "'");
        }
        TabularData train = data.split().train();
        TabularData test = data.split().test();
        if (!train.isClassification()) {
            throw new BadInputException(samplePath + ": distill4j train handles classification caches; '"
                    + sample.data().dataset() + "' is a regression dataset");
        }
        preset.checkFits(studentPath.toString(), sample.data().dataset(), train.width(), train.numClasses());
        TeacherCache cache = TeacherCache.open(sample.cache());
        CacheManifest m = cache.manifest();
        if (m.items() != train.size()) {
            throw new BadInputException(sample.cache() + ": holds " + m.items() + " items but the train part has " + train.size()
                    + " rows; run 'distill4j sample " + samplePath + "' to complete it");
        }
        String fp = Sha256.fingerprint(train.features());
        if (!fp.equals(m.datasetFingerprint())) {
            throw new BadInputException(sample.cache() + ": field datasetFingerprint: " + m.datasetFingerprint()
                    + " does not match the rows of " + samplePath + " (" + fp + ")");
        }
        if (!"probabilities".equals(m.signal()) || m.width() != train.numClasses()) {
            throw new BadInputException(sample.cache() + ": needs probability samples over " + train.numClasses()
                    + " classes, has " + m.signal() + " of width " + m.width());
        }
        float[][][] samples = cache.readAll();
        int k = m.k();
        int c = m.width();
        float[] flat = new float[samples.length * k * c];
        for (int i = 0; i < samples.length; i++) {
            for (int j = 0; j < k; j++) {
                System.arraycopy(samples[i][j], 0, flat, (i * k + j) * c, c);
            }
        }
        int[] labels = train.labels();
        List<Long> seeds = engine.seedList(src);
        ai.djl.Device device = EngineConfig.parseDevice(engine.device() == null ? "cpu" : engine.device());
        // The cached samples go to the device once per run; each step gathers its rows into the step's manager.
        try (ai.djl.ndarray.NDManager cached = ai.djl.ndarray.NDManager.newBaseManager(device)) {
            NDArray all = cached.create(flat, new Shape(samples.length, k, c));
            BatchTargets targets = (mgr, rows, x, probe) -> {
                long[] idx = new long[rows.length];
                int[] y = new int[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    idx[i] = rows[i];
                    y[i] = labels[rows[i]];
                }
                NDArray batch = all.get(mgr.create(idx));
                batch.attach(mgr);
                StudentEstimate est = target.needsStudentEstimate()
                        ? StudentEstimate.fromPasses(probe.mcDropoutProbabilities(x, passes).transpose(1, 0, 2)) : null;
                return new NDList(target.build(batch, est, target.needsLabels() ? mgr.create(y) : null));
            };
            return trainAndWrite(root, file, sample, targetName, lossName, k, m, train, test, preset, loss, engine, seeds,
                    device, targets, home);
        }
    }

    private static Outcome trainAndWrite(Map<String, Object> root, Path file, SampleSpec sample, String targetName,
            String lossName, int k, CacheManifest m, TabularData train, TabularData test, MlpPreset preset,
            ai.djl.training.loss.Loss loss, EngineConfig engine, List<Long> seeds, ai.djl.Device device, BatchTargets targets,
            Path home) throws IOException {
        String src = file.toString();
        Path out = home.resolve(String.valueOf(root.getOrDefault("out", "runs/train")))
                .resolve(java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        MultiStudentRun.Result result;
        try (TabularBatchSource source = new TabularBatchSource(train.features(), targets, engine.batchSizeOrDefault(), device)) {
            MultiStudentRun.Builder b = MultiStudentRun.builder().optName("train").setSeeds(seeds)
                    .setStudents(seed -> preset.builder().build()).setData(source).setLoss(loss)
                    .setSpec(engine.toSpec(seeds.get(0), src))
                    .setEvaluator(Evaluators.classification(test.features(), test.labels(), null, 0))
                    .optResume(engine.resumeOrDefault()).optParameterVariance(true);
            result = b.build().run();
        }
        String md = markdown(file, sample, targetName, lossName, k, result);
        Files.createDirectories(out);
        atomic(out.resolve("results.md"), md.getBytes(StandardCharsets.UTF_8));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("config", root);
        json.put("cache", sample.cache().toString());
        json.put("cacheFingerprint", m.datasetFingerprint());
        json.put("result", result);
        atomic(out.resolve("results.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsBytes(json));
        return new Outcome(out, result, md);
    }

    private static String markdown(Path file, SampleSpec sample, String target, String loss, int k,
            MultiStudentRun.Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "## %s: %d students, target %s, loss %s, teacher cache %s (k=%d)%n%n",
                file.getFileName(), r.students().size(), target, loss, sample.cache(), k));
        List<String> names = new ArrayList<>(r.aggregates().keySet());
        sb.append("| seed | updates | ").append(String.join(" | ", names)).append(" |\n|---|---|");
        sb.append("---|".repeat(names.size())).append('\n');
        for (MultiStudentRun.StudentResult s : r.students()) {
            sb.append("| ").append(s.seed()).append(" | ").append(s.training().steps());
            for (String n : names) {
                sb.append(String.format(Locale.ROOT, " | %.4f", s.metrics().get(n)));
            }
            sb.append(" |\n");
        }
        sb.append("| **mean ± std** | ");
        for (String n : names) {
            Summary a = r.aggregates().get(n);
            sb.append(String.format(Locale.ROOT, " | %.4f ± %.4f", a.mean(), a.std()));
        }
        sb.append(" |\n| **95% CI** | ");
        for (String n : names) {
            Summary a = r.aggregates().get(n);
            sb.append(String.format(Locale.ROOT, " | [%.4f, %.4f]", a.low(), a.high()));
        }
        sb.append(String.format(Locale.ROOT, " |%n%nstd: the sample standard deviation (ddof 1) over the students; "
                + "95%% CI: the Student-t interval of the mean (%s).%n", Summary.meaning(Summary.CONFIDENCE,
                        r.students().size(), "students")));
        sb.append(String.format(Locale.ROOT, "%nInter-student variance: predictions %.3e, parameters %.3e.%n",
                r.predictionVariance(), r.parameterVariance()));
        return sb.toString();
    }

    private static String required(Map<String, Object> root, String key, String src) {
        Object v = root.get(key);
        if (v == null) {
            throw new BadInputException(src + ": field " + key + ": missing");
        }
        return v.toString();
    }

    private static void atomic(Path f, byte[] bytes) throws IOException {
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}

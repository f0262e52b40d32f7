package io.distill4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.loss.DistillationLoss;
import io.distill4j.loss.Registry;
import io.distill4j.loss.TargetBuilder;
import io.distill4j.models.StudentPreset;
import io.distill4j.models.StudentPresets;
import io.distill4j.models.lm.LmPreset;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.Draws;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.pipeline.StudentEstimates;
import io.distill4j.pipeline.Teachers;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.lm.LmOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/**
 * {@code distill4j train CONFIG.yaml}: reads a train config and runs the {@link Distillation} pipeline on the cache of
 * a {@code distill4j sample} job. Paths in the file are relative to the file's folder.
 *
 * <pre>
 * sample: ../../teacher/examples/digits-mc-dropout.yaml   # the sample job: its data, teacher and cache
 * student: ../../../models/mlp-digits.yaml                 # a preset file, or a mapping with model_type
 * target: mean                     # single, mean, inverse-variance, inverse-variance-paper, bayesian-mean, wrong-mass-clip
 * targetOptions: {}
 * loss: soft-ce                    # every registry loss whose labels the cache and target can give
 * lossOptions: {}
 * students: 5                      # seeds 1..5; or seeds: [1, 2, 3]
 * draws: per-student               # per-student (each student its own draws) or shared
 * samples: 0                       # draws per student; 0: the cache's k divided among the students
 * stacked: false                   # MLP students: train them all at once as one stacked block (same results files)
 * studentPasses: 4                 # MC-dropout passes for targets that fuse with the student's own estimate
 * studentEstimate: mc-dropout      # where that estimate comes from: mc-dropout (default), pilot (ols students), or
 *                                  # ema / {name: ema, alpha: 0.1, variance: of-mean | spread, initialSpread: 0}
 * evaluationPasses: 8              # MC-dropout passes for the intra-student variance; 0 to skip
 * topK: 5                          # K for sparse-topk-kl on a dense cache
 * resume: false                    # continue each student from its newest checkpoint
 * out: ../../../runs/train         # a new timestamped folder is made inside
 * training: {epochs: 30, batchSize: 64, learningRate: 1.0e-3}   # see TrainingSpec
 * </pre>
 *
 * <p>A language-model sample job (teacher type {@code http} or {@code lm}, a sequence cache) trains causal-LM
 * students: a {@code gpt2} or {@code llama} preset (vocabulary, context and BOS/EOS from the teacher) or a Hugging
 * Face folder, with {@code lm:} choosing the mode ({@link LmOptions}); {@code target}, {@code loss} and the MC-dropout
 * keys do not apply:
 *
 * <pre>
 * sample: ../../teacher/examples/qa-llama-server.yaml
 * student: ../../../models/llama-tiny.yaml      # or a Hugging Face folder to start from
 * tokenizer: path/to/tokenizer.json              # the teacher's (or its .gguf); default: the lm teacher's or the student folder's
 * lm: {mode: token-kd, alpha: 0.5, heldOut: 0.1} # sft-one, sft-all, sft-mean, sft-inverse-variance, token-kd,
 *                                                # on-policy (lmbda, beta, continuations...: a local lm teacher)
 * lora: {rank: 8, alpha: 16, dropout: 0.05, targets: [q, v, o, mlp], rslora: false}   # optional, every mode
 * students: 3
 * training: {epochs: 3, batchSize: 8, learningRate: 5.0e-4, warmupSteps: 10, schedule: cosine}
 * </pre>
 */
public final class TrainJob {

    private TrainJob() {
    }

    /**
     * The keys of a train config; bound strictly.
     *
     * @param sample the sample job file
     * @param student a preset file or an inline preset
     * @param target the target's registry name
     * @param targetOptions its options
     * @param loss the loss's registry name
     * @param lossOptions its options
     * @param students the number of students (seeds 1..n)
     * @param seeds the students' seeds
     * @param draws how students share the teacher's draws
     * @param samples draws per student, 0 for the cache's k divided among them
     * @param stacked whether MLP students train at once as one stack ({@link Distillation.Builder#stacked})
     * @param studentPasses MC-dropout passes for the student's own estimate
     * @param studentEstimate where the student's own estimate comes from ({@link StudentEstimates#fromSpec})
     * @param evaluationPasses MC-dropout passes for the intra-student variance
     * @param topK K for top-K labels
     * @param resume whether to resume from checkpoints
     * @param out the folder runs are made in
     * @param training the training settings (bound into {@link TrainingSpec.Builder})
     * @param tokenizer the teacher's tokenizer.json for causal-LM students
     * @param lm what causal-LM students learn ({@link LmOptions})
     * @param lora LoRA adapters for causal-LM students ({@link io.distill4j.models.lm.LoraConfig}), absent for full
     *     fine-tuning
     */
    public record Config(Path sample, JsonNode student, String target, Map<String, Object> targetOptions, String loss,
            Map<String, Object> lossOptions, Integer students, List<Long> seeds, Draws draws, Integer samples,
            Boolean stacked, Integer studentPasses, Object studentEstimate, Integer evaluationPasses, Integer topK, Boolean resume, Path out, JsonNode training,
            Path tokenizer, JsonNode lm, JsonNode lora) {
    }

    /**
     * Reads a train config into a run, checking everything before any work.
     *
     * @param file the YAML file
     * @return the run (not yet fitted) and where it goes
     * @throws BadInputException naming file, line, column, key and value of the first fault
     */
    public static Prepared prepare(Path file) {
        io.distill4j.pipeline.Extension.loadInstalled();
        ConfigFile cf = ConfigFile.load(file);
        Config c = cf.bind("", Config.class);
        if (c.sample() == null) {
            throw cf.error("/sample", "required: the sample job whose cache the students learn from");
        }
        if (c.student() == null) {
            throw cf.error("/student", "required: a student preset file (models/*.yaml) or a mapping with model_type");
        }
        Path studentFolder = null;
        StudentPreset student;
        if (c.student().isTextual() && Files.isDirectory(cf.resolve(c.student().asText()))) {
            studentFolder = cf.resolve(c.student().asText());
            Path folder = studentFolder;
            student = cf.check("/student", () -> LmPreset.of(HfFolder.readConfig(folder)));
        } else {
            student = c.student().isTextual() ? StudentPresets.read(cf.resolve(c.student().asText()))
                    : StudentPresets.read(cf, "/student");
        }
        SampleSpec sample = SampleSpec.load(c.sample());
        boolean lmStudent = student instanceof LmPreset;
        String job = c.sample() + " (teacher.type " + (sample.isSequence() ? (sample.sequence().http() != null ? "http" : "lm")
                : sample.teacher().type()) + ")";
        if (sample.isSequence() && !lmStudent) {
            throw cf.error("/student", "model_type " + student.modelType() + " learns from a dense cache, but the sample job "
                    + job + " writes a sequence cache: use a causal-LM student (a gpt2 or llama preset such as"
                    + " models/llama-tiny.yaml, or a Hugging Face folder)");
        }
        if (!sample.isSequence() && lmStudent) {
            throw cf.error("/student", "a causal-LM student (model_type " + student.modelType() + ") learns from a"
                    + " language-model sample job (teacher.type " + String.join(" or ", SampleSpec.SEQUENCE_TYPES)
                    + "), but " + job + " writes a dense cache");
        }
        if (lmStudent) {
            return prepareLm(file, cf, c, sample, student, studentFolder);
        }
        for (String key : List.of("tokenizer", "lm", "lora")) {
            if (cf.isSet("/" + key)) {
                throw cf.error("/" + key, "only for causal-LM students (a language-model sample job)");
            }
        }
        if (!"train".equals(sample.data().sample())) {
            throw new BadInputException(c.sample() + ": field data.sample: students learn from the train part, got '"
                    + sample.data().sample() + "'");
        }
        TrainingSpec training = cf.check("/training", () -> cf.update("/training", TrainingSpec.builder()).build());
        String targetName = c.target() == null ? "mean" : c.target();
        TargetBuilder target = cf.check("/targetOptions", () -> Registry.target(targetName, c.targetOptions()));
        SampleJob.Prepared data = SampleJob.prepare(sample.data());
        String lossName = c.loss() == null ? (data.split().train().isClassification() ? "soft-ce" : "mse") : c.loss();
        DistillationLoss loss = cf.check("/lossOptions", () -> Registry.loss(lossName, c.lossOptions()));
        Distillation.Builder b = Distillation.builder().data(data.split()).teacher(Teachers.sampleJob(sample))
                .target(target).loss(loss).student(student).training(training)
                .command("distill4j train " + file);
        studentsAndDraws(cf, c, b);
        if (c.studentPasses() != null) {
            b.studentPasses(c.studentPasses());
        }
        if (c.studentEstimate() != null) {
            b.studentEstimate(cf.check("/studentEstimate", () -> StudentEstimates.fromSpec(c.studentEstimate())));
        }
        if (c.evaluationPasses() != null) {
            b.evaluationPasses(c.evaluationPasses());
        }
        if (c.topK() != null) {
            b.topK(c.topK());
        }
        if (c.resume() != null) {
            b.resume(c.resume());
        }
        if (c.stacked() != null) {
            b.stacked(c.stacked());
        }
        return prepared(cf, c, b);
    }

    private static Prepared prepareLm(Path file, ConfigFile cf, Config c, SampleSpec sample, StudentPreset student,
            Path studentFolder) {
        for (String key : List.of("target", "targetOptions", "loss", "lossOptions", "studentPasses", "studentEstimate",
                "evaluationPasses", "topK", "stacked")) {
            if (cf.isSet("/" + key)) {
                throw cf.error("/" + key, "does not apply to causal-LM students: lm.mode chooses what they learn"
                        + " (sft-one, sft-all, sft-mean, sft-inverse-variance, token-kd, on-policy)");
            }
        }
        if (c.tokenizer() != null && !Files.isRegularFile(c.tokenizer())) {
            throw cf.error("/tokenizer", "no such file, got '" + c.tokenizer() + "'");
        }
        TrainingSpec training = cf.check("/training", () -> cf.update("/training", TrainingSpec.builder()).build());
        LmOptions lm = cf.bind("/lm", LmOptions.class);
        Distillation.Builder b = Distillation.builder().teacher(Teachers.sampleJob(sample)).lm(lm).training(training)
                .tokenizer(c.tokenizer()).command("distill4j train " + file);
        if (c.lora() != null) {
            b.lora(cf.bind("/lora", io.distill4j.models.lm.LoraConfig.class));
        }
        if (studentFolder != null) {
            b.student(studentFolder);
        } else {
            b.student(student);
        }
        studentsAndDraws(cf, c, b);
        if (c.resume() != null) {
            b.resume(c.resume());
        }
        return prepared(cf, c, b);
    }

    private static Prepared prepared(ConfigFile cf, Config c, Distillation.Builder b) {
        Distillation run = cf.check("", b::build);
        Path out = (c.out() != null ? c.out() : Path.of(System.getProperty("distill4j.home", ".")).resolve("runs/train"))
                .resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        return new Prepared(run, out, c.sample());
    }

    /**
     * A checked run and its folder.
     *
     * @param run the run
     * @param runDir the folder it writes
     * @param sampleJob the sample job whose cache it learns from
     */
    public record Prepared(Distillation run, Path runDir, Path sampleJob) {
    }

    /**
     * Runs a train config.
     *
     * @param file the YAML config
     * @return the result (also written to its run folder)
     */
    public static RunResult run(Path file) {
        Prepared p = prepare(file);
        return p.run().fit(p.runDir());
    }

    /** Seeds or a student count, the draws design and the draws per student: the same keys for every student kind. */
    private static void studentsAndDraws(ConfigFile cf, Config c, Distillation.Builder b) {
        if (c.seeds() != null) {
            if (c.students() != null) {
                throw cf.error("/students", "give students or seeds, not both");
            }
            b.seeds(c.seeds());
        } else if (c.students() != null) {
            b.students(c.students());
        }
        if (c.draws() != null) {
            b.draws(c.draws());
        }
        if (c.samples() != null && c.samples() != 0) {
            b.samples(c.samples());
        }
    }
}

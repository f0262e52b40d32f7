package io.distill4j.trainer;

import ai.djl.Device;
import ai.djl.engine.Engine;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.distill4j.data.BadInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The training section of a run's YAML configuration: the engine settings and the students' seeds. Keys
 * are those of {@link TrainingSpec} (every one optional, with the spec's defaults), plus {@code seeds} or
 * {@code students}/{@code seed}, {@code batchSize}, {@code resume} and an {@code earlyStopping} block:
 * <pre>
 * device: cpu                  # cpu, gpu, gpu(i) or gpu:i
 * seeds: [1, 2, 3]             # or students: 3 and seed: 1 (seeds 1, 2, 3)
 * epochs: 10
 * batchSize: 64
 * maxSteps: 0                  # 0: no cap besides epochs
 * learningRate: 1.0e-3
 * weightDecay: 0.01
 * beta1: 0.9
 * beta2: 0.999
 * epsilon: 1.0e-8
 * noDecay: [bias]
 * schedule: cosine             # constant, linear or cosine
 * warmupSteps: 100
 * maxGradNorm: 1.0             # 0: no clipping
 * accumulationSteps: 1
 * precision: fp32              # fp32, or fp16 on a GPU
 * checkpointEvery: 500         # 0: no checkpoints
 * checkpointDir: checkpoints
 * keepCheckpoints: 2           # 0: keep all
 * resume: false                # continue each student from its newest checkpoint
 * validateEvery: 0             # 0: validate at each epoch end
 * earlyStopping: {metric: nll, patience: 3, minDelta: 0.0, restoreBest: true}
 * logEvery: 100
 * progressBar: true
 * </pre>
 * A key that does not exist, or a value of the wrong type or range, is a {@link BadInputException} naming
 * the source, the key and the value.
 *
 * @param device the device
 * @param seeds the students' seeds
 * @param students the number of students (with {@code seed})
 * @param seed the first seed (with {@code students})
 * @param epochs passes over the data
 * @param batchSize items per micro-batch
 * @param maxSteps cap on optimiser updates
 * @param learningRate peak learning rate
 * @param weightDecay AdamW decoupled weight decay
 * @param beta1 AdamW first-moment decay
 * @param beta2 AdamW second-moment decay
 * @param epsilon AdamW epsilon
 * @param noDecay parameter-name parts exempt from weight decay
 * @param schedule constant, linear or cosine
 * @param warmupSteps warm-up updates
 * @param maxGradNorm clipping norm, 0 for none
 * @param accumulationSteps micro-batches per update
 * @param precision fp32 or fp16
 * @param checkpointEvery updates between checkpoints, 0 for none
 * @param checkpointDir checkpoint folder
 * @param keepCheckpoints newest checkpoints kept, 0 for all
 * @param resume whether to resume each student from its newest checkpoint
 * @param validateEvery updates between validations, 0 for each epoch end
 * @param earlyStopping the early-stopping block, or null
 * @param logEvery updates between log lines
 * @param progressBar whether to show a progress bar
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EngineConfig(String device, List<Long> seeds, Integer students, Long seed, Integer epochs,
        Integer batchSize, Long maxSteps, Float learningRate, Float weightDecay, Float beta1, Float beta2,
        Float epsilon, List<String> noDecay, String schedule, Long warmupSteps, Float maxGradNorm,
        Integer accumulationSteps, String precision, Long checkpointEvery, String checkpointDir,
        Integer keepCheckpoints, Boolean resume, Long validateEvery, EarlyStop earlyStopping, Long logEvery,
        Boolean progressBar) {

    /** The default micro-batch size. */
    public static final int DEFAULT_BATCH_SIZE = 64;

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    private static final Pattern GPU = Pattern.compile("gpu(?:\\((\\d+)\\)|:(\\d+))?");

    /**
     * The early-stopping block.
     *
     * @param metric the validation metric: accuracy, nll, ece, brier or mse
     * @param patience validations without improvement tolerated
     * @param minDelta smallest improvement that counts
     * @param restoreBest whether to restore the best parameters at the end
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EarlyStop(String metric, Integer patience, Double minDelta, Boolean restoreBest) {
    }

    /**
     * Reads the training section from a parsed YAML or JSON mapping (the CLI parses the file).
     *
     * @param map the mapping, for example from {@code new ObjectMapper(new YAMLFactory()).readValue(file, Map.class)}
     * @param source names the file (and section) in error messages
     * @return the configuration, checked by building the spec of its first seed
     * @throws BadInputException naming the source, key and value of an unknown key or a bad value
     */
    public static EngineConfig fromMap(Map<String, ?> map, String source) {
        EngineConfig c;
        try {
            c = MAPPER.convertValue(map, EngineConfig.class);
        } catch (IllegalArgumentException e) {
            throw translate(e, source);
        }
        if (c == null) {
            c = MAPPER.convertValue(Map.of(), EngineConfig.class);
        }
        c.seedList(source);
        c.toSpec(c.seedList(source).get(0), source);
        return c;
    }

    /** @return the micro-batch size (default {@value #DEFAULT_BATCH_SIZE}) */
    public int batchSizeOrDefault() {
        return batchSize == null ? DEFAULT_BATCH_SIZE : batchSize;
    }

    /** @return whether to resume each student from its newest checkpoint */
    public boolean resumeOrDefault() {
        return resume != null && resume;
    }

    /**
     * The students' seeds: {@code seeds}, or {@code students} consecutive seeds from {@code seed} (default 0),
     * or the single seed {@code seed}.
     *
     * @param source names the file in errors
     * @return the seeds
     */
    public List<Long> seedList(String source) {
        if (seeds != null) {
            if (students != null || seed != null) {
                throw new BadInputException(source + ": give either 'seeds' or 'students'/'seed', not both");
            }
            if (seeds.isEmpty()) {
                throw new BadInputException(source + ": key 'seeds' is empty");
            }
            if (new TreeSet<>(seeds).size() != seeds.size()) {
                throw new BadInputException(source + ": key 'seeds' repeats a seed: " + seeds);
            }
            return List.copyOf(seeds);
        }
        int m = students == null ? 1 : students;
        if (m <= 0) {
            throw new BadInputException(source + ": key 'students' must be positive, got " + m);
        }
        long first = seed == null ? 0 : seed;
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            out.add(first + i);
        }
        return out;
    }

    /**
     * The engine settings of one student.
     *
     * @param studentSeed the student's seed
     * @param source names the file in errors
     * @return the spec (checkpoints in {@code checkpointDir}; a multi-student run adds {@code seed-<s>})
     * @throws BadInputException naming the source, key and value of a bad setting
     */
    public TrainingSpec toSpec(long studentSeed, String source) {
        TrainingSpec.Builder b = TrainingSpec.builder().setSeed(studentSeed);
        try {
            if (device != null) {
                b.setDevice(parseDevice(device));
            }
            if (batchSize != null && batchSize <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
            }
            if (epochs != null) {
                b.setEpochs(epochs);
            }
            if (maxSteps != null) {
                b.optMaxSteps(maxSteps);
            }
            if (learningRate != null) {
                b.setLearningRate(learningRate);
            }
            if (weightDecay != null) {
                b.optWeightDecay(weightDecay);
            }
            if (beta1 != null || beta2 != null) {
                b.optBetas(beta1 == null ? 0.9f : beta1, beta2 == null ? 0.999f : beta2);
            }
            if (epsilon != null) {
                b.optEpsilon(epsilon);
            }
            if (noDecay != null) {
                b.optNoDecay(noDecay);
            }
            LrSchedule.Kind kind = schedule == null ? LrSchedule.Kind.CONSTANT : parse("schedule", schedule,
                    LrSchedule.Kind::parse);
            b.optSchedule(kind, warmupSteps == null ? 0 : warmupSteps);
            if (maxGradNorm != null) {
                b.optMaxGradNorm(maxGradNorm);
            }
            if (accumulationSteps != null) {
                b.optAccumulationSteps(accumulationSteps);
            }
            if (precision != null) {
                b.optPrecision(parse("precision", precision, Precision::parse));
            }
            if (checkpointEvery != null && checkpointEvery > 0) {
                if (checkpointDir == null) {
                    throw new IllegalArgumentException("checkpointEvery is " + checkpointEvery
                            + " but no checkpointDir is set");
                }
                b.optCheckpoints(checkpointEvery, Path.of(checkpointDir), keepCheckpoints == null ? 0 : keepCheckpoints);
            } else if (checkpointEvery != null && checkpointEvery < 0) {
                throw new IllegalArgumentException("checkpointEvery must be non-negative, got " + checkpointEvery);
            }
            if (resumeOrDefault() && (checkpointEvery == null || checkpointEvery == 0)) {
                throw new IllegalArgumentException("resume is true but checkpointEvery is not set");
            }
            if (validateEvery != null) {
                b.optValidateEvery(validateEvery);
            }
            if (earlyStopping != null) {
                b.optEarlyStopping(earlyStoppingRule());
            }
            if (logEvery != null) {
                b.optLogEvery(logEvery);
            }
            if (progressBar != null) {
                b.optProgressBar(progressBar);
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new BadInputException(source + ": " + e.getMessage(), e);
        }
    }

    /** @return the validation metric of early stopping, or null without early stopping */
    public String validationMetric() {
        return earlyStopping == null ? null : earlyStopping.metric();
    }

    private EarlyStopping earlyStoppingRule() {
        if (earlyStopping.metric() == null) {
            throw new IllegalArgumentException("earlyStopping.metric is missing (accuracy, nll, ece, brier or mse)");
        }
        boolean higher;
        try {
            higher = Evaluators.higherIsBetter(earlyStopping.metric());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("earlyStopping.metric: " + e.getMessage(), e);
        }
        int patience = earlyStopping.patience() == null ? 3 : earlyStopping.patience();
        double minDelta = earlyStopping.minDelta() == null ? 0 : earlyStopping.minDelta();
        try {
            return new EarlyStopping(higher, patience, minDelta,
                    earlyStopping.restoreBest() == null || earlyStopping.restoreBest());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("early-stopping ", "earlyStopping."), e);
        }
    }

    private static <T> T parse(String key, String value, java.util.function.Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("key '" + key + "': " + e.getMessage(), e);
        }
    }

    /**
     * Parses a device name.
     *
     * @param name {@code cpu}, {@code gpu}, {@code gpu(i)} or {@code gpu:i}
     * @return the device
     * @throws IllegalArgumentException if the name is malformed or the GPU is not visible
     */
    public static Device parseDevice(String name) {
        if ("cpu".equals(name)) {
            return Device.cpu();
        }
        Matcher m = GPU.matcher(name);
        if (!m.matches()) {
            throw new IllegalArgumentException("key 'device': unknown device '" + name + "' (use cpu, gpu or gpu(i))");
        }
        int id = m.group(1) != null ? Integer.parseInt(m.group(1)) : m.group(2) != null ? Integer.parseInt(m.group(2)) : 0;
        int gpus = Engine.getInstance().getGpuCount();
        if (id >= gpus) {
            throw new IllegalArgumentException("key 'device': " + name + " is not available, the engine sees " + gpus
                    + " GPU(s)");
        }
        return Device.gpu(id);
    }

    private static BadInputException translate(IllegalArgumentException e, String source) {
        Throwable c = e.getCause();
        if (c instanceof UnrecognizedPropertyException u) {
            String known = u.getKnownPropertyIds() == null ? "" : " (known: " + u.getKnownPropertyIds().stream()
                    .map(Object::toString).sorted().collect(Collectors.joining(", ")) + ")";
            return new BadInputException(source + ": unknown key '" + path(u) + "'" + known, e);
        }
        if (c instanceof InvalidFormatException f) {
            return new BadInputException(source + ": key '" + path(f) + "': cannot read '" + f.getValue() + "' as "
                    + simpleName(f.getTargetType()), e);
        }
        if (c instanceof MismatchedInputException mi) {
            return new BadInputException(source + ": key '" + path(mi) + "': expected "
                    + simpleName(mi.getTargetType()), e);
        }
        return new BadInputException(source + ": " + (c != null ? c.getMessage() : e.getMessage()), e);
    }

    private static String simpleName(Class<?> type) {
        return type == null ? "another type" : type.getSimpleName().toLowerCase(java.util.Locale.ROOT);
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                sb.append(sb.length() > 0 ? "." : "").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }
}

package io.distill4j.trainer;

import ai.djl.Device;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything the {@link TrainingEngine} needs to know about one run, validated by {@link Builder#build()}: the
 * project's one training-settings type (students, teachers, stacked students and LM fine-tuning all use it).
 *
 * <p>In YAML it is the {@code training:} section; every key is optional and named as the record component
 * (bound by {@code io.distill4j.data.config.ConfigFile#update} into a {@link Builder}, then {@code build()}):
 * <pre>
 * device: cpu                  # cpu, gpu, gpu(i) or gpu:i
 * seed: 0                      # (a multi-student run gives each student its own)
 * epochs: 10
 * batchSize: 64                # items per micro-batch
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
 * checkpointDir: checkpoints   # relative to the YAML file
 * keepCheckpoints: 2           # 0: keep all
 * validateEvery: 0             # 0: validate at each epoch end
 * earlyStopping: {metric: nll, patience: 3, minDelta: 0.0, restoreBest: true}
 * logEvery: 100
 * progressBar: true            # a bar on a terminal; plain lines otherwise
 * progressInterval: 30s        # between plain progress lines when standard error is not a terminal
 * tracking: {dir: runs/tb, every: 1, formats: [jsonl, tensorboard]}   # per-update metrics while training
 * </pre>
 *
 * @param device the device to train on: {@link Device#cpu()} (the default) or {@code Device.gpu(i)}
 * @param seed seeds the parameter initialisation, the data order and every step's dropout masks
 * @param epochs passes over the batch source, positive
 * @param batchSize items per micro-batch, positive (read by batch sources built from these settings)
 * @param maxSteps the most optimiser updates, 0 for no limit other than {@code epochs}
 * @param learningRate AdamW's peak learning rate
 * @param weightDecay AdamW's decoupled weight decay (PyTorch's default is 0.01)
 * @param beta1 AdamW's first-moment decay, in [0, 1)
 * @param beta2 AdamW's second-moment decay, in [0, 1)
 * @param epsilon AdamW's epsilon, positive
 * @param noDecay parameters whose name contains one of these strings get no weight decay (e.g. "bias")
 * @param schedule the learning-rate schedule after warm-up
 * @param warmupSteps optimiser updates of linear warm-up
 * @param maxGradNorm clip the global L2 norm of all gradients to this value; 0 disables clipping
 * @param accumulationSteps micro-batches whose gradients are summed (and averaged) per update, positive
 * @param precision the arithmetic; {@link Precision#FP16} needs a GPU
 * @param checkpointEvery save a checkpoint every this many updates (and at the end); 0 disables
 * @param checkpointDir the folder of the checkpoints, required when {@code checkpointEvery > 0}
 * @param keepCheckpoints the newest checkpoints to keep, 0 to keep all
 * @param resumeFrom a checkpoint folder to continue from, or null to start afresh
 * @param earlyStopping early-stopping rule on the validator's metric, or null for none
 * @param validateEvery run the validator every this many updates; 0 runs it at the end of each epoch
 * @param logEvery log a line every this many updates; 0 logs at epoch ends only
 * @param progressBar whether to show progress (on by default): a bar with loss, items/s and ETA on a terminal
 *     (the periodic log lines then go to DEBUG), a plain line every {@code progressInterval} otherwise
 * @param progressInterval the time between plain progress lines when standard error is not a terminal
 * @param tracking per-update metrics written as JSONL and TensorBoard files while training, or null for none
 */
public record TrainingSpec(Device device, long seed, int epochs, int batchSize, long maxSteps, float learningRate, float weightDecay,
        float beta1, float beta2, float epsilon, List<String> noDecay, LrSchedule.Kind schedule, long warmupSteps,
        float maxGradNorm, int accumulationSteps, Precision precision, long checkpointEvery, Path checkpointDir,
        int keepCheckpoints, Path resumeFrom, EarlyStopping earlyStopping, long validateEvery, long logEvery,
        boolean progressBar, Duration progressInterval, Tracking tracking) {

    /** Copies the list field. Validation is done by {@link Builder#build()}. */
    public TrainingSpec {
        noDecay = List.copyOf(noDecay);
    }

    /** The default micro-batch size. */
    public static final int DEFAULT_BATCH_SIZE = 64;

    /** @return a builder with the defaults: cpu, seed 0, 1 epoch, AdamW(1e-3, 0.01), constant schedule */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder holding this spec's values (an fp16 CPU spec, made by tests, stays buildable) */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.device = device;
        b.seed = seed;
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.maxSteps = maxSteps;
        b.learningRate = learningRate;
        b.weightDecay = weightDecay;
        b.beta1 = beta1;
        b.beta2 = beta2;
        b.epsilon = epsilon;
        b.noDecay = noDecay;
        b.schedule = schedule;
        b.warmupSteps = warmupSteps;
        b.maxGradNorm = maxGradNorm;
        b.accumulationSteps = accumulationSteps;
        b.precision = precision;
        b.checkpointEvery = checkpointEvery;
        b.checkpointDir = checkpointDir;
        b.keepCheckpoints = keepCheckpoints;
        b.resumeFrom = resumeFrom;
        b.earlyStopping = earlyStopping;
        b.validateEvery = validateEvery;
        b.logEvery = logEvery;
        b.progressBar = progressBar;
        b.progressInterval = progressInterval;
        b.tracking = tracking;
        b.allowFp16OnCpu = precision == Precision.FP16 && !"gpu".equals(device.getDeviceType());
        return b;
    }

    /**
     * Returns a copy with another seed (for one student of a multi-student run).
     *
     * @param newSeed the seed
     * @return the copy
     */
    public TrainingSpec withSeed(long newSeed) {
        return new TrainingSpec(device, newSeed, epochs, batchSize, maxSteps, learningRate, weightDecay, beta1, beta2, epsilon,
                noDecay, schedule, warmupSteps, maxGradNorm, accumulationSteps, precision, checkpointEvery,
                checkpointDir, keepCheckpoints, resumeFrom, earlyStopping, validateEvery, logEvery, progressBar,
                progressInterval, tracking);
    }

    /**
     * These settings as the {@code training:} section of a YAML file would give them (devices and enums in their
     * config spelling, paths as text, unset paths and rules left out), for provenance and model cards; binding the
     * map gives these settings back.
     *
     * @return the settings by key, in component order
     */
    public java.util.Map<String, Object> asMap() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("device", io.distill4j.data.Devices.name(device));
        m.put("seed", seed);
        m.put("epochs", epochs);
        m.put("batchSize", batchSize);
        m.put("maxSteps", maxSteps);
        m.put("learningRate", learningRate);
        m.put("weightDecay", weightDecay);
        m.put("beta1", beta1);
        m.put("beta2", beta2);
        m.put("epsilon", epsilon);
        m.put("noDecay", noDecay);
        m.put("schedule", io.distill4j.data.config.ConfigReader.enumName(schedule));
        m.put("warmupSteps", warmupSteps);
        m.put("maxGradNorm", maxGradNorm);
        m.put("accumulationSteps", accumulationSteps);
        m.put("precision", io.distill4j.data.config.ConfigReader.enumName(precision));
        m.put("checkpointEvery", checkpointEvery);
        if (checkpointDir != null) {
            m.put("checkpointDir", checkpointDir.toString());
        }
        m.put("keepCheckpoints", keepCheckpoints);
        if (resumeFrom != null) {
            m.put("resumeFrom", resumeFrom.toString());
        }
        if (earlyStopping != null) {
            java.util.Map<String, Object> e = new java.util.LinkedHashMap<>();
            e.put("metric", earlyStopping.metric());
            e.put("patience", earlyStopping.patience());
            e.put("minDelta", earlyStopping.minDelta());
            e.put("restoreBest", earlyStopping.restoreBest());
            m.put("earlyStopping", e);
        }
        m.put("validateEvery", validateEvery);
        m.put("logEvery", logEvery);
        m.put("progressBar", progressBar);
        m.put("progressInterval", progressInterval.toMillis() / 1000.0 + "s");
        if (tracking != null) {
            java.util.Map<String, Object> t = new java.util.LinkedHashMap<>();
            t.put("dir", tracking.dir().toString());
            t.put("every", tracking.every());
            t.put("formats", tracking.formats().stream().map(io.distill4j.data.config.ConfigReader::enumName).sorted().toList());
            m.put("tracking", t);
        }
        return m;
    }

    /**
     * The learning-rate schedule of a run of a given length.
     *
     * @param totalSteps the run's optimiser updates
     * @return the schedule
     */
    public LrSchedule lrSchedule(long totalSteps) {
        return new LrSchedule(schedule, learningRate, warmupSteps, Math.max(totalSteps, warmupSteps));
    }

    /** Builder of a {@link TrainingSpec}: {@code set*} for the essentials, {@code opt*} for the rest. */
    public static final class Builder {
        private Device device = Device.cpu();
        private long seed;
        private int epochs = 1;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private long maxSteps;
        private float learningRate = 1e-3f;
        private float weightDecay = 0.01f;
        private float beta1 = 0.9f;
        private float beta2 = 0.999f;
        private float epsilon = 1e-8f;
        private List<String> noDecay = List.of();
        private LrSchedule.Kind schedule = LrSchedule.Kind.CONSTANT;
        private long warmupSteps;
        private float maxGradNorm;
        private int accumulationSteps = 1;
        private Precision precision = Precision.FP32;
        private long checkpointEvery;
        private Path checkpointDir;
        private int keepCheckpoints;
        private Path resumeFrom;
        private EarlyStopping earlyStopping;
        private long validateEvery;
        private long logEvery = 100;
        private boolean progressBar = true;
        private Duration progressInterval = ConsoleProgress.DEFAULT_LINE_INTERVAL;
        private Tracking tracking;
        private transient boolean allowFp16OnCpu;

        private Builder() {
        }

        /**
         * Sets the device.
         *
         * @param d the device
         * @return this builder
         */
        public Builder setDevice(Device d) {
            this.device = d;
            return this;
        }

        /**
         * Sets the seed.
         *
         * @param s the seed
         * @return this builder
         */
        public Builder setSeed(long s) {
            this.seed = s;
            return this;
        }

        /**
         * Sets the number of epochs.
         *
         * @param e passes over the data, positive
         * @return this builder
         */
        public Builder setEpochs(int e) {
            this.epochs = e;
            return this;
        }

        /**
         * Sets the micro-batch size.
         *
         * @param items items per micro-batch, positive
         * @return this builder
         */
        public Builder setBatchSize(int items) {
            this.batchSize = items;
            return this;
        }

        /**
         * Sets the peak learning rate.
         *
         * @param lr the rate, positive
         * @return this builder
         */
        public Builder setLearningRate(float lr) {
            this.learningRate = lr;
            return this;
        }

        /**
         * Caps the number of optimiser updates.
         *
         * @param steps the cap, 0 for none
         * @return this builder
         */
        public Builder optMaxSteps(long steps) {
            this.maxSteps = steps;
            return this;
        }

        /**
         * Sets AdamW's decoupled weight decay.
         *
         * @param wd the decay, non-negative
         * @return this builder
         */
        public Builder optWeightDecay(float wd) {
            this.weightDecay = wd;
            return this;
        }

        /**
         * Sets AdamW's moment decays.
         *
         * @param b1 first-moment decay in [0, 1)
         * @param b2 second-moment decay in [0, 1)
         * @return this builder
         */
        public Builder optBetas(float b1, float b2) {
            this.beta1 = b1;
            this.beta2 = b2;
            return this;
        }

        /**
         * Sets AdamW's epsilon.
         *
         * @param eps the epsilon, positive
         * @return this builder
         */
        public Builder optEpsilon(float eps) {
            this.epsilon = eps;
            return this;
        }

        /**
         * Exempts parameters from weight decay by name.
         *
         * @param nameParts a parameter whose name contains one of these gets no decay
         * @return this builder
         */
        public Builder optNoDecay(List<String> nameParts) {
            this.noDecay = List.copyOf(nameParts);
            return this;
        }

        /**
         * Sets the schedule and its warm-up.
         *
         * @param kind constant, linear or cosine
         * @param warmup optimiser updates of linear warm-up, non-negative
         * @return this builder
         */
        public Builder optSchedule(LrSchedule.Kind kind, long warmup) {
            this.schedule = kind;
            this.warmupSteps = warmup;
            return this;
        }

        /**
         * Enables gradient clipping by global L2 norm.
         *
         * @param norm the largest norm, positive; 0 disables clipping
         * @return this builder
         */
        public Builder optMaxGradNorm(float norm) {
            this.maxGradNorm = norm;
            return this;
        }

        /**
         * Sets gradient accumulation.
         *
         * @param steps micro-batches per optimiser update, positive
         * @return this builder
         */
        public Builder optAccumulationSteps(int steps) {
            this.accumulationSteps = steps;
            return this;
        }

        /**
         * Sets the arithmetic.
         *
         * @param p fp32, or fp16 (GPU only)
         * @return this builder
         */
        public Builder optPrecision(Precision p) {
            this.precision = p;
            return this;
        }

        /**
         * Enables checkpoints.
         *
         * @param every optimiser updates between checkpoints, positive
         * @param dir the checkpoint folder
         * @param keep the newest checkpoints to keep, 0 for all
         * @return this builder
         */
        public Builder optCheckpoints(long every, Path dir, int keep) {
            this.checkpointEvery = every;
            this.checkpointDir = dir;
            this.keepCheckpoints = keep;
            return this;
        }

        /**
         * Continues a run from a checkpoint.
         *
         * @param checkpoint the checkpoint folder (see {@link Checkpoint#latest}), or null
         * @return this builder
         */
        public Builder optResumeFrom(Path checkpoint) {
            this.resumeFrom = checkpoint;
            return this;
        }

        /**
         * Enables early stopping (a validator must be passed to the engine).
         *
         * @param rule the rule, or null for none
         * @return this builder
         */
        public Builder optEarlyStopping(EarlyStopping rule) {
            this.earlyStopping = rule;
            return this;
        }

        /**
         * Sets how often the validator runs.
         *
         * @param steps optimiser updates between validations; 0 validates at each epoch end
         * @return this builder
         */
        public Builder optValidateEvery(long steps) {
            this.validateEvery = steps;
            return this;
        }

        /**
         * Sets how often a log line is written.
         *
         * @param steps optimiser updates between log lines; 0 logs at epoch ends only
         * @return this builder
         */
        public Builder optLogEvery(long steps) {
            this.logEvery = steps;
            return this;
        }

        /**
         * Shows or hides the progress display (shown by default).
         *
         * @param show whether to show it
         * @return this builder
         */
        public Builder optProgressBar(boolean show) {
            this.progressBar = show;
            return this;
        }

        /**
         * Sets the time between plain progress lines when standard error is not a terminal.
         *
         * @param interval positive; 30 seconds by default
         * @return this builder
         */
        public Builder optProgressInterval(Duration interval) {
            this.progressInterval = interval;
            return this;
        }

        /**
         * Streams per-update metrics to JSONL and TensorBoard files while training.
         *
         * @param t where and what to write ({@link Tracking#of}), or null for none
         * @return this builder
         */
        public Builder optTracking(Tracking t) {
            this.tracking = t;
            return this;
        }

        /** Lets tests exercise the fp16 path on the CPU, where PyTorch has float16 kernels but no speed-up. */
        Builder allowFp16OnCpu() {
            this.allowFp16OnCpu = true;
            return this;
        }

        /**
         * Validates and builds the spec.
         *
         * @return the spec
         * @throws IllegalArgumentException naming the first invalid setting and its value
         */
        public TrainingSpec build() {
            Objects.requireNonNull(device, "device");
            Objects.requireNonNull(schedule, "schedule");
            Objects.requireNonNull(precision, "precision");
            if (epochs <= 0) {
                throw new IllegalArgumentException("epochs must be positive, got " + epochs);
            }
            if (batchSize <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
            }
            if (maxSteps < 0) {
                throw new IllegalArgumentException("maxSteps must be non-negative, got " + maxSteps);
            }
            if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
                throw new IllegalArgumentException("learningRate must be positive and finite, got " + learningRate);
            }
            if (!(weightDecay >= 0) || Float.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("weightDecay must be non-negative and finite, got " + weightDecay);
            }
            if (!(beta1 >= 0 && beta1 < 1)) {
                throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
            }
            if (!(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
            }
            if (!(epsilon > 0) || Float.isInfinite(epsilon)) {
                throw new IllegalArgumentException("epsilon must be positive and finite, got " + epsilon);
            }
            if (warmupSteps < 0) {
                throw new IllegalArgumentException("warmupSteps must be non-negative, got " + warmupSteps);
            }
            if (!(maxGradNorm >= 0) || Float.isInfinite(maxGradNorm)) {
                throw new IllegalArgumentException("maxGradNorm must be non-negative and finite (0 disables), got "
                        + maxGradNorm);
            }
            if (accumulationSteps <= 0) {
                throw new IllegalArgumentException("accumulationSteps must be positive, got " + accumulationSteps);
            }
            if (precision == Precision.FP16 && !"gpu".equals(device.getDeviceType()) && !allowFp16OnCpu) {
                throw new IllegalArgumentException("precision fp16 (mixed precision) needs a GPU device, got " + device
                        + "; use fp32 on the CPU");
            }
            if (checkpointEvery < 0) {
                throw new IllegalArgumentException("checkpointEvery must be non-negative, got " + checkpointEvery);
            }
            if (checkpointEvery > 0 && checkpointDir == null) {
                throw new IllegalArgumentException("checkpointEvery is " + checkpointEvery + " but no checkpoint folder is set");
            }
            if (keepCheckpoints < 0) {
                throw new IllegalArgumentException("keepCheckpoints must be non-negative, got " + keepCheckpoints);
            }
            if (validateEvery < 0) {
                throw new IllegalArgumentException("validateEvery must be non-negative, got " + validateEvery);
            }
            if (logEvery < 0) {
                throw new IllegalArgumentException("logEvery must be non-negative, got " + logEvery);
            }
            if (progressInterval == null || progressInterval.isNegative() || progressInterval.isZero()) {
                throw new IllegalArgumentException("progressInterval must be positive, got " + progressInterval);
            }
            for (String s : noDecay) {
                if (s == null || s.isEmpty()) {
                    throw new IllegalArgumentException("noDecay entries must be non-empty, got " + noDecay);
                }
            }
            return new TrainingSpec(device, seed, epochs, batchSize, maxSteps, learningRate, weightDecay, beta1, beta2, epsilon,
                    noDecay, schedule, warmupSteps, maxGradNorm, accumulationSteps, precision, checkpointEvery,
                    checkpointDir, keepCheckpoints, resumeFrom, earlyStopping, validateEvery, logEvery, progressBar,
                progressInterval, tracking);
        }
    }
}

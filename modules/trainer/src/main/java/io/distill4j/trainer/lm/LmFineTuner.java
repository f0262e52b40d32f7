package io.distill4j.trainer.lm;



import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.CausalLm;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.data.BadInputException;
import io.distill4j.trainer.EarlyStopping;
import io.distill4j.trainer.LrSchedule;
import io.distill4j.trainer.Precision;
import io.distill4j.trainer.FitListener;
import io.distill4j.trainer.TrainingEngine;
import io.distill4j.trainer.FitResult;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.Validator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Fine-tunes a causal-LM student on cached teacher responses: supervised fine-tuning on the answer tokens
 * ({@link Mode#SFT}) or token-level distillation against the teacher's cached top-K log-probabilities
 * ({@link Mode#TOKEN_KD}, mixed with the answer cross-entropy by {@code 1 - alpha}); see {@link AnswerLoss}
 * for the formulas. Rows are packed or padded by {@link SequencePacker} and served by an
 * {@link LmBatchSource}; the training loop is the one every student uses, {@link TrainingEngine}: AdamW
 * (decoupled decay on matrices and embeddings, none on biases and norms), a linear, cosine or constant
 * schedule with warm-up, global-norm clipping, and through {@link Options} gradient accumulation, mixed
 * precision on a GPU, checkpoints every N updates with a resume that continues the same run, early stopping
 * on the validation loss, a progress bar with tokens/s, and Log4j2 logging.
 *
 * <p>Every input is checked before the first step (token ids within the model's vocabulary, teacher
 * distributions present in distillation mode, context within the model's, a resumed checkpoint written for
 * the same architecture). The run is reproducible from the seed (row order per epoch and dropout). Each
 * step's arrays live in a sub-manager closed after the step. A non-finite loss stops the run with an
 * exception naming the step.
 */
public final class LmFineTuner {
    private static final Logger LOG = LogManager.getLogger(LmFineTuner.class);
    /** The architecture file a run with checkpoints writes into its checkpoint folder. */
    public static final String ARCHITECTURE = "lm-config.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** What the student learns from. */
    public enum Mode {
        /** Cross-entropy on the cached response tokens. */
        SFT,
        /** KL to the teacher's cached top-K distributions (plus (1 - alpha) cross-entropy). */
        TOKEN_KD
    }

    /**
     * A fine-tuning run's settings.
     *
     * @param mode SFT or token-level KD
     * @param epochs passes over the examples
     * @param batchRows rows per step
     * @param context row length T (at most the model's context)
     * @param packing pack several examples per row (else one per row, padded)
     * @param learningRate peak learning rate
     * @param warmupSteps linear warm-up steps (update t &lt; W runs at lr * t / W, as Hugging Face's schedules)
     * @param schedule decay after warm-up (the engine's {@link LrSchedule})
     * @param weightDecay AdamW decoupled weight decay on matrices
     * @param clipNorm global gradient-norm clip, 0 for none
     * @param alpha distillation weight in TOKEN_KD mode (ignored in SFT)
     * @param seed seed of the example order and dropout
     */
    public record Config(Mode mode, int epochs, int batchRows, int context, boolean packing, double learningRate,
            int warmupSteps, LrSchedule.Kind schedule, double weightDecay, double clipNorm, double alpha, long seed) {

        /** Validates the settings. */
        public Config {
            if (mode == null || schedule == null) {
                throw new IllegalArgumentException("mode and schedule must be set");
            }
            if (epochs <= 0 || batchRows <= 0 || context < 2) {
                throw new IllegalArgumentException("epochs and batch rows must be positive and context at least 2, got "
                        + epochs + ", " + batchRows + ", " + context);
            }
            if (!(learningRate > 0) || warmupSteps < 0 || !(weightDecay >= 0) || !(clipNorm >= 0)) {
                throw new IllegalArgumentException("learning rate must be positive, warm-up, weight decay and clip "
                        + "norm non-negative; got " + learningRate + ", " + warmupSteps + ", " + weightDecay + ", "
                        + clipNorm);
            }
            if (!(alpha >= 0 && alpha <= 1)) {
                throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
            }
        }

        /**
         * Defaults for a small student: 3 epochs, 8 rows of 128, packing, lr 5e-4, 10 warm-up steps, cosine,
         * weight decay 0.01, clip 1.0, alpha 1 (pure distillation in TOKEN_KD mode), seed 0.
         *
         * @param mode SFT or TOKEN_KD
         * @return the defaults
         */
        public static Config defaults(Mode mode) {
            return new Config(mode, 3, 8, 128, true, 5e-4, 10, LrSchedule.Kind.COSINE, 0.01, 1.0, 1.0, 0);
        }

        /** @param v epochs @return a copy with that value */
        public Config withEpochs(int v) {
            return new Config(mode, v, batchRows, context, packing, learningRate, warmupSteps, schedule, weightDecay,
                    clipNorm, alpha, seed);
        }

        /** @param rows rows per batch @param t context @return a copy with those values */
        public Config withBatch(int rows, int t) {
            return new Config(mode, epochs, rows, t, packing, learningRate, warmupSteps, schedule, weightDecay,
                    clipNorm, alpha, seed);
        }

        /** @param v packing on or off @return a copy with that value */
        public Config withPacking(boolean v) {
            return new Config(mode, epochs, batchRows, context, v, learningRate, warmupSteps, schedule, weightDecay,
                    clipNorm, alpha, seed);
        }

        /** @param lr peak rate @param warmup warm-up steps @return a copy with those values */
        public Config withLearningRate(double lr, int warmup) {
            return new Config(mode, epochs, batchRows, context, packing, lr, warmup, schedule, weightDecay, clipNorm,
                    alpha, seed);
        }

        /** @param v alpha @return a copy with that value */
        public Config withAlpha(double v) {
            return new Config(mode, epochs, batchRows, context, packing, learningRate, warmupSteps, schedule,
                    weightDecay, clipNorm, v, seed);
        }

        /** @param v seed @return a copy with that value */
        public Config withSeed(long v) {
            return new Config(mode, epochs, batchRows, context, packing, learningRate, warmupSteps, schedule,
                    weightDecay, clipNorm, alpha, v);
        }

        /** @param v the decay after warm-up @return a copy with that value */
        public Config withSchedule(LrSchedule.Kind v) {
            return new Config(mode, epochs, batchRows, context, packing, learningRate, warmupSteps, v, weightDecay,
                    clipNorm, alpha, seed);
        }

        /** @param decay AdamW weight decay @param clip global gradient-norm clip, 0 for none @return a copy */
        public Config withRegularisation(double decay, double clip) {
            return new Config(mode, epochs, batchRows, context, packing, learningRate, warmupSteps, schedule, decay,
                    clip, alpha, seed);
        }
    }

    /**
     * The engine settings of a run beyond {@link Config}.
     *
     * @param accumulationSteps micro-batches of {@code batchRows} rows per optimiser update, positive
     * @param maxSteps cap on optimiser updates (the schedule spans the capped run), 0 for none
     * @param precision fp32, or fp16 mixed precision on a GPU
     * @param checkpointEvery updates between checkpoints (and one at the end), 0 for none
     * @param checkpointDir the checkpoint folder, required with checkpoints
     * @param keepCheckpoints newest checkpoints kept, 0 for all
     * @param resumeFrom a checkpoint folder ({@code step-N}, see {@link io.distill4j.trainer.Checkpoint#latest})
     *     to continue, or null
     * @param validation held-out examples scored by {@link #evaluate} with the run's alpha, or empty
     * @param validateEvery updates between validations, 0 for each epoch end
     * @param earlyStopping early stopping on the validation loss, or null
     * @param progressBar show a console progress bar with the loss and tokens/s
     * @param logEvery updates between log lines, 0 for epoch ends only
     * @param name the run's name in logs, the progress bar and messages
     */
    public record Options(int accumulationSteps, long maxSteps, Precision precision, long checkpointEvery,
            Path checkpointDir, int keepCheckpoints, Path resumeFrom, List<LmExample> validation,
            long validateEvery, EarlyStopping earlyStopping, boolean progressBar, long logEvery, String name) {

        /** Validates what the engine's spec does not. */
        public Options {
            Objects.requireNonNull(precision, "precision");
            validation = List.copyOf(validation);
            Objects.requireNonNull(name, "name");
            if (earlyStopping != null && validation.isEmpty()) {
                throw new IllegalArgumentException("early stopping needs validation examples");
            }
            if (earlyStopping != null && earlyStopping.higherIsBetter()) {
                throw new IllegalArgumentException("early stopping of a fine-tuning run watches the validation loss,"
                        + " which is better when lower; the rule says higher");
            }
        }

        /** @return no accumulation, no cap, fp32, no checkpoints, no validation, no bar, a log line per 100 updates */
        public static Options defaults() {
            return new Options(1, 0, Precision.FP32, 0, null, 0, null, List.of(), 0, null, false, 100, "lm");
        }

        /** @param steps micro-batches per update @return a copy with that value */
        public Options withAccumulation(int steps) {
            return new Options(steps, maxSteps, precision, checkpointEvery, checkpointDir, keepCheckpoints, resumeFrom,
                    validation, validateEvery, earlyStopping, progressBar, logEvery, name);
        }

        /** @param steps cap on updates, 0 for none @return a copy with that value */
        public Options withMaxSteps(long steps) {
            return new Options(accumulationSteps, steps, precision, checkpointEvery, checkpointDir, keepCheckpoints,
                    resumeFrom, validation, validateEvery, earlyStopping, progressBar, logEvery, name);
        }

        /** @param p the arithmetic @return a copy with that value */
        public Options withPrecision(Precision p) {
            return new Options(accumulationSteps, maxSteps, p, checkpointEvery, checkpointDir, keepCheckpoints,
                    resumeFrom, validation, validateEvery, earlyStopping, progressBar, logEvery, name);
        }

        /**
         * @param every updates between checkpoints
         * @param dir the checkpoint folder
         * @param keep newest checkpoints kept, 0 for all
         * @return a copy with those values
         */
        public Options withCheckpoints(long every, Path dir, int keep) {
            return new Options(accumulationSteps, maxSteps, precision, every, dir, keep, resumeFrom, validation,
                    validateEvery, earlyStopping, progressBar, logEvery, name);
        }

        /** @param checkpoint the checkpoint folder to continue, or null @return a copy with that value */
        public Options withResumeFrom(Path checkpoint) {
            return new Options(accumulationSteps, maxSteps, precision, checkpointEvery, checkpointDir, keepCheckpoints,
                    checkpoint, validation, validateEvery, earlyStopping, progressBar, logEvery, name);
        }

        /**
         * @param examples held-out examples
         * @param every updates between validations, 0 for each epoch end
         * @param rule early stopping on the validation loss ({@code higherIsBetter} false), or null
         * @return a copy with those values
         */
        public Options withValidation(List<LmExample> examples, long every, EarlyStopping rule) {
            return new Options(accumulationSteps, maxSteps, precision, checkpointEvery, checkpointDir, keepCheckpoints,
                    resumeFrom, examples, every, rule, progressBar, logEvery, name);
        }

        /** @param show whether to show the bar @param every updates between log lines @return a copy */
        public Options withProgress(boolean show, long every) {
            return new Options(accumulationSteps, maxSteps, precision, checkpointEvery, checkpointDir, keepCheckpoints,
                    resumeFrom, validation, validateEvery, earlyStopping, show, every, name);
        }

        /** @param v the run's name @return a copy with that value */
        public Options withName(String v) {
            return new Options(accumulationSteps, maxSteps, precision, checkpointEvery, checkpointDir, keepCheckpoints,
                    resumeFrom, validation, validateEvery, earlyStopping, progressBar, logEvery, v);
        }
    }

    /**
     * What a run with {@link Options} did.
     *
     * @param result the losses and counts of this call's updates
     * @param training the engine's account: updates in all (with those before a resume), validations, the
     *     best validation loss, whether it stopped early and restored the best parameters, the last checkpoint
     */
    public record Outcome(Result result, FitResult training) {
    }

    /**
     * What a run did.
     *
     * @param losses the loss of every step (the mean over its micro-batches)
     * @param steps optimiser steps taken by this call
     * @param tokens non-padding tokens processed
     * @param answerTokens answer tokens that carried loss
     * @param truncated examples cut to the context (counted once per epoch)
     * @param seconds wall-clock time of the steps
     */
    public record Result(List<Double> losses, int steps, long tokens, long answerTokens, int truncated,
            double seconds) {
        /** @return non-padding tokens per second */
        public double tokensPerSecond() {
            return tokens / seconds;
        }

        /** @return the mean loss of the last {@code n} steps */
        public double lastMean(int n) {
            return losses.subList(Math.max(0, losses.size() - n), losses.size()).stream().mapToDouble(d -> d)
                    .average().orElse(Double.NaN);
        }
    }

    /** Told after every step. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param step 0-based step of the run (a resumed run continues the count)
         * @param loss the step's loss
         * @param learningRate the rate used
         */
        void onStep(int step, double loss, double learningRate);
    }

    private LmFineTuner() {
    }

    /**
     * Checks the examples against a model before training: ids within the vocabulary, teacher
     * distributions present (and one K) in distillation mode, context within the model's.
     *
     * @param model the student
     * @param examples the examples
     * @param config the run's settings
     * @param source where the examples came from, for messages
     * @throws BadInputException naming the example, field and value at fault
     */
    public static void check(CausalLm model, List<LmExample> examples, Config config, String source) {
        if (examples.isEmpty()) {
            throw new BadInputException(source + ": no examples");
        }
        int v = model.config().vocabSize();
        if (config.context() > model.config().maxPositions()) {
            throw new BadInputException(source + ": context " + config.context() + " exceeds the model's "
                    + model.config().maxPositions() + " positions");
        }
        int k = -1;
        for (int i = 0; i < examples.size(); i++) {
            LmExample e = examples.get(i);
            checkIds(e.prompt(), v, source, i, "prompt");
            checkIds(e.answer(), v, source, i, "answer");
            if (config.mode() == Mode.TOKEN_KD) {
                if (e.teacher() == null) {
                    throw new BadInputException(source + ": example " + i + ": field teacher top-K is missing, "
                            + "required in token-level distillation");
                }
                if (k >= 0 && e.teacher().k() != k) {
                    throw new BadInputException(source + ": example " + i + ": field teacher top-K has K = "
                            + e.teacher().k() + " but earlier examples have " + k);
                }
                k = e.teacher().k();
                checkIds(e.teacher().ids(), v, source, i, "teacher top-K ids");
            }
        }
    }

    private static void checkIds(int[] ids, int v, String source, int example, String field) {
        for (int j = 0; j < ids.length; j++) {
            if (ids[j] >= v) {
                throw new BadInputException(source + ": example " + example + ": field " + field + "[" + j + "] = "
                        + ids[j] + " is outside the model's vocabulary of " + v + " (tokenizer and model differ?)");
            }
        }
    }

    /**
     * Fine-tunes a model in place with the default {@link Options} (no accumulation, checkpoints or
     * validation).
     *
     * @param model the initialised student
     * @param manager the manager holding the model (per-step sub-managers are made from it); its device is
     *     the device of the run
     * @param examples the training examples
     * @param config the run's settings
     * @param listener told after every step, or null
     * @return losses, counts and time
     * @throws BadInputException if the examples do not fit the model (before any step)
     * @throws IllegalStateException if a loss is not finite
     */
    public static Result train(CausalLm model, NDManager manager, List<LmExample> examples, Config config,
            Listener listener) {
        return train(model, manager, examples, config, Options.defaults(), listener).result();
    }

    /**
     * Fine-tunes a model in place on the {@link TrainingEngine}.
     *
     * @param model the initialised student
     * @param manager the manager holding the model's parameters; its device is the device of the run
     * @param examples the training examples
     * @param config the run's settings
     * @param options accumulation, checkpoints and resume, validation and early stopping, progress
     * @param listener told after every step, or null
     * @return this call's losses and counts, and the engine's account of the run
     * @throws BadInputException if the examples or the validation examples do not fit the model, or the
     *     resumed checkpoint was written for another architecture or run (naming the file and the field),
     *     before any step
     * @throws IllegalStateException if a loss is not finite
     */
    public static Outcome train(CausalLm model, NDManager manager, List<LmExample> examples, Config config,
            Options options, Listener listener) {
        check(model, examples, config, "fine-tuning examples");
        boolean kd = config.mode() == Mode.TOKEN_KD;
        double alpha = kd ? config.alpha() : 0;
        if (!options.validation().isEmpty()) {
            check(model, options.validation(), config, "validation examples");
        }
        if (options.resumeFrom() != null) {
            checkArchitecture(model, options.resumeFrom());
        }
        LmBatchSource source = new LmBatchSource(examples, config.context(), config.batchRows(), config.packing(),
                alpha > 0, options.accumulationSteps());
        TrainingSpec spec = spec(model, manager, source, config, options);
        if (spec.checkpointEvery() > 0) {
            writeArchitecture(model, spec.checkpointDir());
        }
        List<Double> losses = new ArrayList<>();
        long[] tokens = new long[1];
        FitListener steps = FitListener.onSteps(s -> {
            losses.add(s.loss());
            tokens[0] += s.items();
            if (listener != null) {
                listener.onStep((int) (s.step() - 1), s.loss(), s.learningRate());
            }
        });
        Validator validator = options.validation().isEmpty() ? null
                : Validator.named("loss", m -> evaluate(model, manager, options.validation(), config.context(), alpha));
        long start = System.nanoTime();
        BorrowedModel view = new BorrowedModel(options.name(), manager, model);
        FitResult training = TrainingEngine.fit(view, source, new AnswerLoss(alpha), spec, validator, steps);
        double seconds = (System.nanoTime() - start) / 1e9;
        int truncated = source.truncatedServed();
        if (truncated > 0) {
            LOG.warn("{}: {} examples were longer than the context of {} tokens and were cut", options.name(),
                    truncated, config.context());
        }
        LOG.info("{}: fine-tuned {} for {} steps ({}): last loss {}, {} tokens/s", options.name(), model,
                losses.size(), config.mode(), losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1),
                Math.round(tokens[0] / seconds));
        Result result = new Result(Collections.unmodifiableList(losses), losses.size(), tokens[0],
                source.answerTokensServed(), truncated, seconds);
        return new Outcome(result, training);
    }

    private static TrainingSpec spec(CausalLm model, NDManager manager, LmBatchSource source, Config config,
            Options options) {
        TrainingSpec.Builder b = TrainingSpec.builder().setDevice(manager.getDevice()).setSeed(config.seed())
                .setEpochs(config.epochs()).setLearningRate((float) config.learningRate())
                .optWeightDecay((float) config.weightDecay()).optNoDecay(vectorParameters(model))
                .optSchedule(config.schedule(), config.warmupSteps()).optMaxGradNorm((float) config.clipNorm())
                .optAccumulationSteps(options.accumulationSteps()).optMaxSteps(options.maxSteps())
                .optPrecision(options.precision()).optResumeFrom(options.resumeFrom())
                .optEarlyStopping(options.earlyStopping()).optValidateEvery(options.validateEvery())
                .optLogEvery(options.logEvery()).optProgressBar(options.progressBar());
        if (options.checkpointEvery() > 0) {
            b.optCheckpoints(options.checkpointEvery(), options.checkpointDir(), options.keepCheckpoints());
        }
        TrainingSpec spec = b.build();
        // the schedule's warm-up may not exceed the run (as the old fine-tuner capped it)
        long total = TrainingEngine.totalSteps(spec, source.batchesPerEpoch());
        if (spec.warmupSteps() > total) {
            spec = spec.toBuilder().optSchedule(spec.schedule(), total).build();
        }
        return spec;
    }

    /**
     * The parameters exempt from weight decay, for {@link TrainingSpec.Builder#optNoDecay}: every one with
     * fewer than two dimensions (biases, norm gains and shifts), by full name, as GPT-2 and Llama training
     * recipes do; matrices and embeddings decay.
     *
     * @param model the initialised model
     * @return the full names of its vector parameters
     * @throws IllegalStateException if such a name is part of a matrix's name (AdamW matches by substring)
     */
    public static List<String> vectorParameters(CausalLm model) {
        List<String> vectors = new ArrayList<>();
        List<String> matrices = new ArrayList<>();
        for (Pair<String, Parameter> p : model.getParameters()) {
            (p.getValue().getArray().getShape().dimension() < 2 ? vectors : matrices).add(p.getKey());
        }
        for (String m : matrices) {
            for (String v : vectors) {
                if (m.contains(v)) {
                    throw new IllegalStateException("parameter name " + v + " is part of " + m
                            + "; AdamW's no-decay rule would exempt the matrix");
                }
            }
        }
        return vectors;
    }

    private static void writeArchitecture(CausalLm model, Path dir) {
        Path file = dir.resolve(ARCHITECTURE);
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".tmp-" + ARCHITECTURE, "");
            JSON.writeValue(tmp.toFile(), new TreeMap<>(model.config().toHfConfig()));
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the architecture", e);
        }
    }

    /**
     * Checks that a checkpoint was written for a model of this architecture: the {@value #ARCHITECTURE} of its
     * folder's parent, field by field (the engine then compares every parameter's name and shape).
     *
     * @param model the model to resume
     * @param checkpoint the checkpoint folder
     * @throws BadInputException naming the file, the field and both values
     */
    public static void checkArchitecture(CausalLm model, Path checkpoint) {
        Path parent = checkpoint.toAbsolutePath().getParent();
        Path file = parent == null ? null : parent.resolve(ARCHITECTURE);
        if (file == null || !Files.isRegularFile(file)) {
            return; // not written by LmFineTuner: the engine's parameter-by-parameter check still applies
        }
        Map<String, Object> theirs;
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> read = JSON.readValue(file.toFile(), Map.class);
            theirs = read;
        } catch (IOException e) {
            throw new BadInputException(file + ": unreadable architecture: " + e.getMessage(), e);
        }
        Map<String, Object> mine = JSON.convertValue(new TreeMap<>(model.config().toHfConfig()), Map.class);
        TreeMap<String, Object> keys = new TreeMap<>(theirs);
        keys.putAll(mine);
        for (String key : keys.keySet()) {
            Object a = theirs.get(key);
            Object b = mine.get(key);
            if (!Objects.equals(a, b)) {
                throw new BadInputException(file + ": checkpoint of another architecture: field " + key + " is "
                        + a + " in the checkpoint and " + b + " in the model " + model);
            }
        }
    }

    /**
     * Evaluates a model on examples with teacher forcing: the mean of {@link AnswerLoss} with the given
     * alpha over all answer tokens (alpha 0: answer negative log-likelihood per token; alpha 1: the mean
     * top-K KL to the teacher).
     *
     * @param model the model
     * @param manager a manager for per-batch arrays
     * @param examples the examples (with teacher distributions when alpha &gt; 0)
     * @param context row length
     * @param alpha the loss mix
     * @return the token-weighted mean loss
     */
    public static double evaluate(CausalLm model, NDManager manager, List<LmExample> examples, int context,
            double alpha) {
        AnswerLoss loss = new AnswerLoss(alpha);
        double sum = 0;
        long count = 0;
        for (SequencePacker.Batch b : SequencePacker.layout(examples, context, 16, true, alpha > 0)) {
            try (NDManager sub = manager.newSubManager()) {
                NDList in = b.inputs(sub);
                NDArray z = model.logits(new ParameterStore(sub, false), in.get(0), in.get(1), in.get(2), false);
                int n = b.answerTokens();
                sum += loss.evaluate(b.labels(sub), new NDList(z)).getFloat() * n;
                count += n;
            }
        }
        return sum / count;
    }
}

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
 * Fine-tunes a causal-LM student on given examples: supervised fine-tuning on the answer tokens (the SFT modes
 * of {@link LmOptions}) or token-level distillation against the teacher's cached top-K log-probabilities
 * ({@link LmOptions.Mode#TOKEN_KD}, mixed with the answer cross-entropy by {@code 1 - alpha}); see
 * {@link AnswerLoss} for the formulas. Rows are packed or padded by {@link SequencePacker} and served by an
 * {@link LmBatchSource}; the settings are the ones every student shares ({@link TrainingSpec}) plus
 * {@link LmOptions}, and the loop is the one every student uses, {@link TrainingEngine}: AdamW (decoupled decay
 * on matrices and embeddings, none on biases and norms), a linear, cosine or constant schedule with warm-up,
 * global-norm clipping, gradient accumulation, mixed precision on a GPU, checkpoints every N updates with a
 * resume that continues the same run, early stopping on the validation loss, a progress bar with tokens/s, and
 * Log4j2 logging. (The {@code train} command's LM students go through {@code io.distill4j.pipeline.LmRun},
 * which picks each student's examples from a sequence cache; this class trains on examples already chosen.)
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

    /**
     * What a run did, with the engine's account.
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
     * @param lm the mode (token-level KD needs teacher distributions) and the context (0: the longest example)
     * @param source where the examples came from, for messages
     * @throws BadInputException naming the example, field and value at fault
     */
    public static void check(CausalLm model, List<LmExample> examples, LmOptions lm, String source) {
        if (examples.isEmpty()) {
            throw new BadInputException(source + ": no examples");
        }
        int v = model.config().vocabSize();
        if (lm.context() > model.config().maxPositions()) {
            throw new BadInputException(source + ": context " + lm.context() + " exceeds the model's "
                    + model.config().maxPositions() + " positions");
        }
        int k = -1;
        for (int i = 0; i < examples.size(); i++) {
            LmExample e = examples.get(i);
            checkIds(e.prompt(), v, source, i, "prompt");
            checkIds(e.answer(), v, source, i, "answer");
            if (lm.mode() == LmOptions.Mode.TOKEN_KD) {
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
     * Fine-tunes a model in place, without validation.
     *
     * @param model the initialised student
     * @param manager the manager holding the model (per-step sub-managers are made from it); its device is
     *     the device of the run
     * @param examples the training examples
     * @param training the run's engine settings (see {@link #train(CausalLm, NDManager, List, TrainingSpec,
     *     LmOptions, List, String, Listener)})
     * @param lm the mode, alpha, context and packing
     * @param listener told after every step, or null
     * @return losses, counts and time
     * @throws BadInputException if the examples do not fit the model (before any step)
     * @throws IllegalStateException if a loss is not finite
     */
    public static Result train(CausalLm model, NDManager manager, List<LmExample> examples, TrainingSpec training,
            LmOptions lm, Listener listener) {
        return train(model, manager, examples, training, lm, List.of(), "lm", listener).result();
    }

    /**
     * Fine-tunes a model in place on the {@link TrainingEngine}, with the settings every student shares
     * ({@link TrainingSpec}: epochs, {@code batchSize} rows per micro-batch, learning rate, schedule and warm-up,
     * weight decay, clipping, accumulation, step cap, precision, checkpoints and resume, validation interval and
     * early stopping on the validation loss, progress, seed) and those of LM students ({@link LmOptions}). Two
     * settings are the fine-tuner's own: the device is the manager's, and every vector parameter (biases, norms)
     * is exempt from weight decay ({@link #vectorParameters}) whatever {@code noDecay} says; a warm-up longer than
     * the run is cut to the run.
     *
     * @param model the initialised student
     * @param manager the manager holding the model's parameters; its device is the device of the run
     * @param examples the training examples
     * @param training the engine settings
     * @param lm the mode, alpha, context (0: the longest example, at most the model's) and packing
     * @param validation held-out examples scored by {@link #evaluate} with the run's alpha, or empty
     * @param name the run's name in logs, the progress bar and messages
     * @param listener told after every step, or null
     * @return this call's losses and counts, and the engine's account of the run
     * @throws BadInputException if the examples or the validation examples do not fit the model, or the
     *     resumed checkpoint was written for another architecture or run (naming the file and the field),
     *     before any step
     * @throws IllegalArgumentException if early stopping is asked without validation examples, or watches a
     *     metric that is better when higher (the validation loss is better when lower)
     * @throws IllegalStateException if a loss is not finite
     */
    public static Outcome train(CausalLm model, NDManager manager, List<LmExample> examples, TrainingSpec training,
            LmOptions lm, List<LmExample> validation, String name, Listener listener) {
        Objects.requireNonNull(name, "name");
        if (training.earlyStopping() != null && validation.isEmpty()) {
            throw new IllegalArgumentException("early stopping needs validation examples");
        }
        if (training.earlyStopping() != null && training.earlyStopping().higherIsBetter()) {
            throw new IllegalArgumentException("early stopping of a fine-tuning run watches the validation loss,"
                    + " which is better when lower; the rule says higher");
        }
        check(model, examples, lm, "fine-tuning examples");
        int longest = examples.stream().mapToInt(e -> e.prompt().length + e.answer().length).max().orElse(0);
        int context = lm.rowLength(longest, model.config().maxPositions());
        double alpha = lm.lossAlpha();
        if (!validation.isEmpty()) {
            check(model, validation, lm, "validation examples");
        }
        if (training.resumeFrom() != null) {
            checkArchitecture(model, training.resumeFrom());
        }
        LmBatchSource source = new LmBatchSource(examples, context, training.batchSize(), lm.packing(),
                alpha > 0, training.accumulationSteps());
        TrainingSpec spec = spec(model, manager, source, training);
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
        List<LmExample> held = List.copyOf(validation);
        Validator validator = held.isEmpty() ? null
                : Validator.named("loss", m -> evaluate(model, manager, held, context, alpha));
        long start = System.nanoTime();
        BorrowedModel view = new BorrowedModel(name, manager, model);
        FitResult fit = TrainingEngine.fit(view, source, new AnswerLoss(alpha), spec, validator, steps);
        double seconds = (System.nanoTime() - start) / 1e9;
        int truncated = source.truncatedServed();
        if (truncated > 0) {
            LOG.warn("{}: {} examples were longer than the context of {} tokens and were cut", name, truncated,
                    context);
        }
        LOG.info("{}: fine-tuned {} for {} steps ({}): last loss {}, {} tokens/s", name, model, losses.size(),
                lm.mode(), losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1),
                Math.round(tokens[0] / seconds));
        Result result = new Result(Collections.unmodifiableList(losses), losses.size(), tokens[0],
                source.answerTokensServed(), truncated, seconds);
        return new Outcome(result, fit);
    }

    private static TrainingSpec spec(CausalLm model, NDManager manager, LmBatchSource source, TrainingSpec training) {
        TrainingSpec spec = training.toBuilder().setDevice(manager.getDevice()).optNoDecay(vectorParameters(model))
                .build();
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
        double[] sum = new double[2];
        for (SequencePacker.Batch b : SequencePacker.layout(examples, context, EVALUATION_ROWS, true, alpha > 0)) {
            add(model, manager, loss, b, sum);
        }
        return sum[0] / sum[1];
    }

    /** Rows per batch of {@link #evaluate}. */
    private static final int EVALUATION_ROWS = 16;

    /**
     * {@link #evaluate(CausalLm, NDManager, List, int, double)} on examples left in a sequence cache, read batch by
     * batch: the same batches (the rows of 16 packed rows at a time) and so the same value, without holding the
     * examples.
     *
     * @param model the model
     * @param manager a manager for per-batch arrays
     * @param examples the examples (of {@link CachedExamples.Kind#TOP_K} when alpha &gt; 0)
     * @param context row length
     * @param alpha the loss mix
     * @return the token-weighted mean loss
     */
    public static double evaluate(CausalLm model, NDManager manager, CachedExamples examples, int context,
            double alpha) {
        AnswerLoss loss = new AnswerLoss(alpha);
        double[] sum = new double[2];
        List<int[]> rows = SequencePacker.rows(examples.lengths(), context, true);
        for (int start = 0; start < rows.size(); start += EVALUATION_ROWS) {
            int from = rows.get(start)[0];
            int[] lastRow = rows.get(Math.min(rows.size(), start + EVALUATION_ROWS) - 1);
            List<LmExample> chunk = examples.read(from, lastRow[lastRow.length - 1] + 1);
            // a chunk starts a row, so laid out alone it is the same rows: one batch
            for (SequencePacker.Batch b : SequencePacker.layout(chunk, context, EVALUATION_ROWS, true, alpha > 0)) {
                add(model, manager, loss, b, sum);
            }
        }
        return sum[0] / sum[1];
    }

    private static void add(CausalLm model, NDManager manager, AnswerLoss loss, SequencePacker.Batch b, double[] sum) {
        try (NDManager sub = manager.newSubManager()) {
            NDList in = b.inputs(sub);
            NDArray z = model.logits(new ParameterStore(sub, false), in.get(0), in.get(1), in.get(2), false);
            int n = b.answerTokens();
            sum[0] += loss.evaluate(b.labels(sub), new NDList(z)).getFloat() * n;
            sum[1] += n;
        }
    }
}

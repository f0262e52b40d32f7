package io.distill4j.trainer.lm;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.distill4j.data.BadInputException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Fine-tunes a causal-LM student on cached teacher responses: supervised fine-tuning on the answer tokens
 * ({@link Mode#SFT}) or token-level distillation against the teacher's cached top-K log-probabilities
 * ({@link Mode#TOKEN_KD}, mixed with the answer cross-entropy by {@code 1 - alpha}); see {@link AnswerLoss}
 * for the formulas. Rows are packed or padded by {@link SequencePacker}; the optimiser is AdamW with a
 * warm-up schedule and global-norm clipping ({@link AdamWStepper}).
 *
 * <p>Every input is checked before the first step (token ids within the model's vocabulary, teacher
 * distributions present in distillation mode, context within the model's). The run is reproducible from
 * the seed (example order per epoch and dropout). Each step's arrays live in a sub-manager closed after the
 * step. A non-finite loss stops the run with an exception naming the step.
 */
public final class LmFineTuner {
    private static final Logger LOG = LogManager.getLogger(LmFineTuner.class);

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
     * @param warmupSteps linear warm-up steps
     * @param schedule decay after warm-up
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
    }

    /**
     * What a run did.
     *
     * @param losses the loss of every step
     * @param steps optimiser steps taken
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
         * @param step 0-based step
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
     * Fine-tunes a model in place.
     *
     * @param model the initialised student
     * @param manager the manager holding the model (per-step sub-managers are made from it)
     * @param examples the training examples
     * @param config the run's settings
     * @param listener told after every step, or null
     * @return losses, counts and time
     * @throws BadInputException if the examples do not fit the model (before any step)
     * @throws IllegalStateException if a loss is not finite
     */
    public static Result train(CausalLm model, NDManager manager, List<LmExample> examples, Config config,
            Listener listener) {
        check(model, examples, config, "fine-tuning examples");
        boolean kd = config.mode() == Mode.TOKEN_KD;
        double alpha = kd ? config.alpha() : 0;
        AnswerLoss loss = new AnswerLoss(alpha);
        int perEpoch = SequencePacker.layout(examples, config.context(), config.batchRows(), config.packing(), false)
                .size();
        int total = perEpoch * config.epochs();
        LrSchedule schedule = new LrSchedule(config.schedule(), config.learningRate(),
                Math.min(config.warmupSteps(), total), total);
        AdamWStepper stepper = new AdamWStepper(model, schedule, config.weightDecay(), config.clipNorm());
        Engine.getInstance().setRandomSeed((int) config.seed());
        List<Double> losses = new ArrayList<>(total);
        long tokens = 0;
        long answerTokens = 0;
        int truncated = 0;
        int step = 0;
        long start = System.nanoTime();
        for (int epoch = 0; epoch < config.epochs(); epoch++) {
            List<LmExample> order = new ArrayList<>(examples);
            Collections.shuffle(order, new Random(config.seed() * 1_000_003L + epoch));
            List<SequencePacker.Batch> batches = SequencePacker.layout(order, config.context(), config.batchRows(),
                    config.packing(), alpha > 0);
            for (SequencePacker.Batch b : batches) {
                truncated += b.truncated();
                double value;
                try (NDManager sub = manager.newSubManager()) {
                    NDList in = b.inputs(sub);
                    NDList labels = b.labels(sub);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray z = model.logits(new ParameterStore(sub, false), in.get(0), in.get(1), in.get(2), true);
                        NDArray l = loss.evaluate(labels, new NDList(z));
                        value = l.getFloat();
                        if (!Double.isFinite(value)) {
                            throw new IllegalStateException("loss is " + value + " at step " + step + " (epoch "
                                    + epoch + ")");
                        }
                        gc.backward(l);
                    }
                    stepper.step();
                }
                losses.add(value);
                tokens += b.tokens();
                answerTokens += b.answerTokens();
                if (listener != null) {
                    listener.onStep(step, value, schedule.at(step));
                }
                step++;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (truncated > 0) {
            LOG.warn("{} examples were longer than the context of {} tokens and were cut", truncated,
                    config.context());
        }
        LOG.info("fine-tuned {} for {} steps ({}): last loss {}, {} tokens/s", model, step, config.mode(),
                losses.get(losses.size() - 1), Math.round(tokens / seconds));
        return new Result(Collections.unmodifiableList(losses), step, tokens, answerTokens, truncated, seconds);
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

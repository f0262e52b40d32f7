package io.distill4j.trainer;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.loss.Loss;
import io.distill4j.data.BadInputException;
import io.distill4j.models.Inference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The training loop, in the manner of DJL's {@code EasyTrain.fit}: a short core that keeps the optimisation
 * step, and {@link FitListener}s for everything around it. The core takes micro-batches from a
 * {@link BatchSource}, runs forward, a DJL {@link Loss} and backward through a {@link TrainingSession},
 * accumulates {@link TrainingSpec#accumulationSteps()} micro-batches per update, applies AdamW at the rate of
 * the schedule (with warm-up and gradient clipping), skips fp16 updates whose gradients overflowed, and seeds
 * every micro-batch. The engine's listeners, made from the {@link TrainingSpec}, log ({@link StepLogger}), show
 * progress ({@link ProgressBarListener}), track the run ({@link JsonlTracker}, {@link TensorBoardTracker}),
 * validate ({@link Validator}), stop early and restore the best parameters ({@link EarlyStopping}) and write
 * checkpoints; the caller's listeners come between the trackers and validation (see {@link FitListener} for the
 * order of events).
 *
 * <p>Reproducibility: the engine seeds the parameter initialisation with the spec's seed and re-seeds the
 * engine's random generator before every micro-batch with a hash of (seed, epoch, micro-batch), so the
 * dropout masks of a step do not depend on what ran before it. With a reproducible batch source, a run
 * resumed from a checkpoint therefore takes exactly the steps of an uninterrupted run.
 *
 * <p>Before the first update the engine runs the next batch through the model and the loss without
 * gradients, so that inputs, labels, model and loss that do not fit fail with a clear error before any
 * training (and before any listener starts). Each micro-batch's arrays live in a sub-manager closed after it,
 * so memory stays flat.
 */
public final class TrainingEngine {

    private static final Logger LOG = LogManager.getLogger(TrainingEngine.class);

    private TrainingEngine() {
    }

    /**
     * Trains without validation.
     *
     * @param model the model, created on the spec's device; its block may be uninitialised
     * @param source the training data
     * @param loss the loss
     * @param spec the settings
     * @param listeners the caller's listeners, told of every update after the engine's logging, progress and
     *     tracking
     * @return what the run did
     */
    public static FitResult fit(Model model, BatchSource source, Loss loss, TrainingSpec spec,
            FitListener... listeners) {
        return fit(model, source, loss, spec, null, listeners);
    }

    /**
     * Trains a model.
     *
     * @param model the model, created on the spec's device; its block may be uninitialised
     * @param source the training data
     * @param loss the loss
     * @param spec the settings
     * @param validator scores the model for logging, tracking and early stopping, or null
     * @param listeners the caller's listeners, told of every update after the engine's logging, progress and
     *     tracking, and before validation, early stopping and checkpoints
     * @return what the run did
     * @throws IllegalArgumentException if the spec asks for early stopping without a validator, or the model
     *     lives on another device
     * @throws BadInputException if the resume checkpoint does not fit, or the first batch does not fit the model
     * @throws IllegalStateException if a loss or (fp32, clipped) gradient is not finite, naming the epoch and update
     */
    public static FitResult fit(Model model, BatchSource source, Loss loss, TrainingSpec spec, Validator validator,
            FitListener... listeners) {
        if (spec.earlyStopping() != null && validator == null) {
            throw new IllegalArgumentException("early stopping needs a validator");
        }
        if (!model.getNDManager().getDevice().equals(spec.device())) {
            throw new IllegalArgumentException("model '" + model.getName() + "' lives on "
                    + model.getNDManager().getDevice() + " but the spec trains on " + spec.device());
        }
        int perEpoch = source.batchesPerEpoch();
        if (perEpoch <= 0) {
            throw new IllegalArgumentException("the batch source has " + perEpoch + " batches per epoch");
        }
        Block block = model.getBlock();
        StudentProbe probe = new StudentProbe() {
            @Override
            public NDArray mcDropoutProbabilities(NDArray x, int passes) {
                return Inference.mcDropout(block, x, passes);
            }

            @Override
            public NDArray outputs(NDArray x) {
                return Inference.forward(block, x, true);
            }
        };
        if (!block.isInitialized()) {
            initialize(model, source, spec);
        }
        Checkpoint.State resumed = null;
        if (spec.resumeFrom() != null) {
            resumed = CheckpointListener.readResume(spec, block, perEpoch);
            CheckpointListener.loadParameters(spec.resumeFrom(), model.getNDManager(), block);
        }
        try (TrainingSession session = new TrainingSession(model, loss, spec)) {
            FitContext fit = new FitContext(model, spec, session, source, totalSteps(spec, perEpoch));
            if (resumed != null) {
                CheckpointListener.restore(fit, resumed, spec.resumeFrom());
                LOG.info("{}: resumed from {} at update {} (epoch {}, micro-batch {})", model.getName(),
                        spec.resumeFrom(), fit.step, fit.epoch, fit.batch);
            }
            if (fit.step >= fit.totalSteps()) {
                LOG.info("{}: nothing to do, {} of {} updates done", model.getName(), fit.step, fit.totalSteps());
                return fit.result();
            }
            dryRun(model, source, session, spec, fit, probe);
            List<FitListener> all = listeners(spec, validator, Arrays.asList(listeners), model.getName());
            session.measureGradNorm(all.stream().anyMatch(FitListener::wantsGradNorm));
            fit.begin(all);
            Throwable failure = null;
            try {
                LrSchedule schedule = spec.lrSchedule(fit.totalSteps());
                while (fit.step < fit.totalSteps() && !fit.stopRequested()) {
                    fit.stepped(update(model, source, session, spec, fit, schedule, probe));
                }
            } catch (RuntimeException | Error e) {
                failure = e;
                throw e;
            } finally {
                fit.end(failure);
            }
            return fit.result();
        }
    }

    /** The engine's listeners from the spec, the caller's, then validation, early stopping and checkpoints. */
    private static List<FitListener> listeners(TrainingSpec spec, Validator validator, List<FitListener> callers,
            String modelName) {
        List<FitListener> all = new ArrayList<>();
        all.add(new StepLogger(spec.logEvery(), spec.progressBar() && ConsoleProgress.stderrIsTerminal()));
        if (spec.progressBar()) {
            all.add(new ProgressBarListener(spec.progressInterval()));
        }
        Tracking tracking = spec.tracking();
        if (tracking != null) {
            Path dir = tracking.runDir(modelName);
            if (tracking.formats().contains(Tracking.Format.JSONL)) {
                all.add(new JsonlTracker(dir, tracking.every()));
            }
            if (tracking.formats().contains(Tracking.Format.TENSORBOARD)) {
                all.add(new TensorBoardTracker(dir, tracking.every()));
            }
        }
        for (FitListener l : callers) {
            all.add(java.util.Objects.requireNonNull(l, "listener"));
        }
        if (validator != null) {
            all.add(new ValidationListener(validator, spec.validateEvery()));
        }
        if (spec.earlyStopping() != null) {
            all.add(new EarlyStopper(spec.earlyStopping()));
        }
        if (spec.checkpointEvery() > 0) {
            all.add(new CheckpointListener(spec));
        }
        return all;
    }

    /** One optimiser update: its micro-batches, forward and backward, the update; then the position moves on. */
    private static StepMetrics update(Model model, BatchSource source, TrainingSession session, TrainingSpec spec,
            FitContext fit, LrSchedule schedule, StudentProbe probe) {
        long started = System.nanoTime();
        int perEpoch = fit.batchesPerEpoch();
        int group = Math.min(spec.accumulationSteps(), perEpoch - fit.batch);
        double lossSum = 0;
        int items = 0;
        int epochOfStep = fit.epoch;
        for (int j = 0; j < group; j++) {
            int index = fit.batch + j;
            Engine.getInstance().setRandomSeed(stepSeed(spec.seed(), fit.epoch, index));
            try (NDManager step = model.getNDManager().newSubManager()) {
                MicroBatch b = source.batch(step, spec.seed(), fit.epoch, index, probe);
                try {
                    lossSum += session.forwardBackward(b.inputs(), b.labels(), 1f / group);
                } catch (IllegalStateException e) {
                    throw new IllegalStateException(model.getName() + ": " + e.getMessage() + " at epoch "
                            + fit.epoch + ", step " + (fit.step + 1) + " (micro-batch " + index
                            + "); check the targets for NaN or infinities", e);
                }
                items += b.size();
            }
        }
        double rate = schedule.rate(fit.step);
        boolean applied;
        try {
            applied = session.update((float) rate);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(model.getName() + ": " + e.getMessage() + " at epoch " + fit.epoch
                    + ", step " + (fit.step + 1), e);
        }
        if (!applied) {
            fit.skipped++;
        }
        fit.step++;
        fit.batch += group;
        fit.lastLoss = lossSum / group;
        boolean epochEnd = fit.batch == perEpoch;
        if (epochEnd) {
            fit.epoch++;
            fit.batch = 0;
        }
        return new StepMetrics(epochOfStep, fit.step, fit.totalSteps(), epochEnd, items, fit.lastLoss, rate,
                session.lastGradNorm(), !applied, session.lossScale(), (System.nanoTime() - started) / 1e9);
    }

    /**
     * The optimiser updates of a run: ceil(micro-batches per epoch / accumulation) per epoch, capped by
     * {@link TrainingSpec#maxSteps()}.
     *
     * @param spec the settings
     * @param perEpoch the batch source's micro-batches per epoch
     * @return the run's updates in all
     */
    public static long totalSteps(TrainingSpec spec, int perEpoch) {
        long perEpochSteps = (perEpoch + spec.accumulationSteps() - 1) / spec.accumulationSteps();
        long total = perEpochSteps * spec.epochs();
        return spec.maxSteps() > 0 ? Math.min(total, spec.maxSteps()) : total;
    }

    /**
     * The engine seed of one micro-batch: a SplitMix64 hash of (seed, epoch, index).
     *
     * @param seed the run's seed
     * @param epoch the epoch
     * @param index the micro-batch
     * @return the seed passed to {@code Engine.setRandomSeed}
     */
    public static int stepSeed(long seed, int epoch, int index) {
        long z = seed * 0x9E3779B97F4A7C15L + (epoch + 1L) * 0xBF58476D1CE4E5B9L + (index + 1L) * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (int) (z ^ (z >>> 32));
    }

    private static void initialize(Model model, BatchSource source, TrainingSpec spec) {
        Shape[] shapes = source.inputShapes();
        if (shapes == null) {
            StudentProbe none = (x, passes) -> {
                throw new IllegalStateException("the batch source needs the student before it is initialised;"
                        + " override BatchSource.inputShapes()");
            };
            try (NDManager m = model.getNDManager().newSubManager()) {
                MicroBatch b = source.batch(m, spec.seed(), 0, 0, none);
                shapes = b.inputs().getShapes();
            }
        }
        Engine.getInstance().setRandomSeed((int) spec.seed());
        model.getBlock().initialize(model.getNDManager(), DataType.FLOAT32, shapes);
    }

    private static void dryRun(Model model, BatchSource source, TrainingSession session, TrainingSpec spec,
            FitContext fit, StudentProbe probe) {
        Engine.getInstance().setRandomSeed(stepSeed(spec.seed(), fit.epoch, fit.batch));
        try (NDManager m = model.getNDManager().newSubManager()) {
            MicroBatch b = source.batch(m, spec.seed(), fit.epoch, fit.batch, probe);
            try {
                float l = session.evaluate(b.inputs(), b.labels());
                LOG.log(spec.logEvery() > 0 ? Level.INFO : Level.DEBUG, "{}: {} updates of {} micro-batch(es) ({} per"
                        + " epoch) on {}; first batch loss {}", model.getName(), fit.totalSteps() - fit.step,
                        spec.accumulationSteps(), source.batchesPerEpoch(), spec.device(), l);
            } catch (RuntimeException e) {
                throw new BadInputException(model.getName() + ": a batch with inputs " + describe(b.inputs())
                        + " and labels " + describe(b.labels()) + " does not fit the model and loss: " + e.getMessage(), e);
            }
        }
    }

    private static String describe(NDList list) {
        StringBuilder sb = new StringBuilder("[");
        for (NDArray a : list) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(a.getShape()).append(' ').append(a.getDataType());
        }
        return sb.append(']').toString();
    }
}

package io.distill4j.trainer;


import io.distill4j.models.Inference;
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
import io.distill4j.data.Errors;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The training loop: micro-batches from a {@link BatchSource}, a DJL {@link Loss}, and the settings of a
 * {@link TrainingSpec} (AdamW, schedule with warm-up, gradient clipping and accumulation, fp16 mixed
 * precision, checkpoints and resume, validation with early stopping, logging and a progress bar).
 *
 * <p>Reproducibility: the engine seeds the parameter initialisation with the spec's seed and re-seeds the
 * engine's random generator before every micro-batch with a hash of (seed, epoch, micro-batch), so the
 * dropout masks of a step do not depend on what ran before it. With a reproducible batch source, a run
 * resumed from a checkpoint therefore takes exactly the steps of an uninterrupted run.
 *
 * <p>Before the first update the engine runs the next batch through the model and the loss without
 * gradients, so that inputs, labels, model and loss that do not fit fail with a clear error before any
 * training. Each micro-batch's arrays live in a sub-manager closed after it, so memory stays flat.
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
     * @param listeners told after every update
     * @return what the run did
     */
    public static TrainingResult fit(Model model, BatchSource source, Loss loss, TrainingSpec spec,
            StepListener... listeners) {
        return fit(model, source, loss, spec, null, listeners);
    }

    /**
     * Trains a model.
     *
     * @param model the model, created on the spec's device; its block may be uninitialised
     * @param source the training data
     * @param loss the loss
     * @param spec the settings
     * @param validator scores the model for logging and early stopping, or null
     * @param listeners told after every update
     * @return what the run did
     * @throws IllegalArgumentException if the spec asks for early stopping without a validator, or the model
     *     lives on another device
     * @throws BadInputException if the resume checkpoint does not fit, or the first batch does not fit the model
     * @throws IllegalStateException if a loss or (fp32) gradient is not finite, naming the epoch and update
     */
    public static TrainingResult fit(Model model, BatchSource source, Loss loss, TrainingSpec spec, Validator validator,
            StepListener... listeners) {
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
        NDManager manager = model.getNDManager();
        StudentProbe probe = (x, passes) -> Inference.mcDropout(block, x, passes);
        if (!block.isInitialized()) {
            initialize(model, source, spec);
        }

        Run run = new Run(spec, perEpoch);
        Checkpoint.State resumed = null;
        if (spec.resumeFrom() != null) {
            resumed = readResume(spec, block, perEpoch);
            Path file = spec.resumeFrom().resolve(Checkpoint.PARAMETERS);
            try (InputStream in = Files.newInputStream(file)) {
                Checkpoint.loadParameters(new java.io.BufferedInputStream(in), manager, block, file.toString());
            } catch (IOException e) {
                throw new BadInputException(file + ": cannot read the parameters: " + Errors.reason(e), e);
            }
            run.restore(resumed, spec.resumeFrom());
        }
        List<StepListener> all = new ArrayList<>(Arrays.asList(listeners));
        ProgressBarListener bar = null;
        try (TrainingSession session = new TrainingSession(model, loss, spec)) {
            if (resumed != null) {
                Path file = spec.resumeFrom().resolve(Checkpoint.OPTIMIZER);
                try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
                    session.optimizer().load(in, file.toString());
                } catch (IOException e) {
                    throw new BadInputException(file + ": cannot read the optimiser state: " + Errors.reason(e), e);
                } catch (IllegalArgumentException e) {
                    throw new BadInputException(e.getMessage(), e);
                }
                session.restoreScaler(resumed.lossScale(), resumed.goodSteps());
                LOG.info("{}: resumed from {} at update {} (epoch {}, micro-batch {})", model.getName(),
                        spec.resumeFrom(), run.step, run.epoch, run.batch);
            }
            if (run.step >= run.totalSteps) {
                LOG.info("{}: nothing to do, {} of {} updates done", model.getName(), run.step, run.totalSteps);
                return run.result(null, session);
            }
            dryRun(model, source, session, spec, run, probe);
            if (spec.progressBar()) {
                bar = new ProgressBarListener(model.getName(), run.totalSteps, run.step);
                all.add(bar);
            }
            LrSchedule schedule = spec.lrSchedule(run.totalSteps);
            Path lastCheckpoint = null;
            while (run.step < run.totalSteps && !run.stopped) {
                int group = Math.min(spec.accumulationSteps(), perEpoch - run.batch);
                double lossSum = 0;
                int items = 0;
                int epochOfStep = run.epoch;
                for (int j = 0; j < group; j++) {
                    int index = run.batch + j;
                    Engine.getInstance().setRandomSeed(stepSeed(spec.seed(), run.epoch, index));
                    try (NDManager step = manager.newSubManager()) {
                        Batch b = source.batch(step, spec.seed(), run.epoch, index, probe);
                        try {
                            lossSum += session.forwardBackward(b.inputs(), b.labels(), 1f / group);
                        } catch (IllegalStateException e) {
                            throw new IllegalStateException(model.getName() + ": " + e.getMessage() + " at epoch "
                                    + run.epoch + ", step " + (run.step + 1) + " (micro-batch " + index
                                    + "); check the targets for NaN or infinities", e);
                        }
                        items += b.size();
                    }
                }
                float lr = (float) schedule.rate(run.step);
                boolean applied;
                try {
                    applied = session.update(lr);
                } catch (IllegalStateException e) {
                    throw new IllegalStateException(model.getName() + ": " + e.getMessage() + " at epoch " + run.epoch
                            + ", step " + (run.step + 1), e);
                }
                if (!applied) {
                    run.skipped++;
                    LOG.warn("{}: fp16 gradients overflowed at update {}; skipped, loss scale now {}", model.getName(),
                            run.step + 1, session.lossScale());
                }
                run.step++;
                run.batch += group;
                run.items += items;
                run.lastLoss = lossSum / group;
                boolean epochEnd = run.batch == perEpoch;
                if (epochEnd) {
                    run.epoch++;
                    run.batch = 0;
                }
                for (StepListener l : all) {
                    l.onStep(epochOfStep, run.step, items, run.lastLoss);
                }
                boolean periodic = spec.logEvery() > 0 && run.step % spec.logEvery() == 0;
                if (periodic || epochEnd) {
                    double norm = session.lastGradNorm();
                    LOG.log(periodic || spec.logEvery() > 0 ? Level.INFO : Level.DEBUG, String.format(Locale.ROOT,
                            "%s: update %d/%d epoch %d loss %.5f lr %.3g%s %.0f items/s", model.getName(), run.step,
                            run.totalSteps, epochOfStep, run.lastLoss, lr,
                            Double.isNaN(norm) ? "" : String.format(Locale.ROOT, " grad-norm %.4g", norm),
                            run.itemsPerSecond()));
                }
                boolean validate = validator != null
                        && (spec.validateEvery() > 0 ? run.step % spec.validateEvery() == 0 : epochEnd);
                if (validate) {
                    run.validate(validator, model, spec.earlyStopping());
                }
                boolean last = run.step >= run.totalSteps || run.stopped;
                if (spec.checkpointEvery() > 0 && (run.step % spec.checkpointEvery() == 0 || last)) {
                    lastCheckpoint = Checkpoint.save(spec.checkpointDir(), block, session.optimizer(),
                            run.state(session, block), run.bestBytes, spec.keepCheckpoints());
                    LOG.info("{}: checkpoint {}", model.getName(), lastCheckpoint);
                }
            }
            if (spec.earlyStopping() != null && spec.earlyStopping().restoreBest() && run.bestBytes != null) {
                Checkpoint.loadParameters(run.bestBytes, manager, block);
                run.restored = true;
                LOG.info("{}: restored the parameters of update {} (validation {})", model.getName(), run.bestStep,
                        run.best);
            }
            return run.result(lastCheckpoint, session);
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
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
                Batch b = source.batch(m, spec.seed(), 0, 0, none);
                shapes = b.inputs().getShapes();
            }
        }
        Engine.getInstance().setRandomSeed((int) spec.seed());
        model.getBlock().initialize(model.getNDManager(), DataType.FLOAT32, shapes);
    }

    private static Checkpoint.State readResume(TrainingSpec spec, Block block, int perEpoch) {
        Path ckpt = spec.resumeFrom();
        Checkpoint.verify(ckpt);
        Checkpoint.State s = Checkpoint.readState(ckpt);
        Checkpoint.checkArchitecture(ckpt, s, block);
        if (s.seed() != spec.seed()) {
            throw new BadInputException(ckpt + ": the checkpoint's run has seed " + s.seed() + ", this run has seed "
                    + spec.seed() + "; resume with the same seed");
        }
        if (s.batchesPerEpoch() != perEpoch) {
            throw new BadInputException(ckpt + ": the checkpoint's data had " + s.batchesPerEpoch()
                    + " micro-batches per epoch, this run's has " + perEpoch + "; resume with the same data and batch size");
        }
        if (s.accumulationSteps() != spec.accumulationSteps()) {
            throw new BadInputException(ckpt + ": the checkpoint's run accumulated " + s.accumulationSteps()
                    + " micro-batches per update, this run " + spec.accumulationSteps());
        }
        return s;
    }

    private static void dryRun(Model model, BatchSource source, TrainingSession session, TrainingSpec spec, Run run,
            StudentProbe probe) {
        Engine.getInstance().setRandomSeed(stepSeed(spec.seed(), run.epoch, run.batch));
        try (NDManager m = model.getNDManager().newSubManager()) {
            Batch b = source.batch(m, spec.seed(), run.epoch, run.batch, probe);
            try {
                float l = session.evaluate(b.inputs(), b.labels());
                LOG.log(spec.logEvery() > 0 ? Level.INFO : Level.DEBUG, "{}: {} updates of {} micro-batch(es) ({} per"
                        + " epoch) on {}; first batch loss {}", model.getName(), run.totalSteps - run.step,
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

    /** The mutable position and bookkeeping of one run. */
    private static final class Run {
        final long totalSteps;
        final int perEpoch;
        final long seed;
        final int accumulation;
        long step;
        int epoch;
        int batch;
        long items;
        long skipped;
        double lastLoss = Double.NaN;
        final long started = System.nanoTime();
        final List<Double> validations = new ArrayList<>();
        int validationCount;
        double best = Double.NaN;
        long bestStep = -1;
        int bad;
        byte[] bestBytes;
        boolean stopped;
        boolean restored;

        Run(TrainingSpec spec, int perEpoch) {
            long perEpochSteps = (perEpoch + spec.accumulationSteps() - 1) / spec.accumulationSteps();
            long total = perEpochSteps * spec.epochs();
            this.totalSteps = spec.maxSteps() > 0 ? Math.min(total, spec.maxSteps()) : total;
            this.perEpoch = perEpoch;
            this.seed = spec.seed();
            this.accumulation = spec.accumulationSteps();
        }

        void restore(Checkpoint.State s, Path ckpt) {
            step = s.step();
            epoch = s.epoch();
            batch = s.batch();
            validationCount = s.validations();
            best = s.bestMetric() == null ? Double.NaN : s.bestMetric();
            bestStep = s.bestStep();
            bad = s.badValidations();
            Path bestFile = ckpt.resolve(Checkpoint.BEST);
            if (Files.isRegularFile(bestFile)) {
                try {
                    bestBytes = Files.readAllBytes(bestFile);
                } catch (IOException e) {
                    throw new UncheckedIOException(bestFile + ": cannot read", e);
                }
            }
        }

        void validate(Validator validator, Model model, EarlyStopping rule) {
            double v = validator.evaluate(model);
            validations.add(v);
            validationCount++;
            if (rule == null) {
                LOG.info(String.format(Locale.ROOT, "%s: validation %.5f at update %d", model.getName(), v, step));
                return;
            }
            boolean improved = rule.improves(v, best);
            if (improved) {
                best = v;
                bestStep = step;
                bad = 0;
                if (rule.restoreBest()) {
                    bestBytes = Checkpoint.parameterBytes(model.getBlock());
                }
            } else {
                bad++;
            }
            LOG.info(String.format(Locale.ROOT, "%s: validation %.5f at update %d (best %.5f at %d, %d/%d without"
                    + " improvement)", model.getName(), v, step, best, bestStep, bad, rule.patience()));
            if (bad >= rule.patience()) {
                stopped = true;
                LOG.info("{}: early stop at update {}", model.getName(), step);
            }
        }

        double itemsPerSecond() {
            double s = (System.nanoTime() - started) / 1e9;
            return s > 0 ? items / s : 0;
        }

        Checkpoint.State state(TrainingSession session, Block block) {
            return new Checkpoint.State(Checkpoint.FORMAT, step, epoch, batch, seed, perEpoch, accumulation,
                    session.lossScale(), session.goodSteps(), validationCount, Double.isNaN(best) ? null : best,
                    bestStep, bad, Checkpoint.architecture(block));
        }

        TrainingResult result(Path lastCheckpoint, TrainingSession session) {
            return new TrainingResult(step, epoch, lastLoss, skipped, validations, best, bestStep, stopped, restored,
                    lastCheckpoint, itemsPerSecond());
        }
    }
}

package io.distill4j.trainer;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import io.distill4j.data.BadInputException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checkpoints of a {@link TrainingEngine#fit} run: writes one every {@link TrainingSpec#checkpointEvery()}
 * updates and after the last update (also when the run is stopped early), keeping the newest
 * {@link TrainingSpec#keepCheckpoints()}; and resumes a run from one ({@link TrainingSpec#resumeFrom()}),
 * after checking that it was written by the same run (architecture, seed, batches per epoch, accumulation).
 * The files are those of {@link Checkpoint}.
 */
final class CheckpointListener implements FitListener {

    private final Path dir;
    private final long every;
    private final int keep;

    CheckpointListener(TrainingSpec spec) {
        this.dir = spec.checkpointDir();
        this.every = spec.checkpointEvery();
        this.keep = spec.keepCheckpoints();
    }

    @Override
    public void onStep(FitContext fit, StepMetrics step) {
        boolean last = fit.step() >= fit.totalSteps() || fit.stopRequested();
        if (step.step() % every == 0 || last) {
            Block block = fit.model().getBlock();
            fit.checkpointed(Checkpoint.save(dir, block, fit.session().optimizer(), state(fit), fit.bestParameters,
                    keep));
        }
    }

    /** Where the run stands, for the checkpoint's {@value Checkpoint#STATE}. */
    static Checkpoint.State state(FitContext fit) {
        TrainingSpec spec = fit.spec();
        TrainingSession session = fit.session();
        return new Checkpoint.State(Checkpoint.FORMAT, fit.step, fit.epoch, fit.batch, spec.seed(),
                fit.batchesPerEpoch(), spec.accumulationSteps(), session.lossScale(), session.goodSteps(),
                fit.validationCount, Double.isNaN(fit.best) ? null : fit.best, fit.bestStep, fit.withoutImprovement,
                Checkpoint.architecture(fit.model().getBlock()));
    }

    /**
     * Reads the state of the checkpoint to resume from and checks that it continues this run.
     *
     * @param spec the run's settings, naming the checkpoint
     * @param block the initialised block
     * @param perEpoch the batch source's micro-batches per epoch
     * @return the checkpoint's state
     * @throws BadInputException naming the checkpoint and the first difference
     */
    static Checkpoint.State readResume(TrainingSpec spec, Block block, int perEpoch) {
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

    /**
     * Loads the checkpoint's parameters into the block, before the session (and its optimiser) is made.
     *
     * @param ckpt the checkpoint folder
     * @param manager the model's manager
     * @param block the block
     */
    static void loadParameters(Path ckpt, NDManager manager, Block block) {
        Path file = ckpt.resolve(Checkpoint.PARAMETERS);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            Checkpoint.loadParameters(in, manager, block, file.toString());
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read the parameters: " + io.distill4j.data.Errors.reason(e), e);
        }
    }

    /**
     * Restores the optimiser, the fp16 loss scaler, the position and the validation bookkeeping of a
     * checkpoint into a new run.
     *
     * @param fit the run, whose session holds the optimiser
     * @param s the checkpoint's state
     * @param ckpt the checkpoint folder
     */
    static void restore(FitContext fit, Checkpoint.State s, Path ckpt) {
        Path file = ckpt.resolve(Checkpoint.OPTIMIZER);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            fit.session().optimizer().load(in, file.toString());
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read the optimiser state: " + io.distill4j.data.Errors.reason(e), e);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e);
        }
        fit.session().restoreScaler(s.lossScale(), s.goodSteps());
        fit.step = s.step();
        fit.epoch = s.epoch();
        fit.batch = s.batch();
        fit.validationCount = s.validations();
        fit.best = s.bestMetric() == null ? Double.NaN : s.bestMetric();
        fit.bestStep = s.bestStep();
        fit.withoutImprovement = s.badValidations();
        Path bestFile = ckpt.resolve(Checkpoint.BEST);
        if (Files.isRegularFile(bestFile)) {
            try {
                fit.bestParameters = Files.readAllBytes(bestFile);
            } catch (IOException e) {
                throw new UncheckedIOException(bestFile + ": cannot read", e);
            }
        }
    }
}

package io.distill4j.trainer;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Checksums;
import io.distill4j.data.Errors;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Checkpoints of a training run: one folder {@code step-NNNNNNNNN} per checkpoint, holding
 * <ul>
 *   <li>{@value #PARAMETERS}: the parameters, written by DJL's {@code Block.saveParameters}; for a block with
 *       frozen weights (a LoRA student's base) only the parameters that train, in a format of their own
 *       ({@link #checkpointBytes}): the frozen base is rebuilt as it was made (the preset's seed, the Hugging Face
 *       folder), so a checkpoint holds the adapters alone;</li>
 *   <li>{@value #OPTIMIZER}: AdamW's moments and update counts ({@link AdamW#save});</li>
 *   <li>{@value #BEST}: the parameters of the best validation so far, when early stopping restores them;</li>
 *   <li>{@value #STATE}: where the run stands (update, epoch, next micro-batch, seed, loss scale,
 *       early-stopping state) and the architecture (every parameter's name, shape and type).</li>
 * </ul>
 * and {@value io.distill4j.data.Checksums#FILE_NAME}, the SHA-256 of each of them ({@link Checksums}; check
 * by hand with {@code sha256sum -c SHA256SUMS}). A checkpoint is written into a temporary folder and renamed
 * into place, so a folder named {@code step-*} is always complete; one damaged later (a bad disk, a
 * half-copied folder) is told by its checksums: {@link #latest} passes over it with a warning naming the
 * damaged file and resumes from the newest intact one, and {@link #verify} names it.
 */
public final class Checkpoint {

    /** The parameters file. */
    public static final String PARAMETERS = "parameters.params";
    /** The optimiser-state file. */
    public static final String OPTIMIZER = "optimizer.bin";
    /** The best-parameters file. */
    public static final String BEST = "best.params";
    /** The state file. */
    public static final String STATE = "state.json";
    /** The format version written into {@value #STATE}. */
    public static final int FORMAT = 1;

    private static final Logger LOG = LogManager.getLogger(Checkpoint.class);
    private static final Pattern NAME = Pattern.compile("step-(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private Checkpoint() {
    }

    /**
     * Where a run stands when its checkpoint is written.
     *
     * @param format the format version, {@value #FORMAT}
     * @param step optimiser updates done
     * @param epoch the epoch of the next micro-batch
     * @param batch the next micro-batch within that epoch
     * @param seed the run's seed
     * @param batchesPerEpoch the batch source's micro-batches per epoch
     * @param accumulationSteps micro-batches per update
     * @param lossScale the fp16 loss scale (1 in fp32)
     * @param goodSteps finite fp16 updates since the loss scale last changed
     * @param validations validations done
     * @param bestMetric the best validation value, or null
     * @param bestStep the update of the best validation, or -1
     * @param badValidations validations since the best one
     * @param architecture "name shape type" of every parameter, in order
     */
    public record State(int format, long step, int epoch, int batch, long seed, int batchesPerEpoch,
            int accumulationSteps, float lossScale, int goodSteps, int validations, Double bestMetric, long bestStep,
            int badValidations, List<String> architecture) {
    }

    /**
     * Describes a block's parameters for architecture checks.
     *
     * @param block an initialised block
     * @return "name shape type" per parameter, in order
     */
    public static List<String> architecture(Block block) {
        List<String> out = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray a = p.getValue().getArray();
            out.add(p.getKey() + " " + a.getShape() + " " + a.getDataType());
        }
        return out;
    }

    /**
     * The newest intact checkpoint in a folder: newer ones whose files do not match their checksums are
     * passed over, each with a warning naming the damaged file and the checkpoint used instead.
     *
     * @param dir the checkpoint folder (may be missing)
     * @return the intact checkpoint with the highest step, if any
     */
    public static Optional<Path> latest(Path dir) {
        return latest(dir, LOG::warn);
    }

    /**
     * The newest intact checkpoint in a folder, telling {@code warn} one line per newer damaged one.
     *
     * @param dir the checkpoint folder (may be missing)
     * @param warn told, for each damaged checkpoint passed over, the damaged file and what is used instead
     * @return the intact checkpoint with the highest step, if any
     */
    public static Optional<Path> latest(Path dir, java.util.function.Consumer<String> warn) {
        List<Path> all = list(dir);
        List<String> damaged = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            Optional<String> damage = Checksums.damage(all.get(i));
            if (damage.isEmpty()) {
                for (String d : damaged) {
                    warn.accept(d + "; resuming from the older checkpoint " + all.get(i));
                }
                return Optional.of(all.get(i));
            }
            damaged.add(damage.get());
        }
        for (String d : damaged) {
            warn.accept(d + "; no intact checkpoint is left in " + dir + ", so training starts from the beginning");
        }
        return Optional.empty();
    }

    /**
     * Checks a checkpoint's files against the checksums written with them (a checkpoint written before
     * checksums were kept passes unchecked).
     *
     * @param checkpoint the checkpoint folder
     * @throws BadInputException naming the damaged or missing file
     */
    public static void verify(Path checkpoint) {
        Optional<String> damage = Checksums.damage(checkpoint);
        if (damage.isPresent()) {
            throw new BadInputException(damage.get() + "; resume from an older checkpoint of " + checkpoint.getParent());
        }
    }

    /**
     * The complete checkpoints in a folder, oldest first.
     *
     * @param dir the checkpoint folder (may be missing)
     * @return the checkpoint folders, by increasing step
     */
    public static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(STATE)))
                    .sorted(Comparator.comparingLong(Checkpoint::stepOf))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot list checkpoints", e);
        }
    }

    private static long stepOf(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * Reads a checkpoint's state.
     *
     * @param checkpoint the checkpoint folder
     * @return its state
     * @throws BadInputException naming the file if it is missing or unreadable
     */
    public static State readState(Path checkpoint) {
        Path file = checkpoint.resolve(STATE);
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(checkpoint + ": not a checkpoint (no " + STATE + ")");
        }
        try {
            State s = JSON.readValue(file.toFile(), State.class);
            if (s.format() != FORMAT) {
                throw new BadInputException(file + ": checkpoint format " + s.format() + ", this version reads " + FORMAT);
            }
            return s;
        } catch (IOException e) {
            throw new BadInputException(file + ": unreadable checkpoint state: " + Errors.reason(e), e);
        }
    }

    /**
     * Writes a checkpoint atomically and prunes old ones.
     *
     * @param dir the checkpoint folder
     * @param block the block
     * @param optimizer the optimiser
     * @param state the run's state
     * @param bestParameters the best parameters ({@link #parameterBytes}), or null
     * @param keep the newest checkpoints to keep, 0 for all
     * @return the new checkpoint folder
     */
    static Path save(Path dir, Block block, AdamW optimizer, State state, byte[] bestParameters, int keep) {
        Path target = dir.resolve(String.format("step-%09d", state.step()));
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempDirectory(dir, ".tmp-step-");
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                    Files.newOutputStream(tmp.resolve(PARAMETERS))))) {
                writeCheckpointParameters(block, out);
            }
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                    Files.newOutputStream(tmp.resolve(OPTIMIZER))))) {
                optimizer.save(out);
            }
            if (bestParameters != null) {
                Files.write(tmp.resolve(BEST), bestParameters);
            }
            try (OutputStream out = Files.newOutputStream(tmp.resolve(STATE))) {
                JSON.writeValue(out, state);
            }
            Checksums.write(tmp, bestParameters == null ? List.of(PARAMETERS, OPTIMIZER, STATE)
                    : List.of(PARAMETERS, OPTIMIZER, BEST, STATE));
            if (Files.exists(target)) {
                io.distill4j.data.AtomicFiles.deleteTree(target);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
            tmp = null;
            if (keep > 0) {
                List<Path> all = list(dir);
                for (int i = 0; i < all.size() - keep; i++) {
                    io.distill4j.data.AtomicFiles.deleteTree(all.get(i));
                }
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot write the checkpoint", e);
        } finally {
            if (tmp != null) {
                try {
                    io.distill4j.data.AtomicFiles.deleteTree(tmp);
                } catch (IOException ignored) {
                    // the temporary folder is left behind; it is never read
                }
            }
        }
    }

    /**
     * Checks that a checkpoint was written for this block, naming the first difference.
     *
     * @param checkpoint the checkpoint folder
     * @param state its state
     * @param block the block to load into
     * @throws BadInputException if the architectures differ
     */
    static void checkArchitecture(Path checkpoint, State state, Block block) {
        List<String> mine = architecture(block);
        List<String> theirs = state.architecture();
        for (int i = 0; i < Math.max(mine.size(), theirs.size()); i++) {
            String a = i < theirs.size() ? theirs.get(i) : "(none)";
            String b = i < mine.size() ? mine.get(i) : "(none)";
            if (!a.equals(b)) {
                throw new BadInputException(checkpoint + ": checkpoint of another architecture: parameter " + i + " is '"
                        + a + "' in the checkpoint and '" + b + "' in the model (" + theirs.size() + " vs "
                        + mine.size() + " parameters)");
            }
        }
    }

    /**
     * Loads a checkpoint's parameters into an initialised block of the same architecture (for evaluation
     * or fine-tuning from a trained student).
     *
     * @param checkpoint the checkpoint folder
     * @param manager the model's manager
     * @param block the block
     * @throws BadInputException if the checkpoint is missing, damaged, unreadable or of another architecture
     */
    public static void loadParameters(Path checkpoint, NDManager manager, Block block) {
        verify(checkpoint);
        State state = readState(checkpoint);
        checkArchitecture(checkpoint, state, block);
        Path file = checkpoint.resolve(PARAMETERS);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            loadParameters(in, manager, block, file.toString());
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read the parameters: " + Errors.reason(e), e);
        }
    }

    /** Magic of the trainable-only parameters format ("D4JT"); DJL's own format starts with a small version byte. */
    static final int TRAINABLE_ONLY = 0x44344A54;

    /**
     * Whether a parameter is a frozen weight (a LoRA student's base): not trained, and not a buffer that training
     * updates without gradients (BatchNorm's running statistics, which are saved).
     *
     * @param p a parameter
     * @return whether checkpoints leave it out
     */
    static boolean frozen(Parameter p) {
        if (p.requiresGradient()) {
            return false;
        }
        Parameter.Type t = p.getType();
        return t == Parameter.Type.WEIGHT || t == Parameter.Type.BIAS || t == Parameter.Type.GAMMA
                || t == Parameter.Type.BETA;
    }

    /**
     * The parameters a checkpoint holds: all of them (DJL's {@code saveParameters} format, as
     * {@link #parameterBytes}) unless some are {@linkplain #frozen frozen}; then only the others, each as its name
     * and DJL's {@code Parameter.save}, after the magic {@value #TRAINABLE_ONLY} and their count.
     * {@link #loadParameters(InputStream, NDManager, Block, String)} reads both.
     *
     * @param block the block
     * @return the bytes
     */
    public static byte[] checkpointBytes(Block block) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writeCheckpointParameters(block, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void writeCheckpointParameters(Block block, DataOutputStream out) throws IOException {
        List<Pair<String, Parameter>> kept = new ArrayList<>();
        boolean anyFrozen = false;
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (frozen(p.getValue())) {
                anyFrozen = true;
            } else {
                kept.add(p);
            }
        }
        if (!anyFrozen) {
            block.saveParameters(out);
            return;
        }
        out.writeInt(TRAINABLE_ONLY);
        out.writeInt(kept.size());
        for (Pair<String, Parameter> p : kept) {
            out.writeUTF(p.getKey());
            p.getValue().save(out);
        }
    }

    /**
     * The names of the parameters a checkpoint holds: the trainable ones of a block with frozen weights (a LoRA
     * student's adapters), else every parameter of its architecture.
     *
     * @param checkpoint the checkpoint folder
     * @return the names, in the order stored
     * @throws BadInputException if the checkpoint is missing, damaged or unreadable
     */
    public static List<String> storedParameters(Path checkpoint) {
        verify(checkpoint);
        Path file = checkpoint.resolve(PARAMETERS);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != TRAINABLE_ONLY) {
                return readState(checkpoint).architecture().stream().map(a -> a.substring(0, a.indexOf(' '))).toList();
            }
            int n = in.readInt();
            List<String> names = new ArrayList<>(n);
            try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
                for (int i = 0; i < n; i++) {
                    names.add(in.readUTF());
                    // skip the array: DJL's Parameter format is 'P', a version byte, the name, the encoded array
                    if (in.readChar() != 'P') {
                        throw new BadInputException(file + ": parameter " + names.get(i) + " is not stored");
                    }
                    in.readByte();
                    in.readUTF();
                    m.decode(in).close();
                }
            }
            return names;
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read the parameters: " + Errors.reason(e), e);
        }
    }

    /**
     * Serialises a block's parameters (DJL's {@code saveParameters} format).
     *
     * @param block the block
     * @return the bytes
     */
    public static byte[] parameterBytes(Block block) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            block.saveParameters(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Replaces a block's parameters with serialised ones, keeping them trainable and freeing the old arrays. A
     * trainable-only input ({@link #checkpointBytes} of a block with frozen weights) replaces the parameters it
     * names and leaves the frozen ones as the block holds them.
     *
     * @param in the serialised parameters
     * @param manager the model's manager
     * @param block the block
     * @param source names the input in errors
     */
    public static void loadParameters(InputStream in, NDManager manager, Block block, String source) {
        List<NDArray> old = new ArrayList<>();
        try {
            InputStream marked = in.markSupported() ? in : new BufferedInputStream(in);
            DataInputStream data = new DataInputStream(marked);
            marked.mark(4);
            int magic = data.readInt();
            if (magic == TRAINABLE_ONLY) {
                var byName = block.getParameters();
                int n = data.readInt();
                for (int i = 0; i < n; i++) {
                    String name = data.readUTF();
                    Parameter p = byName.get(name);
                    if (p == null) {
                        throw new BadInputException(source + ": parameter '" + name + "' is not in the model");
                    }
                    old.add(p.getArray());
                    p.load(manager, data);
                }
            } else {
                marked.reset();
                for (Parameter p : block.getParameters().values()) {
                    old.add(p.getArray());
                }
                block.loadParameters(manager, data);
            }
        } catch (IOException | MalformedModelException e) {
            throw new BadInputException(source + ": cannot load the parameters: " + Errors.reason(e), e);
        }
        for (Parameter p : block.getParameters().values()) {
            if (p.requiresGradient()) {
                p.getArray().setRequiresGradient(true);
            }
        }
        for (NDArray a : old) {
            a.close();
        }
    }

    /**
     * Loads serialised parameters from memory.
     *
     * @param bytes from {@link #parameterBytes}
     * @param manager the model's manager
     * @param block the block
     */
    static void loadParameters(byte[] bytes, NDManager manager, Block block) {
        loadParameters(new ByteArrayInputStream(bytes), manager, block, "best parameters");
    }
}

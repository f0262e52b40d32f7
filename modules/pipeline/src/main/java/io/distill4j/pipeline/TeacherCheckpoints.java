package io.distill4j.pipeline;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.PairList;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Checksums;
import io.distill4j.data.Errors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Saves and loads teacher checkpoints in DJL's parameter format: a folder holding
 * {@code teacher-0000.params} and its SHA-256 in {@value io.distill4j.data.Checksums#FILE_NAME}. Saving goes
 * to a temporary folder renamed into place; loading checks the checksum first, so a damaged file is named
 * as damaged rather than taken for a checkpoint of another architecture.
 */
public final class TeacherCheckpoints {

    /** The model name inside a checkpoint folder. */
    public static final String NAME = "teacher";
    /** The parameters file inside a checkpoint folder. */
    public static final String PARAMS = NAME + "-0000.params";

    private TeacherCheckpoints() {
    }

    /**
     * Whether a folder holds a checkpoint.
     *
     * @param dir the folder
     * @return true if {@code teacher-0000.params} is there
     */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(PARAMS));
    }

    /**
     * Saves a trained model.
     *
     * @param model the model
     * @param dir the checkpoint folder (replaced)
     * @throws IOException if writing fails
     */
    public static void save(Model model, Path dir) throws IOException {
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        AtomicFiles.deleteTree(tmp);
        Files.createDirectories(tmp);
        model.save(tmp, NAME);
        Checksums.write(tmp, List.of(PARAMS));
        AtomicFiles.deleteTree(dir);
        Files.createDirectories(dir.toAbsolutePath().getParent());
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Loads a checkpoint into a fresh block of the saved architecture.
     *
     * @param dir the checkpoint folder
     * @param block builds the (uninitialised) block the parameters belong to
     * @param inputs the input width the block takes
     * @param device the device to load onto
     * @return the model (the caller closes it)
     * @throws BadInputException if the folder holds no checkpoint, a damaged one (naming the file), or one
     *     of another architecture
     */
    public static Model load(Path dir, Supplier<Block> block, int inputs, Device device) {
        if (!exists(dir)) {
            throw new BadInputException(dir + ": no teacher checkpoint (" + PARAMS + ") in this folder");
        }
        Optional<String> damage = Checksums.damage(dir);
        if (damage.isPresent()) {
            throw new BadInputException(damage.get() + "; restore the teacher checkpoint " + dir + " from a copy, or "
                    + "train a new teacher into a new cache");
        }
        Path file = dir.resolve(PARAMS);
        Model m = Model.newInstance(NAME, device);
        m.setBlock(block.get());
        try {
            m.load(dir, NAME);
        } catch (IOException | MalformedModelException | RuntimeException e) {
            m.close();
            if (Checksums.present(dir)) { // the file is as it was saved: the configuration differs
                throw new BadInputException(file + ": cannot load into the configured architecture (" + Errors.reason(e)
                        + "); check teacher.model", e);
            }
            // Saved without a checksum: a damaged file and another architecture look alike.
            throw new BadInputException(file + ": damaged, or saved from another architecture: cannot load it ("
                    + Errors.reason(e) + "); check the file and teacher.model", e);
        }
        // DJL loads saved arrays whatever their shapes: compare with the configured architecture's.
        Block reference = block.get();
        try (NDManager manager = NDManager.newBaseManager(device)) {
            reference.initialize(manager, DataType.FLOAT32, new Shape(1, inputs));
            PairList<String, Parameter> want = reference.getParameters();
            PairList<String, Parameter> have = m.getBlock().getParameters();
            for (int i = 0; i < want.size(); i++) {
                Shape w = want.get(i).getValue().getArray().getShape();
                Shape h = i < have.size() && have.get(i).getValue().isInitialized() ? have.get(i).getValue().getArray().getShape()
                        : null;
                if (!w.equals(h)) {
                    m.close();
                    throw new BadInputException(file + ": parameter " + want.get(i).getKey()
                            + " has shape " + h + ", the configured architecture needs " + w + "; check teacher.model");
                }
            }
        }
        return m;
    }
}

package io.distill4j.pipeline;

import io.distill4j.data.BadInputException;
import io.distill4j.data.Errors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks of output folders made before any work, so that an unusable one fails in one line and loses nothing. */
final class Folders {

    private Folders() {
    }

    /**
     * Creates a folder and checks that a file can be written in it.
     *
     * @param dir the folder
     * @param what what the folder is for, e.g. "the run folder"
     * @throws BadInputException naming the folder and the reason
     */
    static void requireWritable(Path dir, String what) {
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".probe-", ".tmp");
            Files.delete(probe);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            throw new BadInputException(dir + ": cannot write " + what + ": " + Errors.reason(e), e);
        }
    }

    /**
     * Checks, creating nothing that stays, that a folder is or can become a writable folder: it is a folder already,
     * or the nearest existing folder above it is one in which a folder can be made.
     *
     * @param dir the folder
     * @param what what the folder is for, e.g. "the teacher cache"
     * @throws BadInputException naming the folder, and the file in the way or the reason
     */
    static void requireCreatable(Path dir, String what) {
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw new BadInputException(dir + ": cannot use it for " + what + ": it is a file, not a folder");
        }
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            throw new BadInputException(dir + ": cannot use it for " + what + ": no folder above it exists");
        }
        if (!Files.isDirectory(existing)) {
            throw new BadInputException(dir + ": cannot use it for " + what + ": " + existing + " is a file, not a folder");
        }
        try {
            Path probe = Files.createTempDirectory(existing, ".distill4j-probe-");
            Files.delete(probe);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            throw new BadInputException(dir + ": cannot use it for " + what + ": cannot write in " + existing + ": "
                    + Errors.reason(e), e);
        }
    }
}

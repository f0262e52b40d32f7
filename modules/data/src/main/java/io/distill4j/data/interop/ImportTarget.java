package io.distill4j.data.interop;

import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A new cache directory that appears only when an import completes. */
final class ImportTarget {
    private ImportTarget() {
    }

    /** Work that writes a cache into a directory. */
    interface Work {
        void run(Path dir) throws IOException;
    }

    /**
     * Runs the work in {@code DIR.importing}, then renames it to {@code DIR}; on failure removes it.
     *
     * @param dir the final cache directory, which must not exist yet
     * @param work writes the cache
     * @throws IOException on I/O failure
     */
    static void create(Path dir, Work work) throws IOException {
        if (Files.exists(dir)) {
            throw new BadInputException(dir + ": already exists; imports create a new cache directory");
        }
        Path tmp = dir.resolveSibling(dir.getFileName() + ".importing");
        io.distill4j.data.AtomicFiles.deleteTree(tmp);
        Files.createDirectories(tmp);
        boolean done = false;
        try {
            work.run(tmp);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            done = true;
        } finally {
            if (!done) {
                io.distill4j.data.AtomicFiles.deleteTree(tmp);
            }
        }
    }
}

package io.distill4j.trainer;

import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file a tracker appends records to while training: each record is written whole, with one write, and
 * reaches the operating system at once, so a reader sees complete records (a killed run leaves at most one
 * partial record at the end). Opening names the file as bad input; a later failure is an
 * {@link UncheckedIOException} naming it.
 */
final class TrackingFile implements AutoCloseable {

    private final Path file;
    private final String what;
    private FileChannel out;

    private TrackingFile(Path file, String what, FileChannel out) {
        this.file = file;
        this.what = what;
        this.out = out;
    }

    /**
     * Opens a file for records.
     *
     * @param file the file
     * @param what what it holds, for messages ("the tracked metrics")
     * @param options how to open it (with {@code WRITE})
     * @return the open file
     * @throws BadInputException naming the file if it cannot be opened (a folder that is a file, no permission)
     */
    static TrackingFile open(Path file, String what, StandardOpenOption... options) {
        try {
            return new TrackingFile(file, what, FileChannel.open(file, options));
        } catch (IOException e) {
            throw cannotOpen(file, what, e);
        }
    }

    /**
     * The error of a tracking file that cannot be made.
     *
     * @param file the file
     * @param what what it holds
     * @param e the cause
     * @return a bad-input error naming the file and the cause
     */
    static BadInputException cannotOpen(Path file, String what, IOException e) {
        return new BadInputException(file + ": cannot write " + what + " here: " + e.getClass().getSimpleName() + " "
                + e.getMessage(), e);
    }

    /**
     * Appends one record with one write.
     *
     * @param record the bytes
     */
    void write(byte[] record) {
        ByteBuffer b = ByteBuffer.wrap(record);
        try {
            while (b.hasRemaining()) {
                out.write(b);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write " + what + ": " + e.getMessage(), e);
        }
    }

    /** Closes the file. */
    @Override
    public void close() {
        if (out == null) {
            return;
        }
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot close " + what + ": " + e.getMessage(), e);
        } finally {
            out = null;
        }
    }
}

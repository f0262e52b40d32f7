package io.distill4j.data;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * The file system a file was being written to is full (or the user's quota is used up).
 *
 * <p>Thrown by {@link AtomicFiles#write} (and so by every cache commit) in place of the bare
 * {@code IOException("No space left on device")}; the temporary file is removed first, so what was
 * committed before stays as it was and a rerun resumes. The message is one line naming the folder, the
 * file, the bytes the file needed when known and the bytes free. The CLI prints it and exits with code 4.
 */
public class OutOfSpaceException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path folder;
    private final long bytesNeeded;
    private final long bytesFree;

    /**
     * Creates the exception.
     *
     * @param folder the folder being written to
     * @param file the file being written (its final name), or null
     * @param bytesNeeded the bytes the file needs, or -1 if unknown
     * @param bytesFree the bytes free for this user on the folder's file system, or -1 if unknown
     * @param cause the file system's error
     */
    public OutOfSpaceException(Path folder, String file, long bytesNeeded, long bytesFree, Throwable cause) {
        super(message(folder, file, bytesNeeded, bytesFree), cause);
        this.folder = folder;
        this.bytesNeeded = bytesNeeded;
        this.bytesFree = bytesFree;
    }

    /**
     * Wraps an exception that says the disk is full under a message naming what was being done.
     *
     * @param message one line naming the file or folder and what was being written
     * @param cause the file system's error
     */
    public OutOfSpaceException(String message, Throwable cause) {
        super(message, cause);
        this.folder = null;
        this.bytesNeeded = -1;
        this.bytesFree = -1;
    }

    private static String message(Path folder, String file, long needed, long free) {
        StringBuilder b = new StringBuilder().append(folder).append(": no space left on device");
        if (file != null) {
            b.append(" while writing ").append(file);
        }
        if (needed >= 0 || free >= 0) {
            b.append(" (");
            if (needed >= 0) {
                b.append(String.format(Locale.ROOT, "%,d bytes needed", needed));
            }
            if (free >= 0) {
                b.append(needed >= 0 ? ", " : "").append(String.format(Locale.ROOT, "%,d bytes free", free));
            }
            b.append(')');
        }
        return b.toString();
    }

    /** @return the folder being written to, or null when not known */
    public Path folder() {
        return folder;
    }

    /** @return the bytes the file needed, or -1 if unknown */
    public long bytesNeeded() {
        return bytesNeeded;
    }

    /** @return the bytes free on the folder's file system when the write failed, or -1 if unknown */
    public long bytesFree() {
        return bytesFree;
    }

    /**
     * Whether an I/O error says that the disk is full or the quota is used up (ENOSPC, EDQUOT).
     *
     * @param e the error
     * @return true for "No space left on device" and "Disk quota exceeded"
     */
    public static boolean isOutOfSpace(IOException e) {
        if (e instanceof OutOfSpaceException) {
            return true;
        }
        String m = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage();
        if (m == null) {
            return false;
        }
        String s = m.toLowerCase(Locale.ROOT);
        return s.contains("no space left on device") || s.contains("disk quota exceeded");
    }

    /**
     * Finds an out-of-space fault in an exception's causes: an {@code OutOfSpaceException}, or any I/O
     * error that {@link #isOutOfSpace says the disk is full}, reported under the message of the outermost
     * exception (which names the file being written).
     *
     * @param e the exception
     * @return the fault, if there is one
     */
    public static Optional<OutOfSpaceException> find(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfSpaceException o) {
                return Optional.of(o);
            }
            if (t instanceof IOException io && isOutOfSpace(io)) {
                String outer = Errors.reason(e);
                String inner = Errors.reason(io);
                return Optional.of(new OutOfSpaceException(outer.equals(inner) ? inner : outer + ": " + inner, t));
            }
        }
        return Optional.empty();
    }

    /**
     * The bytes free for this user on the file system of a folder.
     *
     * @param folder the folder
     * @return the usable bytes, or -1 if the file system cannot tell
     */
    public static long usableSpace(Path folder) {
        try {
            return Files.getFileStore(folder).getUsableSpace();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}

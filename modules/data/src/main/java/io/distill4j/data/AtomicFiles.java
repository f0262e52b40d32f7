package io.distill4j.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Crash-safe file writing: write to {@code NAME.tmp}, optionally force it to disk, rename it over
 * {@code NAME}. A reader sees either the old file or the complete new one, never a prefix.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /**
     * Writes the content of a file through a channel.
     *
     * <p>When the disk fills up, {@link AtomicFiles#write} calls the body a second time with a channel that
     * only counts bytes, to tell the user how many the file needs; a body must therefore write the same
     * bytes each time it is called (all of the project's do: they serialise data held in memory or re-read
     * a cache).
     */
    @FunctionalInterface
    public interface Body {
        /**
         * Writes the content.
         *
         * @param out the channel to the temporary file
         * @throws IOException if writing fails
         */
        void write(WritableByteChannel out) throws IOException;
    }

    /**
     * Writes {@code target} atomically and returns the SHA-256 of what was written, hashed on the way.
     *
     * @param target the final file
     * @param fsync whether to force the file and its directory to disk before and after the rename
     * @param body writes the content
     * @return the SHA-256 of the content, lower-case hex
     * @throws OutOfSpaceException if the file system is full (the temporary file is removed; the message
     *     names the folder, the file, the bytes it needs and the bytes free)
     * @throws IOException if writing fails otherwise; the temporary file is then removed
     */
    public static String write(Path target, boolean fsync, Body body) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        MessageDigest digest = Sha256.newDigest();
        HashingChannel hashing = null;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                hashing = new HashingChannel(ch, digest);
                body.write(hashing);
                if (fsync) {
                    ch.force(true);
                }
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw outOfSpace(target, body, e, hashing == null ? 0 : hashing.attempted);
        } catch (RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        if (fsync) {
            syncDirectory(target.toAbsolutePath().getParent());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Returns an {@link OutOfSpaceException} for a write that failed because the file system is full, else the
     * error itself. The file system is taken to be full when the error says so, or when fewer bytes are free
     * than the failed write tried to write.
     */
    private static IOException outOfSpace(Path target, Body body, IOException e, long attempted) {
        if (e instanceof OutOfSpaceException) {
            return e;
        }
        Path folder = target.toAbsolutePath().getParent();
        long free = OutOfSpaceException.usableSpace(folder);
        if (!OutOfSpaceException.isOutOfSpace(e) && !(attempted > 0 && free >= 0 && free < attempted)) {
            return e;
        }
        long needed = -1;
        try {
            CountingChannel counter = new CountingChannel();
            body.write(counter);
            needed = counter.bytes;
        } catch (IOException | RuntimeException measuring) {
            e.addSuppressed(measuring);
        }
        return new OutOfSpaceException(folder, target.getFileName().toString(), needed, free, e);
    }

    /** A channel that only counts what is written through it. */
    private static final class CountingChannel implements WritableByteChannel {
        long bytes;

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            src.position(src.limit());
            bytes += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /**
     * Writes bytes to {@code target} atomically.
     *
     * @param target the final file
     * @param bytes the content
     * @return the SHA-256 of the content
     * @throws IOException if writing fails
     */
    public static String write(Path target, byte[] bytes) throws IOException {
        return write(target, true, out -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                out.write(b);
            }
        });
    }

    /**
     * Deletes a folder and everything in it, deepest first (temporary folders of atomic directory writes, replaced
     * checkpoints); does nothing when the folder is absent.
     *
     * @param root the folder (or a single file)
     * @throws IOException if an entry cannot be deleted
     */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.util.stream.Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    /**
     * Forces a directory's entries (renames) to disk; a no-op where the platform cannot open directories.
     *
     * @param dir the directory
     */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Not supported on this platform (e.g. Windows); the rename itself is still atomic.
        }
    }

    /** A channel that feeds everything written through it into a digest. */
    static final class HashingChannel implements WritableByteChannel {
        private final WritableByteChannel out;
        private final MessageDigest digest;
        /** The bytes the last write was asked to write (what a failed write could not place). */
        long attempted;

        HashingChannel(WritableByteChannel out, MessageDigest digest) {
            this.out = out;
            this.digest = digest;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            ByteBuffer view = src.duplicate();
            attempted = src.remaining();
            int n = out.write(src);
            view.limit(view.position() + n);
            digest.update(view);
            return n;
        }

        @Override
        public boolean isOpen() {
            return out.isOpen();
        }

        /** Leaves the underlying channel open: its owner forces and closes it. */
        @Override
        public void close() {
        }
    }
}

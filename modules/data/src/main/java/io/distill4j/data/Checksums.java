package io.distill4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * SHA-256 checksums of the files in a folder, kept in {@value #FILE_NAME} in the format of coreutils'
 * {@code sha256sum} ("hex, two spaces, name" per line), so that {@code sha256sum -c SHA256SUMS} checks a
 * folder without distill4j. Checkpoints use it as the cache uses the SHA-256 in its manifest: written last,
 * checked before loading, so a damaged file is named instead of failing deep inside a loader.
 */
public final class Checksums {

    /** The name of the checksum file inside a folder. */
    public static final String FILE_NAME = "SHA256SUMS";

    private Checksums() {
    }

    /**
     * Hashes the given files of a folder and writes {@value #FILE_NAME} atomically.
     *
     * @param folder the folder
     * @param files the names of the files inside it to cover, in order
     * @throws IOException if a file cannot be read or the checksum file cannot be written
     */
    public static void write(Path folder, List<String> files) throws IOException {
        StringBuilder b = new StringBuilder();
        for (String f : files) {
            b.append(Sha256.of(folder.resolve(f))).append("  ").append(f).append('\n');
        }
        AtomicFiles.write(folder.resolve(FILE_NAME), b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Whether a folder carries a checksum file (folders written before checksums were kept do not).
     *
     * @param folder the folder
     * @return true if {@value #FILE_NAME} is there
     */
    public static boolean present(Path folder) {
        return Files.isRegularFile(folder.resolve(FILE_NAME));
    }

    /**
     * Re-hashes every file that {@value #FILE_NAME} lists.
     *
     * @param folder the folder
     * @return the first fault, as one line naming the file ("FILE: damaged: ..." or "FILE: missing"); empty
     *     when every file matches or when the folder has no checksum file
     */
    public static Optional<String> damage(Path folder) {
        Path sums = folder.resolve(FILE_NAME);
        if (!Files.isRegularFile(sums)) {
            return Optional.empty();
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(sums, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return Optional.of(sums + ": damaged: cannot read it: " + Errors.reason(e));
        }
        List<String[]> entries = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            if (!line.matches("[0-9a-f]{64}  [^/\\\\]+")) {
                return Optional.of(sums + ": damaged: line " + (i + 1) + " is not 'SHA-256  file': '" + line + "'");
            }
            entries.add(new String[] {line.substring(0, 64), line.substring(66)});
        }
        for (String[] e : entries) {
            Path f = folder.resolve(e[1]);
            if (!Files.isRegularFile(f)) {
                return Optional.of(f + ": missing (listed in " + FILE_NAME + ")");
            }
            String have;
            try {
                have = Sha256.of(f);
            } catch (IOException ex) {
                return Optional.of(f + ": damaged: cannot read it: " + Errors.reason(ex));
            }
            if (!have.equals(e[0])) {
                return Optional.of(f + ": damaged: its SHA-256 " + have + " differs from the " + e[0] + " recorded in "
                        + FILE_NAME + " when it was written");
            }
        }
        return Optional.empty();
    }
}

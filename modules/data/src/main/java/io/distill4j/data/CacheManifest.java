package io.distill4j.data;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code manifest.json} of a teacher-output cache (format v1).
 *
 * @param formatVersion the cache format version, {@value #FORMAT_VERSION} for this code
 * @param task {@code classification} or {@code regression}
 * @param k the number of teacher samples per item
 * @param width the number of classes C (classification) or output width D (regression)
 * @param signal what each sample holds: {@code probabilities}, {@code logits} or {@code values}
 * @param dtype the element type of the stored samples ({@code float32})
 * @param items the number of committed items (the sum of the shards' rows)
 * @param teacher the teacher's provenance (name, config, seed, temperature, ...)
 * @param datasetFingerprint the SHA-256 of the input features the teacher was run on
 * @param shards the committed shards, in item order
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record CacheManifest(int formatVersion, String task, int k, int width, String signal, String dtype,
        long items, Map<String, Object> teacher, String datasetFingerprint, List<Shard> shards) {

    /** The format version this code writes. */
    public static final int FORMAT_VERSION = 1;
    /** The manifest's file name inside a cache directory. */
    public static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    /** Copies the shard list so the record stays immutable. */
    public CacheManifest {
        shards = List.copyOf(shards);
        teacher = teacher == null ? Map.of() : Map.copyOf(teacher);
    }

    /**
     * One committed Arrow IPC shard.
     *
     * @param file the file name inside the cache directory ({@code part-NNNNN.arrow})
     * @param firstItem the index of its first item
     * @param rows its number of rows (items)
     * @param sha256 the SHA-256 of the file, lower-case hex
     */
    public record Shard(String file, long firstItem, long rows, String sha256) {
    }

    /**
     * Returns a copy with one more shard committed.
     *
     * @param shard the new shard, which must start where the last one ended
     * @return the new manifest
     */
    public CacheManifest withShard(Shard shard) {
        if (shard.firstItem() != items) {
            throw new IllegalStateException("shard " + shard.file() + " starts at item " + shard.firstItem()
                    + " but the cache holds " + items + " items");
        }
        List<Shard> s = new ArrayList<>(shards);
        s.add(shard);
        return new CacheManifest(formatVersion, task, k, width, signal, dtype, items + shard.rows(), teacher,
                datasetFingerprint, s);
    }

    /**
     * Writes the manifest atomically: to {@code manifest.json.tmp}, then renamed over the old one.
     *
     * @param dir the cache directory
     * @throws IOException if writing fails
     */
    public void writeAtomically(Path dir) throws IOException {
        Path tmp = dir.resolve(FILE_NAME + ".tmp");
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(this)));
            ch.force(true);
        }
        Files.move(tmp, dir.resolve(FILE_NAME), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Reads and checks the manifest of a cache directory.
     *
     * @param dir the cache directory
     * @return the manifest
     * @throws BadInputException if it is missing, malformed or of another format version
     */
    public static CacheManifest read(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        CacheManifest m;
        try {
            m = JSON.readValue(file.toFile(), CacheManifest.class);
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new BadInputException(file + ": not a teacher cache (manifest.json not found)", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": malformed manifest: " + getOriginalMessage(e), e);
        }
        if (m.formatVersion() != FORMAT_VERSION) {
            throw new BadInputException(file + ": field formatVersion: unsupported value " + m.formatVersion()
                    + " (this distill4j reads " + FORMAT_VERSION + ")");
        }
        if (m.k() <= 0) {
            throw new BadInputException(file + ": field k: must be positive, got " + m.k());
        }
        if (m.width() <= 0) {
            throw new BadInputException(file + ": field width: must be positive, got " + m.width());
        }
        long sum = 0;
        for (Shard s : m.shards()) {
            if (s.firstItem() != sum) {
                throw new BadInputException(file + ": shard " + s.file() + ": field firstItem: expected " + sum
                        + ", got " + s.firstItem());
            }
            sum += s.rows();
        }
        if (sum != m.items()) {
            throw new BadInputException(file + ": field items: " + m.items() + " but the shards hold " + sum);
        }
        return m;
    }

    private static String getOriginalMessage(IOException e) {
        return e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    }
}

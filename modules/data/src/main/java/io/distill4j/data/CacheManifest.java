package io.distill4j.data;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code manifest.json} of a teacher-output cache (format v1).
 *
 * @param formatVersion the cache format version, {@value #FORMAT_VERSION} for this code
 * @param task {@code classification}, {@code regression} or {@code sequence}
 * @param k the number of teacher samples per item
 * @param width the number of classes C (classification), output width D (regression) or vocabulary size V
 *     (sequence)
 * @param signal what each sample holds: {@code probabilities}, {@code logits} or {@code values} (dense
 *     tasks), {@code topk-logprobs} (sequence)
 * @param dtype the element type of the stored samples ({@code float32}; {@code uint8-sqrt} for the
 *     quantised log-probabilities of sequence caches)
 * @param items the number of committed items (the sum of the shards' rows)
 * @param teacher the teacher's provenance (name, config, seed, temperature, ...), kept in the order it was given
 *     (as read: the file's order), so that it prints alike wherever the manifest was built
 * @param datasetFingerprint the SHA-256 of the input features the teacher was run on
 * @param sequence the layout of a sequence cache (vocabulary, top-K, id type, encodings), or {@code null}
 *     for classification and regression caches
 * @param shards the committed shards, in item order
 */
@JsonIgnoreProperties(ignoreUnknown = false)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CacheManifest(int formatVersion, String task, int k, int width, String signal, String dtype,
        long items, Map<String, Object> teacher, String datasetFingerprint, SequenceLayout sequence,
        List<Shard> shards) {

    /** The format version this code writes. */
    public static final int FORMAT_VERSION = 1;
    /** The manifest's file name inside a cache directory. */
    public static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    /** Task name of classification caches. */
    public static final String CLASSIFICATION = "classification";
    /** Task name of regression caches. */
    public static final String REGRESSION = "regression";
    /** Task name of sequence (language-model) caches. */
    public static final String SEQUENCE = "sequence";

    /**
     * Copies the shard list and the provenance so the record stays immutable; the provenance keeps its iteration
     * order ({@code Map.copyOf} would not: its order depends on a per-JVM salt and on how the map was built).
     */
    public CacheManifest {
        shards = List.copyOf(shards);
        teacher = teacher == null ? Map.of() : ordered(teacher);
    }

    /** An unmodifiable copy in the given map's order; null keys or values are refused, as {@code Map.copyOf} does. */
    private static Map<String, Object> ordered(Map<String, Object> map) {
        Map<String, Object> copy = new LinkedHashMap<>();
        map.forEach((key, value) -> copy.put(Objects.requireNonNull(key, "teacher key"),
                Objects.requireNonNull(value, () -> "teacher." + key)));
        return Collections.unmodifiableMap(copy);
    }

    /**
     * Creates the manifest of a classification or regression cache (no sequence layout).
     *
     * @param formatVersion the format version
     * @param task {@code classification} or {@code regression}
     * @param k samples per item
     * @param width classes or outputs
     * @param signal {@code probabilities}, {@code logits} or {@code values}
     * @param dtype {@code float32}
     * @param items committed items
     * @param teacher provenance
     * @param datasetFingerprint input fingerprint
     * @param shards committed shards
     */
    public CacheManifest(int formatVersion, String task, int k, int width, String signal, String dtype,
            long items, Map<String, Object> teacher, String datasetFingerprint, List<Shard> shards) {
        this(formatVersion, task, k, width, signal, dtype, items, teacher, datasetFingerprint, null, shards);
    }

    /** @return whether this is a sequence cache */
    public boolean sequenceTask() {
        return SEQUENCE.equals(task);
    }

    /**
     * The layout of a sequence cache's shards.
     *
     * @param vocabSize the vocabulary size V; every token id is in [0, V)
     * @param topK the number K of top tokens kept per response position
     * @param idType the Arrow type of token ids: {@code uint16} when V is at most 65536, else {@code int32}
     * @param logprobEncoding how top-K log-probabilities are stored: {@code uint8-sqrt} (see
     *     {@link LogprobQuantizer})
     * @param compression the Arrow IPC buffer compression of the shards: {@code zstd}
     */
    public record SequenceLayout(int vocabSize, int topK, String idType, String logprobEncoding, String compression) {
    }

    /**
     * One committed Arrow IPC shard.
     *
     * @param file the file name inside the cache directory ({@code part-NNNNN.arrow})
     * @param firstItem the index of its first item
     * @param rows its number of items
     * @param bytes the file's size in bytes
     * @param sha256 the SHA-256 of the file, lower-case hex
     */
    public record Shard(String file, long firstItem, long rows, long bytes, String sha256) {
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
                datasetFingerprint, sequence, s);
    }

    /**
     * Writes the manifest atomically: to {@code manifest.json.tmp}, then renamed over the old one.
     *
     * @param dir the cache directory
     * @throws IOException if writing fails
     */
    public void writeAtomically(Path dir) throws IOException {
        writeAtomically(dir, true);
    }

    /**
     * Writes the manifest atomically: to {@code manifest.json.tmp}, then renamed over the old one.
     *
     * @param dir the cache directory
     * @param fsync whether to force the file and the directory to disk (survives power loss; without it
     *     the write still survives a crash of the process)
     * @throws OutOfSpaceException if the disk is full (the old manifest is kept)
     * @throws IOException if writing fails otherwise
     */
    public void writeAtomically(Path dir, boolean fsync) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(this);
        AtomicFiles.write(dir.resolve(FILE_NAME), fsync, ch -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    /** @return the manifest as indented JSON text */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise the manifest", e);
        }
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
        if (!List.of(CLASSIFICATION, REGRESSION, SEQUENCE).contains(m.task())) {
            throw new BadInputException(file + ": field task: unknown value '" + m.task()
                    + "' (expected classification, regression or sequence)");
        }
        if (m.sequenceTask() != (m.sequence() != null)) {
            throw new BadInputException(file + ": field sequence: " + (m.sequenceTask() ? "missing for a sequence cache"
                    : "present in a " + m.task() + " cache"));
        }
        if (m.sequence() != null) {
            SequenceLayout l = m.sequence();
            if (l.vocabSize() != m.width() || l.topK() <= 0 || l.topK() > l.vocabSize()
                    || !List.of("uint16", "int32").contains(l.idType())
                    || (l.idType().equals("uint16") && l.vocabSize() > 65536)
                    || !"uint8-sqrt".equals(l.logprobEncoding()) || !"zstd".equals(l.compression())) {
                throw new BadInputException(file + ": field sequence: inconsistent layout " + l + " for width "
                        + m.width());
            }
        }
        List<Shard> shards = m.shards();
        for (Shard s : shards) {
            if (s.file() == null || !s.file().matches("part-\\d{5,}\\.arrow")) {
                throw new BadInputException(file + ": field shards.file: bad shard name '" + s.file() + "'");
            }
            if (s.rows() <= 0) {
                throw new BadInputException(file + ": shard " + s.file() + ": field rows: must be positive, got "
                        + s.rows());
            }
        }
        if (shards.isEmpty() && m.items() != 0) {
            throw new BadInputException(file + ": field items: " + m.items() + " but no shard is listed");
        }
        if (!shards.isEmpty() && shards.get(0).firstItem() != 0) {
            throw new BadInputException(file + ": shard " + shards.get(0).file() + ": field firstItem: expected 0, got "
                    + shards.get(0).firstItem());
        }
        for (int i = 0; i < shards.size(); i++) {
            Shard s = shards.get(i);
            long end = i + 1 < shards.size() ? shards.get(i + 1).firstItem() : m.items();
            if (s.firstItem() + s.rows() != end) {
                throw chainBreak(file, m, i);
            }
        }
        return m;
    }

    /**
     * Names the field at fault where shard {@code i} does not end where the next shard starts (or, for the
     * last shard, where {@code items} says the cache ends). One wrong number breaks the chain in one place
     * when it is a {@code rows} count, and in two places when it is a {@code firstItem}; so when the next
     * shard's start agrees with what follows it, the fault is this shard's {@code rows}.
     */
    private static BadInputException chainBreak(Path file, CacheManifest m, int i) {
        List<Shard> shards = m.shards();
        Shard s = shards.get(i);
        if (i + 1 == shards.size()) {
            long sum = s.firstItem() + s.rows();
            return new BadInputException(file + ": shard " + s.file() + ": field rows: " + s.rows() + " rows from item "
                    + s.firstItem() + " end at item " + sum + ", but field items says the cache holds " + m.items()
                    + " (one of the two is wrong)");
        }
        Shard next = shards.get(i + 1);
        long nextEnd = i + 2 < shards.size() ? shards.get(i + 2).firstItem() : m.items();
        if (next.firstItem() + next.rows() == nextEnd) {
            return new BadInputException(file + ": shard " + s.file() + ": field rows: " + s.rows() + " rows from item "
                    + s.firstItem() + " end at item " + (s.firstItem() + s.rows()) + ", but the next shard "
                    + next.file() + " starts at item " + next.firstItem() + " (expected " + (next.firstItem() - s.firstItem())
                    + " rows)");
        }
        return new BadInputException(file + ": shard " + next.file() + ": field firstItem: expected "
                + (s.firstItem() + s.rows()) + " (where " + s.file() + " ends), got " + next.firstItem());
    }

    private static String getOriginalMessage(IOException e) {
        return e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    }
}

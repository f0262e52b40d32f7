package io.distill4j.teacher;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/** Compares the teacher provenance a cache records with the teacher of a run that resumes it. */
public final class Provenance {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Provenance() {
    }

    /**
     * Refuses to resume a cache that another teacher wrote: every provenance field must be equal (after a
     * JSON round trip, so that numbers compare alike), and neither side may have a field the other lacks.
     *
     * @param dir the cache directory (for the message)
     * @param recorded the provenance in the cache's manifest
     * @param current the provenance of this run's teacher
     * @throws BadInputException naming the manifest, the field and both values
     */
    public static void requireSame(Path dir, Map<String, Object> recorded, Map<String, Object> current) {
        Map<?, ?> want = normalised(current);
        Map<?, ?> have = normalised(recorded);
        for (Object key : want.keySet()) {
            if (!Objects.equals(have.get(key), want.get(key))) {
                throw new BadInputException(dir.resolve(CacheManifest.FILE_NAME) + ": field teacher." + key
                        + ": cache has " + have.get(key) + ", this run has " + want.get(key)
                        + " (a cache holds one teacher's samples; use a new cache directory)");
            }
        }
        for (Object key : have.keySet()) {
            if (!want.containsKey(key)) {
                throw new BadInputException(dir.resolve(CacheManifest.FILE_NAME) + ": field teacher." + key
                        + ": cache has " + have.get(key) + ", this run has none (use a new cache directory)");
            }
        }
    }

    /** Round-trips through JSON so that numbers compare alike (a long written is an int read). */
    private static Map<?, ?> normalised(Map<String, Object> map) {
        try {
            return JSON.readValue(JSON.writeValueAsBytes(map), Map.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("teacher provenance is not JSON-serialisable: " + e.getMessage(), e);
        }
    }
}

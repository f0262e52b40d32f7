package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The teacher's provenance in a {@link CacheManifest} keeps the order it was given or read in, so that a model card
 * that prints it reads alike however the manifest was built; format v1 is unchanged (the committed fixtures are
 * written back byte for byte).
 */
class CacheManifestOrderTest {

    /** Twelve keys in an order that is neither sorted nor a hash order. */
    static Map<String, Object> provenance() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String key : List.of("name", "zeta", "config", "alpha", "seed", "temperature", "weightsSha256", "beta",
                "tokenizer", "k", "model", "device")) {
            m.put(key, key.length());
        }
        return m;
    }

    static CacheManifest manifest(Map<String, Object> teacher) {
        return new CacheManifest(1, CacheManifest.CLASSIFICATION, 2, 3, "probabilities", "float32", 0, teacher,
                "inputs", List.of());
    }

    @Test
    void provenanceKeepsItsOrderInMemoryOnDiskAndReadBack(@TempDir Path dir) throws IOException {
        Map<String, Object> given = provenance();
        List<String> order = new ArrayList<>(given.keySet());
        CacheManifest m = manifest(given);
        assertEquals(order, new ArrayList<>(m.teacher().keySet()), "as given");
        assertEquals(given.toString(), m.teacher().toString(), "printed as given");
        CacheManifest shard = m.withShard(new CacheManifest.Shard("part-00000.arrow", 0, 1, 10, "00"));
        assertEquals(order, new ArrayList<>(shard.teacher().keySet()), "after a shard is committed");
        shard.writeAtomically(dir, false);
        CacheManifest read = CacheManifest.read(dir);
        assertEquals(order, new ArrayList<>(read.teacher().keySet()), "as read from the file");
        assertEquals(shard, read);
        assertEquals(shard.toJson(), Files.readString(dir.resolve(CacheManifest.FILE_NAME)));

        // a map of another insertion order (or a hash map) is kept in its own iteration order
        Map<String, Object> hashed = new HashMap<>(given);
        assertEquals(new ArrayList<>(hashed.keySet()), new ArrayList<>(manifest(hashed).teacher().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> m.teacher().put("x", 1));
        Map<String, Object> withNull = new LinkedHashMap<>(given);
        withNull.put("empty", null);
        assertThrows(NullPointerException.class, () -> manifest(withNull), "null values refused as before");
    }

    @Test
    void theFormatV1FixturesAreWrittenBackByteForByte() throws IOException {
        for (String name : List.of("classification", "regression", "sequence")) {
            Path fixture = FormatFixtureTest.fixture(name);
            assertEquals(Files.readString(fixture.resolve(CacheManifest.FILE_NAME)), CacheManifest.read(fixture).toJson(),
                    name);
        }
    }
}

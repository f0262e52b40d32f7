package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Reads the committed format-v1 fixture caches (written once by {@link FormatFixture}): a change of
 * schema, manifest or encoding that this version can no longer read, or reads differently, fails here.
 */
class FormatFixtureTest {

    static Path fixture(String name) {
        return Path.of(System.getProperty("distill4j.root", "../..")).resolve("modules/data/src/test/resources/fixture-v1")
                .resolve(name);
    }

    @Test
    void classificationFixture() {
        TeacherCache c = TeacherCache.open(fixture("classification"));
        CacheManifest m = c.manifest();
        assertEquals(1, m.formatVersion());
        assertEquals("classification", m.task());
        assertEquals("probabilities", m.signal());
        assertEquals(3, m.k());
        assertEquals(4, m.width());
        assertEquals(10, m.items());
        assertEquals(2, m.shards().size());
        assertEquals("fixture", m.teacher().get("name"));
        assertTrue(c.verifyReport().ok(), c.verifyReport().faults().toString());
        float[][][] all = c.readAll();
        for (int i = 0; i < 10; i++) {
            float[][] want = FormatFixture.classification(i);
            for (int j = 0; j < 3; j++) {
                assertArrayEquals(want[j], all[i][j], "item " + i);
            }
        }
    }

    @Test
    void regressionFixture() {
        TeacherCache c = TeacherCache.open(fixture("regression"));
        assertEquals("values", c.manifest().signal());
        assertTrue(c.verifyReport().ok());
        float[][][] all = c.readAll();
        assertEquals(5, all.length);
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(FormatFixture.regression(i)[1], all[i][1]);
        }
    }

    @Test
    void sequenceFixture() {
        TeacherCache c = TeacherCache.open(fixture("sequence"));
        CacheManifest m = c.manifest();
        assertEquals(new CacheManifest.SequenceLayout(300, 4, "uint16", "uint8-sqrt", "zstd"), m.sequence());
        assertTrue(c.verifyReport().ok());
        try (SequenceCacheReader r = c.sequence()) {
            assertEquals(4, r.items());
            for (int i = 0; i < 4; i++) {
                SequenceItem it = r.read(i);
                assertArrayEquals(FormatFixture.prompt(i), it.prompt());
                for (int j = 0; j < 2; j++) {
                    SequenceSample want = FormatFixture.sequence(i).get(j);
                    SequenceSample got = it.samples().get(j);
                    assertArrayEquals(want.tokens(), got.tokens());
                    assertArrayEquals(want.topIds(), got.topIds()); // already in descending order
                    assertArrayEquals(want.topLogprobs(), got.topLogprobs(), 0.01f);
                    for (int t = 0; t < want.length(); t++) {
                        assertEquals(want.topLogprobs()[t * 4], got.topLogprobs()[t * 4], 0.0);
                        assertEquals(Math.log(1 - 0.8 * (1 - 1 / 16.0)), got.tailLogMass()[t], 1e-6);
                    }
                }
            }
        }
    }
}

package io.distill4j.teacher.sequence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import io.distill4j.teacher.SampleProgress;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A new cache is opened while the teacher's first requests are out; a resumed one is checked before any request. */
class SequenceTeacherSamplerTest {

    /** k = 1, one token per answer: item i answers token i mod 10 with log-probability -0.1. */
    private static final class Counting implements SequenceTeacher {
        final List<Long> asked = new ArrayList<>();
        final long failAt;

        Counting(long failAt) {
            this.failAt = failAt;
        }

        @Override
        public int k() {
            return 1;
        }

        @Override
        public int vocabularySize() {
            return 10;
        }

        @Override
        public int topK() {
            return 1;
        }

        @Override
        public Map<String, Object> provenance() {
            return Map.of("name", "counting");
        }

        @Override
        public void sample(List<String> prompts, long from, Consumer<SequenceItem> sink, SampleProgress progress) {
            asked.add(from);
            for (long i = from; i < prompts.size(); i++) {
                if (i == failAt) {
                    throw new IllegalStateException("the server went away at item " + i);
                }
                int t = (int) (i % 10);
                sink.accept(new SequenceItem(i, new int[] {t}, List.of(new SequenceSample(new int[] {t}, new int[] {t},
                        new float[] {-0.1f}, new float[] {(float) Math.log1p(-Math.exp(-0.1))}))));
            }
        }
    }

    private static List<String> prompts(int n) {
        List<String> p = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            p.add("prompt " + i);
        }
        return p;
    }

    @Test
    void aNewCacheFailedMidwayKeepsItsShardsAndTheRerunAsksOnlyForTheRest(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("c");
        Counting first = new Counting(5);
        assertThrows(IllegalStateException.class, () -> SequenceTeacherSampler.fill(first, prompts(7), cache, 2,
                SampleProgress.NONE));
        Counting second = new Counting(-1);
        assertEquals(7, SequenceTeacherSampler.fill(second, prompts(7), cache, 2, SampleProgress.NONE));
        assertEquals(List.of(0L), first.asked);
        assertEquals(List.of(5L), second.asked, "items 0-4, delivered before the failure at 5, were committed");
        try (SequenceCacheReader r = TeacherCache.open(cache).sequence()) {
            assertEquals(7, r.items());
            for (int i = 0; i < 7; i++) {
                assertArrayEquals(new int[] {i % 10}, r.read(i, 0).sample().tokens(), "item " + i);
            }
        }
    }

    @Test
    void aNewCacheThatCannotBeWrittenFailsNamingItsFolder(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "not a folder");
        Path cache = file.resolve("c");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> SequenceTeacherSampler.fill(
                new Counting(-1), prompts(3), cache, 2, SampleProgress.NONE));
        assertTrue(e.getMessage().startsWith(cache + ": cannot write the sequence cache"), e.getMessage());
        assertEquals("not a folder", Files.readString(file));
    }
}

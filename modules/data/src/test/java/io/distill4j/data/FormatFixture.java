package io.distill4j.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The committed format-v1 fixture caches under {@code src/test/resources/fixture-v1/}: their content is a
 * pure function of the item index, so {@link FormatFixtureTest} can check what it reads. Regenerate only on
 * purpose (a new format version gets a new fixture folder): {@code FormatFixture.main(outDir)} from the test
 * classpath.
 */
public final class FormatFixture {
    static final Map<String, Object> TEACHER = Map.of("name", "fixture", "seed", 1);

    private FormatFixture() {
    }

    /** Classification item i: 3 probability vectors over 4 classes. */
    static float[][] classification(int i) {
        float[][] p = new float[3][4];
        for (int j = 0; j < 3; j++) {
            float a = (i % 4 + 1) / 10f;
            float b = (j + 1) / 10f;
            p[j] = new float[] {a, b, 0.5f - b, 0.5f - a};
        }
        return p;
    }

    /** Regression item i: 2 samples of 2 outputs. */
    static float[][] regression(int i) {
        return new float[][] {{i, -i / 2f}, {i + 0.25f, 1e-3f * i}};
    }

    /** Sequence item i's prompt. */
    static int[] prompt(int i) {
        return new int[] {i, 100 + i};
    }

    /** Sequence item i: 2 responses over V = 300 with top-4 per position. */
    static List<SequenceSample> sequence(int i) {
        List<SequenceSample> out = new ArrayList<>();
        for (int j = 0; j < 2; j++) {
            int len = (i + j) % 3 + 1;
            int[] tokens = new int[len];
            int[] ids = new int[len * 4];
            float[] lp = new float[len * 4];
            for (int t = 0; t < len; t++) {
                for (int q = 0; q < 4; q++) {
                    ids[t * 4 + q] = (17 * i + 5 * j + 3 * t + 71 * q) % 300;
                    lp[t * 4 + q] = (float) Math.log(0.8 / (1 << (q + 1)));
                }
                tokens[t] = ids[t * 4 + (t % 2)];
            }
            out.add(new SequenceSample(tokens, ids, lp, null));
        }
        return out;
    }

    /**
     * Writes the three fixture caches.
     *
     * @param args the output folder
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        CacheWriteOptions o = CacheWriteOptions.DEFAULT;
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(out.resolve("classification"), "classification", 3, 4,
                "probabilities", TEACHER, "fixture-inputs", 6, o)) {
            for (int i = 0; i < 10; i++) {
                w.append(classification(i));
            }
        }
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(out.resolve("regression"), "regression", 2, 2,
                "values", TEACHER, "fixture-inputs", 4, o)) {
            for (int i = 0; i < 5; i++) {
                w.append(regression(i));
            }
        }
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(out.resolve("sequence"), 2, 300, 4, TEACHER,
                "fixture-prompts", 3, o)) {
            for (int i = 0; i < 4; i++) {
                w.append(prompt(i), sequence(i));
            }
        }
    }
}

package io.distill4j.data.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.TeacherCacheWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InteropTest {
    static final CacheWriteOptions NO_SYNC = CacheWriteOptions.DEFAULT.withFsync(false);
    static final DenseInterop.ImportSpec SPEC = new DenseInterop.ImportSpec("regression", "values", Map.of("name", "x"),
            "fp", 2, NO_SYNC);

    static Path resource(String name) {
        return Path.of(System.getProperty("distill4j.root", "../.."))
                .resolve("modules/data/src/test/resources/interop").resolve(name);
    }

    /** The golden content written by make_fixtures.py: (i*100 + j*10 + c) / 1000. */
    static void assertGolden(TeacherCache cache, float tol) {
        float[][][] s = cache.readAll();
        assertEquals(3, s.length);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 2; j++) {
                for (int c = 0; c < 4; c++) {
                    assertEquals((i * 100 + j * 10 + c) / 1000.0, s[i][j][c], tol);
                }
            }
        }
    }

    @Test
    void readsNumpyAndSafetensorsGoldenFiles(@TempDir Path tmp) throws IOException {
        assertGolden(DenseInterop.importNpz(resource("golden_f32.npz"), tmp.resolve("a"), SPEC), 1e-7f);
        assertGolden(DenseInterop.importNpz(resource("golden_f64_compressed.npz"), tmp.resolve("b"), SPEC), 1e-7f);
        assertGolden(DenseInterop.importSafetensors(resource("golden.safetensors"), tmp.resolve("c"), SPEC), 1e-7f);
        assertGolden(DenseInterop.importSafetensors(resource("golden_f16.safetensors"), tmp.resolve("d"), SPEC), 5e-4f);
    }

    @Test
    void npzAndSafetensorsRoundTrip(@TempDir Path tmp) throws IOException {
        Random r = new Random(2);
        float[][][] items = new float[9][3][5];
        try (TeacherCacheWriter w = TeacherCacheWriter.openOrCreate(tmp.resolve("src"), "regression", 3, 5, "values",
                Map.of(), "fp", 4, NO_SYNC)) {
            for (float[][] it : items) {
                for (float[] s : it) {
                    for (int c = 0; c < 5; c++) {
                        s[c] = (float) r.nextGaussian();
                    }
                }
                w.append(it);
            }
        }
        TeacherCache src = TeacherCache.open(tmp.resolve("src"));
        DenseInterop.exportNpz(src, tmp.resolve("x.npz"));
        DenseInterop.exportSafetensors(src, tmp.resolve("x.safetensors"));
        float[][][] a = DenseInterop.importNpz(tmp.resolve("x.npz"), tmp.resolve("a"), SPEC).readAll();
        float[][][] b = DenseInterop.importSafetensors(tmp.resolve("x.safetensors"), tmp.resolve("b"), SPEC).readAll();
        for (int i = 0; i < items.length; i++) {
            for (int j = 0; j < 3; j++) {
                assertArrayEquals(items[i][j], a[i][j]);
                assertArrayEquals(items[i][j], b[i][j]);
            }
        }
    }

    @Test
    void truncatedOrInvalidFilesLeaveNoCache(@TempDir Path tmp) throws IOException {
        Path st = tmp.resolve("t.safetensors");
        Files.copy(resource("golden.safetensors"), st);
        try (RandomAccessFile f = new RandomAccessFile(st.toFile(), "rw")) {
            f.setLength(f.length() - 10);
        }
        BadInputException e = assertThrows(BadInputException.class,
                () -> DenseInterop.importSafetensors(st, tmp.resolve("c"), SPEC));
        assertTrue(e.getMessage().contains("t.safetensors: truncated: tensor samples needs"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("c")));
        assertFalse(Files.exists(tmp.resolve("c.importing")));
        Path npz = tmp.resolve("t.npz");
        byte[] whole = Files.readAllBytes(resource("golden_f32.npz"));
        Files.write(npz, java.util.Arrays.copyOf(whole, 150));
        BadInputException z = assertThrows(BadInputException.class, () -> DenseInterop.importNpz(npz, tmp.resolve("d"), SPEC));
        assertTrue(z.getMessage().contains("t.npz"), z.getMessage());
        assertFalse(Files.exists(tmp.resolve("d")));
        // Probabilities off the simplex: golden rows do not sum to 1.
        BadInputException p = assertThrows(BadInputException.class, () -> DenseInterop.importNpz(resource("golden_f32.npz"),
                tmp.resolve("e"), new DenseInterop.ImportSpec("classification", "probabilities", Map.of(), "fp", 2, NO_SYNC)));
        assertTrue(p.getMessage().contains("golden_f32.npz: entry samples.npy: item 0: field samples[0]: probabilities sum to"),
                p.getMessage());
        assertFalse(Files.exists(tmp.resolve("e")));
    }

    static Vocabulary vocab(int n) {
        List<String> t = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            t.add(i % 3 == 0 ? "tok" + i : " w\u00e9" + i);
        }
        return Vocabulary.of(t);
    }

    @Test
    void jsonlRoundTripKeepsIdsAndLogprobs(@TempDir Path tmp) throws IOException {
        Random r = new Random(4);
        int v = 40;
        int topK = 4;
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(tmp.resolve("src"), 2, v, topK, Map.of(), "fp", 2,
                NO_SYNC)) {
            for (int i = 0; i < 5; i++) {
                List<SequenceSample> s = new ArrayList<>();
                for (int j = 0; j < 2; j++) {
                    int len = 1 + r.nextInt(4);
                    int[] tokens = new int[len];
                    int[] ids = new int[len * topK];
                    float[] lp = new float[len * topK];
                    for (int t = 0; t < len; t++) {
                        int start = r.nextInt(v - topK);
                        for (int q = 0; q < topK; q++) {
                            ids[t * topK + q] = start + q;
                            lp[t * topK + q] = (float) Math.log(0.9 / (2 << q));
                        }
                        tokens[t] = r.nextBoolean() ? ids[t * topK] : (start + topK) % v;
                    }
                    s.add(new SequenceSample(tokens, ids, lp, null));
                }
                w.append(new int[] {i, i + 1}, s);
            }
        }
        Vocabulary vocab = vocab(v);
        TeacherCache src = TeacherCache.open(tmp.resolve("src"));
        OpenAiJsonl.exportJsonl(src, vocab, tmp.resolve("x.jsonl"));
        // Exported log-probabilities carry the cache's quantisation error, so the mass of top-K plus tail can be
        // off 1 by up to sum_r p_r * err_r: re-importing an export needs a tolerance of that size.
        TeacherCache back = OpenAiJsonl.importJsonl(tmp.resolve("x.jsonl"), tmp.resolve("back"), vocab, topK, Map.of(),
                "fp", 3, new CacheWriteOptions(false, 0.01));
        try (SequenceCacheReader a = src.sequence(); SequenceCacheReader b = back.sequence()) {
            assertEquals(a.items(), b.items());
            for (long i = 0; i < a.items(); i++) {
                SequenceItem x = a.read(i);
                SequenceItem y = b.read(i);
                assertArrayEquals(x.prompt(), y.prompt());
                for (int j = 0; j < 2; j++) {
                    assertArrayEquals(x.samples().get(j).tokens(), y.samples().get(j).tokens());
                    assertArrayEquals(x.samples().get(j).topIds(), y.samples().get(j).topIds());
                    assertArrayEquals(x.samples().get(j).topLogprobs(), y.samples().get(j).topLogprobs(), 1e-6f);
                    assertArrayEquals(x.samples().get(j).tailLogMass(), y.samples().get(j).tailLogMass(), 1e-6f);
                }
            }
        }
    }

    @Test
    void openAiStyleLineIsReadAndFaultsAreNamed(@TempDir Path tmp) throws IOException {
        Vocabulary vocab = Vocabulary.of(List.of("a", "b", "c", "d"));
        String good = "{\"prompt_token_ids\":[0,1],\"choices\":[{\"index\":0,\"logprobs\":{\"content\":["
                + "{\"token\":\"b\",\"logprob\":-0.5,\"top_logprobs\":[{\"token\":\"c\",\"logprob\":-1.5},"
                + "{\"token\":\"b\",\"logprob\":-0.5},{\"token\":\"d\",\"logprob\":-3.0}]}]}}]}";
        Path f = tmp.resolve("in.jsonl");
        Files.writeString(f, good + "\n");
        TeacherCache c = OpenAiJsonl.importJsonl(f, tmp.resolve("c"), vocab, 2, Map.of(), "fp", 4, NO_SYNC);
        try (SequenceCacheReader r = c.sequence()) {
            SequenceSample s = r.read(0).samples().get(0);
            assertArrayEquals(new int[] {1}, s.tokens());
            assertArrayEquals(new int[] {1, 2}, s.topIds()); // sorted by logprob, top-2 kept
            assertEquals(-0.5, s.topLogprobs()[0], 0.0);
            assertEquals(-1.5, s.topLogprobs()[1], 1e-6); // the last rank decodes exactly too (code 255)
            assertEquals(Math.log(1 - Math.exp(-0.5) - Math.exp(-1.5)), s.tailLogMass()[0], 1e-5);
        }
        Files.writeString(f, good + "\n" + good.replace("\"token\":\"d\"", "\"token\":\"zz\"") + "\n");
        BadInputException voc = assertThrows(BadInputException.class,
                () -> OpenAiJsonl.importJsonl(f, tmp.resolve("d"), vocab, 2, Map.of(), "fp", 4, NO_SYNC));
        assertTrue(voc.getMessage().contains("in.jsonl: line 2: field choices[0].logprobs.content[0].top_logprobs[2].token: "
                + "token \"zz\" is not in the vocabulary (V=4): vocabulary mismatch"), voc.getMessage());
        assertFalse(Files.exists(tmp.resolve("d")));
        Files.writeString(f, good + "\n" + good.substring(0, 60) + "\n");
        BadInputException trunc = assertThrows(BadInputException.class,
                () -> OpenAiJsonl.importJsonl(f, tmp.resolve("e"), vocab, 2, Map.of(), "fp", 4, NO_SYNC));
        assertTrue(trunc.getMessage().contains("in.jsonl: line 2: malformed or truncated JSON"), trunc.getMessage());
        assertFalse(Files.exists(tmp.resolve("e")));
        BadInputException few = assertThrows(BadInputException.class,
                () -> OpenAiJsonl.importJsonl(tmp.resolve("in.jsonl"), tmp.resolve("g"), vocab, 4, Map.of(), "fp", 4, NO_SYNC));
        assertTrue(few.getMessage().contains("line 1: field choices[0].logprobs.content[0].top_logprobs: 3 entries, the "
                + "cache keeps top-K=4"), few.getMessage());
        BadInputException exportVocab = assertThrows(BadInputException.class,
                () -> OpenAiJsonl.exportJsonl(c, Vocabulary.of(List.of("a", "b")), tmp.resolve("o.jsonl")));
        assertTrue(exportVocab.getMessage().contains("vocabulary mismatch"), exportVocab.getMessage());
    }
}

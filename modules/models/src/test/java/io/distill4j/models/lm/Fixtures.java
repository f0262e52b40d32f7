package io.distill4j.models.lm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * The golden fixtures under src/test/resources/lm, made once by src/test/python/make_tiny_lms.py with
 * PyTorch and transformers.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /**
     * @param name gpt2-tiny or llama-tiny
     * @return the folder
     */
    public static synchronized Path folder(String name) {
        try {
            java.net.URI uri = Fixtures.class.getResource("/lm/" + name).toURI();
            if (!"jar".equals(uri.getScheme())) {
                return Path.of(uri);
            }
            // From another module's tests the fixtures sit inside the models test-jar: unpack them once.
            Path dest = UNPACKED.resolve(name);
            if (!Files.isDirectory(dest)) {
                try (java.nio.file.FileSystem jar = java.nio.file.FileSystems.newFileSystem(uri, java.util.Map.of());
                        Stream<Path> files = Files.list(jar.getPath("/lm/" + name))) {
                    Path tmp = Files.createDirectories(UNPACKED.resolve(name + ".tmp"));
                    for (Path f : (Iterable<Path>) files::iterator) {
                        Files.copy(f, tmp.resolve(f.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
                    }
                    Files.move(tmp, dest);
                }
            }
            return dest;
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final Path UNPACKED;

    static {
        try {
            UNPACKED = Files.createTempDirectory("distill4j-lm-fixtures");
            UNPACKED.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param name gpt2-tiny or llama-tiny
     * @return the parsed expected.json
     */
    public static JsonNode expected(String name) {
        try {
            return new ObjectMapper().readTree(folder(name).resolve("expected.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Copies a fixture folder to a scratch directory (to edit it in bad-input tests).
     *
     * @param name the fixture
     * @param dest the destination folder
     * @return {@code dest}
     */
    public static Path copy(String name, Path dest) {
        try (Stream<Path> files = Files.list(folder(name))) {
            Files.createDirectories(dest);
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, dest.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
            return dest;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param node a JSON array of arrays of integers
     * @return the values
     */
    public static long[][] longs2(JsonNode node) {
        long[][] out = new long[node.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new long[node.get(i).size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = node.get(i).get(j).asLong();
            }
        }
        return out;
    }

    /**
     * @param node a JSON array (B) of arrays (T) of arrays (V) of numbers
     * @return the values, flattened row-major
     */
    public static float[] floats3(JsonNode node) {
        int b = node.size();
        int t = node.get(0).size();
        int v = node.get(0).get(0).size();
        float[] out = new float[b * t * v];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                for (int k = 0; k < v; k++) {
                    out[(i * t + j) * v + k] = (float) node.get(i).get(j).get(k).asDouble();
                }
            }
        }
        return out;
    }
}

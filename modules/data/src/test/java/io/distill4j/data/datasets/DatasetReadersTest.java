package io.distill4j.data.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.data.BadInputException;
import io.distill4j.data.TabularData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetReadersTest {

    static Path root() {
        return Path.of(System.getProperty("distill4j.root", "../.."));
    }

    static Path resource(String dir) {
        return root().resolve("modules/data/src/test/resources").resolve(dir);
    }

    @Test
    void idxFixturesReadPlainAndGzipped() {
        TabularData train = Mnist.load(resource("idx"), Mnist.Split.TRAIN, "tiny");
        assertEquals(3, train.size());
        assertEquals(6, train.width());
        assertArrayEquals(new int[] {7, 0, 9}, train.labels());
        // pixel (i, r, c) = 40 i + 10 r + c, scaled by 1/255
        assertEquals((40 * 2 + 10 * 1 + 2) / 255f, train.features()[2][5]);
        assertEquals(0f, train.features()[0][0]);
        TabularData test = Mnist.load(resource("idx"), Mnist.Split.TEST, "tiny");
        assertEquals(2, test.size());
        assertEquals(11 / 255f, test.features()[0][4]);
    }

    @Test
    void brokenIdxIsNamed(@TempDir Path dir) throws IOException {
        byte[] img = Files.readAllBytes(resource("idx").resolve("train-images-idx3-ubyte"));
        Files.write(dir.resolve("train-images-idx3-ubyte"), java.util.Arrays.copyOf(img, img.length - 3));
        Files.copy(resource("idx").resolve("train-labels-idx1-ubyte"), dir.resolve("train-labels-idx1-ubyte"));
        BadInputException e = assertThrows(BadInputException.class, () -> Mnist.load(dir, Mnist.Split.TRAIN, "x"));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte: truncated: the header promises 18 values"),
                e.getMessage());
        BadInputException missing = assertThrows(BadInputException.class, () -> Mnist.load(dir, Mnist.Split.TEST, "x"));
        assertTrue(missing.getMessage().contains("t10k-images-idx3-ubyte: dataset file not found"), missing.getMessage());
    }

    @Test
    void fullMnistWhenFetched() {
        Path raw = root().resolve("datasets/mnist/raw");
        Assumptions.assumeTrue(Mnist.present(raw, Mnist.Split.TRAIN),
                "MNIST not fetched: run datasets/mnist/fetch.sh to include this test");
        TabularData train = Mnist.load(raw, Mnist.Split.TRAIN, "mnist");
        TabularData test = Mnist.load(raw, Mnist.Split.TEST, "mnist");
        assertEquals(60000, train.size());
        assertEquals(784, train.width());
        assertEquals(10000, test.size());
        assertArrayEquals(new int[] {5, 0, 4, 1, 9}, java.util.Arrays.copyOf(train.labels(), 5)); // the well-known first labels
        assertArrayEquals(new int[] {7, 2, 1, 0, 4}, java.util.Arrays.copyOf(test.labels(), 5));
    }

    @Test
    void fullFashionMnistWhenFetched() {
        Path raw = root().resolve("datasets/fashion-mnist/raw");
        Assumptions.assumeTrue(Mnist.present(raw, Mnist.Split.TRAIN),
                "Fashion-MNIST not fetched: run datasets/fashion-mnist/fetch.sh to include this test");
        TabularData train = Mnist.load(raw, Mnist.Split.TRAIN, "fashion-mnist");
        assertEquals(60000, train.size());
        assertEquals(9, train.labels()[0]); // ankle boot
        int[] counts = new int[10];
        for (int y : train.labels()) {
            counts[y]++;
        }
        assertArrayEquals(new int[] {6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000}, counts);
    }

    @Test
    void arffNominalAndNumericAttributes() {
        TabularData d = Arff.read(resource("arff").resolve("tiny.arff"));
        assertEquals("tiny iris", d.name());
        assertEquals(3, d.size());
        assertEquals(3, d.numClasses());
        assertArrayEquals(new int[] {0, 1, 2}, d.labels());
        assertArrayEquals(new float[] {7.0f, 1.4f, 1f}, d.features()[1]);
        TabularData reg = Arff.read(resource("arff").resolve("tiny.arff"), "sepallength");
        assertArrayEquals(new double[] {5.1, 7.0, 6.3}, reg.targets());
        assertArrayEquals(new float[] {0.2f, 0f, 0f}, reg.features()[0]);
    }

    @Test
    void badArffIsNamed(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("bad.arff");
        Files.writeString(f, "@relation r\n@attribute a numeric\n@attribute c {x,y}\n@data\n1,x\n?,y\n");
        BadInputException miss = assertThrows(BadInputException.class, () -> Arff.read(f));
        assertTrue(miss.getMessage().contains("bad.arff: line 6: attribute a: missing value '?'"), miss.getMessage());
        Files.writeString(f, "@relation r\n@attribute a numeric\n@attribute c {x,y}\n@data\n1,z\n");
        BadInputException nom = assertThrows(BadInputException.class, () -> Arff.read(f));
        assertTrue(nom.getMessage().contains("line 5: attribute c: value 'z' is not one of [x, y]"), nom.getMessage());
        Files.writeString(f, "@relation r\n@attribute s string\n@attribute c {x,y}\n@data\n");
        BadInputException str = assertThrows(BadInputException.class, () -> Arff.read(f));
        assertTrue(str.getMessage().contains("line 2: attribute s: type 'string' is not supported"), str.getMessage());
    }

    @Test
    void textCorpusFromSamplesJsonAndJsonl(@TempDir Path dir) throws IOException {
        List<TextCorpus.Document> docs = TextCorpus.read(root().resolve("datasets/text/sample"));
        assertEquals(2, docs.size());
        assertTrue(docs.get(0).text().startsWith("Call me Ishmael."));
        assertTrue(docs.get(1).text().startsWith("It is a truth universally acknowledged"));
        Files.writeString(dir.resolve("chapter_10.json"), "{\"chapter\":\"10\",\"text\":\"ten\"}");
        Files.writeString(dir.resolve("chapter_2.json"), "{\"chapter\":\"2\",\"text\":\"two\"}");
        Files.writeString(dir.resolve("more.jsonl"), "{\"text\":\"a\"}\n\n{\"text\":\"b\"}\n");
        List<String> texts = TextCorpus.read(dir).stream().map(TextCorpus.Document::text).toList();
        assertEquals(List.of("two", "ten", "a", "b"), texts);
        Files.writeString(dir.resolve("more.jsonl"), "{\"text\":\"a\"}\n{\"txt\":\"b\"}\n");
        BadInputException e = assertThrows(BadInputException.class, () -> TextCorpus.read(dir));
        assertTrue(e.getMessage().contains("more.jsonl: line 2: field text: missing"), e.getMessage());
        Files.write(dir.resolve("more.jsonl"), new byte[] {(byte) 0xC3, 0x28});
        BadInputException utf = assertThrows(BadInputException.class, () -> TextCorpus.read(dir));
        assertTrue(utf.getMessage().contains("more.jsonl: not valid UTF-8"), utf.getMessage());
    }

    @Test
    void mobyDickWhenFetched() {
        Path raw = root().resolve("datasets/text/raw/moby-dick");
        Assumptions.assumeTrue(Files.isDirectory(raw), "Moby Dick not fetched: run datasets/text/fetch.sh");
        List<TextCorpus.Document> docs = TextCorpus.read(raw);
        assertEquals(135, docs.size());
        assertTrue(docs.get(0).text().startsWith("Call me Ishmael."), docs.get(0).text().substring(0, 40));
    }
}

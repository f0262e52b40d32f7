package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SklearnCsvTest {

    static Path datasets() {
        return Path.of(System.getProperty("distill4j.root", "../..")).resolve("datasets/sklearn");
    }

    @Test
    void digitsHasTheShippedShapeAndAKnownRow() {
        TabularData d = SklearnCsv.load("digits", datasets());
        assertEquals(1797, d.size());
        assertEquals(64, d.width());
        assertEquals(10, d.numClasses());
        // First line of digits.csv: 0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,... label 0
        assertArrayEquals(new float[] {0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0}, java.util.Arrays.copyOf(d.features()[0], 16));
        assertEquals(0, d.labels()[0]);
        assertEquals(1, d.labels()[1]);
    }

    @Test
    void headedFilesAreCheckedAgainstTheirHeader() {
        TabularData iris = SklearnCsv.load("iris", datasets());
        assertEquals(150, iris.size());
        assertEquals(4, iris.width());
        assertEquals(3, iris.numClasses());
        assertArrayEquals(new float[] {5.1f, 3.5f, 1.4f, 0.2f}, iris.features()[0]);
        TabularData bc = SklearnCsv.load("breast_cancer", datasets());
        assertEquals(569, bc.size());
        assertEquals(30, bc.width());
        TabularData wine = SklearnCsv.load("wine", datasets());
        assertEquals(178, wine.size());
        assertEquals(13, wine.width());
        TabularData diabetes = SklearnCsv.load("diabetes", datasets());
        assertEquals(442, diabetes.size());
        assertEquals(10, diabetes.width());
        assertEquals(151.0, diabetes.targets()[0]);
    }

    @Test
    void malformedFieldIsNamedWithFileLineAndValue(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("bad.csv");
        Files.writeString(f, "1,2,0\n3,x,1\n");
        BadInputException e = assertThrows(BadInputException.class, () -> SklearnCsv.readLabelled(f, "bad"));
        assertTrue(e.getMessage().contains("bad.csv: line 2: field feature 1: not a finite number: 'x'"), e.getMessage());
    }

    @Test
    void missingFileAndRaggedRowsAreReported(@TempDir Path dir) throws IOException {
        BadInputException missing = assertThrows(BadInputException.class,
                () -> SklearnCsv.readLabelled(dir.resolve("none.csv"), "none"));
        assertTrue(missing.getMessage().contains("none.csv: dataset file not found"), missing.getMessage());
        Path f = dir.resolve("ragged.csv");
        Files.writeString(f, "1,2,0\n3,1\n");
        BadInputException ragged = assertThrows(BadInputException.class, () -> SklearnCsv.readLabelled(f, "r"));
        assertTrue(ragged.getMessage().contains("line 2: expected 3 fields"), ragged.getMessage());
        Path h = dir.resolve("header.csv");
        Files.writeString(h, "3,2,a,b\n1,2,0\n3,1,1\n");
        BadInputException short_ = assertThrows(BadInputException.class, () -> SklearnCsv.readLabelled(h, "h"));
        assertTrue(short_.getMessage().contains("header promises 3 rows, file has 2"), short_.getMessage());
    }

    @Test
    void splitIsReproducibleAndDisjoint() {
        TabularData d = SklearnCsv.load("iris", datasets());
        TabularData.Split a = d.split(0.2, 7);
        TabularData.Split b = d.split(0.2, 7);
        assertEquals(30, a.test().size());
        assertEquals(120, a.train().size());
        assertArrayEquals(a.test().labels(), b.test().labels());
        assertArrayEquals(a.test().features()[3], b.test().features()[3]);
    }
}

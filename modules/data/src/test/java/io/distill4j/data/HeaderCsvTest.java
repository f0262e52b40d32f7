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

class HeaderCsvTest {

    @Test
    void bostonHas506RowsOf13FeaturesAndAKnownFirstRow() {
        Path f = Path.of(System.getProperty("distill4j.root", "../..")).resolve("datasets/boston/boston.csv");
        TabularData b = HeaderCsv.readRegression(f, "boston", "medv");
        assertEquals(506, b.size());
        assertEquals(13, b.width());
        // 0.00632,18.00,2.310,0,0.5380,6.5750,65.20,4.0900,1,296.0,15.30,396.90,4.98,24.00
        assertArrayEquals(new float[] {0.00632f, 18f, 2.31f, 0f, 0.538f, 6.575f, 65.2f, 4.09f, 1f, 296f, 15.3f, 396.9f, 4.98f},
                b.features()[0]);
        assertEquals(24.0, b.targets()[0]);
    }

    @Test
    void unknownTargetAndBadValuesAreNamed(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.csv");
        Files.writeString(f, "a,b,y\n1,2,3\n4,NaN,6\n");
        BadInputException col = assertThrows(BadInputException.class, () -> HeaderCsv.readRegression(f, "t", "z"));
        assertTrue(col.getMessage().contains("no column named 'z'"), col.getMessage());
        BadInputException nan = assertThrows(BadInputException.class, () -> HeaderCsv.readRegression(f, "t", "y"));
        assertTrue(nan.getMessage().contains("t.csv: line 3: column b: not a finite number: 'NaN'"), nan.getMessage());
    }
}

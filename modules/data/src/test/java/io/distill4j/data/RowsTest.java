package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RowsTest {

    @Test
    void aRangeOfRowsFillsTheFrontOfAReusedBuffer() {
        float[][] rows = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
        float[] buf = {-1, -1, -1, -1, -1, -1};
        assertSame(buf, Rows.flatten(rows, 1, 3, buf));
        assertArrayEquals(new float[] {3, 4, 5, 6, -1, -1}, buf);
        float[][] ragged = {{1, 2}, {3}};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Rows.flatten(ragged, 0, 2, buf));
        assertEquals("row 1 has width 1, row 0 has 2", e.getMessage());
    }

    @Test
    void argmaxTakesTheFirstOfTiesAndOneHotChecksItsLabels() {
        assertEquals(1, Rows.argmax(new double[] {0.1, 0.4, 0.4, 0.1}));
        assertEquals(2, Rows.argmax(new float[] {0f, -1f, 3f}));
        assertArrayEquals(new float[] {0, 0, 1}, Rows.oneHot(new int[] {2}, 3)[0]);
        assertThrows(IllegalArgumentException.class, () -> Rows.oneHot(new int[] {3}, 3));
    }

    @Test
    void deleteTreeRemovesAFolderAndIsANoOpWhenItIsGone(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("a");
        Files.createDirectories(root.resolve("b/c"));
        Files.writeString(root.resolve("b/c/f.txt"), "x");
        Files.writeString(root.resolve("g.txt"), "y");
        AtomicFiles.deleteTree(root);
        assertTrue(Files.notExists(root));
        AtomicFiles.deleteTree(root);
        assertTrue(Files.exists(dir), "only the named folder goes");
    }
}

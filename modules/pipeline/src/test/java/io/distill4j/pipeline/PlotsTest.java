package io.distill4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class PlotsTest {

    @Test
    void anIntervalChartDrawsEachCategoryInItsPaletteColour() throws Exception {
        // written under target/ so that a person can look at it after the build
        Path file = Path.of("target/plots-test/intervals.png");
        Files.createDirectories(file.getParent());
        Plots.save(Plots.intervals("Inter-student variance by target", "target", "variance",
                List.of("single", "mean", "inverse-variance"), new double[] {3.4e-4, 2.6e-4, 3.3e-4},
                new double[] {3.2e-4, 2.3e-4, 3.1e-4}, new double[] {3.8e-4, 2.8e-4, 3.6e-4}), file);
        BufferedImage image = ImageIO.read(file.toFile());
        assertEquals(640, image.getWidth());
        assertEquals(420, image.getHeight());
        for (int i = 0; i < 3; i++) {
            Color c = Plots.PALETTE.get(i);
            assertTrue(count(image, c.getRGB()) > 50, "category " + i + " is drawn in " + Integer.toHexString(c.getRGB()));
        }
        assertEquals(0, count(image, Plots.PALETTE.get(3).getRGB()), "a fourth colour only for a fourth category");
        assertTrue(Files.list(file.getParent()).noneMatch(p -> p.getFileName().toString().contains("tmp")));
    }

    @Test
    void mismatchedIntervalsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Plots.intervals("t", "x", "y", List.of("a", "b"),
                new double[] {1, 2}, new double[] {0}, new double[] {3, 4}));
    }

    private static int count(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == (rgb & 0xFFFFFF)) {
                    n++;
                }
            }
        }
        return n;
    }
}

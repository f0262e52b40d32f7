package io.distill4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The closed-form linear student: its preset, its least squares (against hand-solved fits) and its block. */
class OlsPresetTest {

    @Test
    void bindsFromYamlWithAnInterceptByDefaultAndRefusesUnknownKeys() {
        assertEquals(new OlsPreset(0, 0, true), StudentPresets.read(ConfigFile.parse(Path.of("x.yaml"),
                "model_type: ols"), ""));
        assertEquals(new OlsPreset(3, 1, false), StudentPresets.read(ConfigFile.parse(Path.of("x.yaml"),
                "model_type: ols\ninputs: 3\noutputs: 1\nintercept: false"), ""));
        BadInputException e = assertThrows(BadInputException.class, () -> StudentPresets.read(ConfigFile.parse(
                Path.of("x.yaml"), "model_type: ols\nhidden: [3]"), ""));
        assertTrue(e.getMessage().startsWith("x.yaml:2:1: field hidden: unknown key 'hidden'"), e.getMessage());
        assertTrue(StudentPresets.names().contains("ols"));
    }

    @Test
    void leastSquaresMatchesAHandSolvedLine() {
        // x = 0, 1, 2 with an intercept: X'X = [[3, 3], [3, 5]], its inverse [[5, -3], [-3, 3]] / 6;
        // leverage h(x) = (5 - 6x + 3x^2) / 6 = 5/6, 1/3, 5/6; y = 1, 2, 4 gives beta = (5/6, 3/2)
        LeastSquares ls = LeastSquares.of(new float[][] {{0}, {1}, {2}}, true);
        assertArrayEquals(new double[] {5.0 / 6, 2.0 / 6, 5.0 / 6}, ls.leverage(), 1e-15);
        double[][] beta = ls.coefficients(new double[][] {{1}, {2}, {4}});
        assertEquals(5.0 / 6, beta[0][0], 1e-14);
        assertEquals(1.5, beta[1][0], 1e-14);
        double[][] fit = ls.fitted(new double[][] {{1}, {2}, {4}});
        assertEquals(5.0 / 6, fit[0][0], 1e-14);
        assertEquals(5.0 / 6 + 3, fit[2][0], 1e-14);
        // without an intercept: beta = sum(x y) / sum(x^2) = (0 + 2 + 8) / 5 = 2, leverage x^2 / 5
        LeastSquares origin = LeastSquares.of(new float[][] {{0}, {1}, {2}}, false);
        assertEquals(2, origin.coefficients(new double[][] {{1}, {2}, {4}})[0][0], 1e-14);
        assertArrayEquals(new double[] {0, 0.2, 0.8}, origin.leverage(), 1e-15);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LeastSquares.of(new float[][] {{1}, {1}, {1}}, true));
        assertTrue(e.getMessage().startsWith("least squares: X'X is singular"), e.getMessage());
    }

    @Test
    void theFittedCoefficientsGoIntoALinearBlock() {
        OlsPreset p = new OlsPreset(0, 0, true).complete(2, 2);
        assertEquals(new OlsPreset(2, 2, true), p);
        try (Model m = Model.newInstance("ols")) {
            m.setBlock(p.build(2, 2));
            m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, 2));
            // intercepts (1, -1); output 0 = 1 + 2 x0 + 3 x1, output 1 = -1 + 0.5 x0 - x1
            p.setCoefficients(m.getBlock(), new double[][] {{1, -1}, {2, 0.5}, {3, -1}});
            float[][] out = Inference.outputs(m, new float[][] {{1, 1}, {2, -1}}, false);
            assertArrayEquals(new float[] {6, -1.5f}, out[0], 1e-6f);
            assertArrayEquals(new float[] {2, 1}, out[1], 1e-6f);
        }
        assertThrows(IllegalArgumentException.class, () -> new OlsPreset(3, 0, null).complete(2, 1));
    }
}

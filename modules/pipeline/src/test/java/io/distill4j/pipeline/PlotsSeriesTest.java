package io.distill4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

/** The helpers the experiments' line charts use: series colours and markers, interval lines, dodging. */
class PlotsSeriesTest {

    @Test
    void eachSeriesTakesTheNextPaletteColourAndItsIntervalsAreUnlabelledLinesInThatColour() {
        XYChart c = Plots.lines("t", "x", "y", false, false);
        XYSeries a = Plots.addSeries(c, "first", new double[] {1, 2}, new double[] {0.5, 0.6}, new double[] {0.4, 0.5},
                new double[] {0.7, 0.65});
        XYSeries b = Plots.addSeries(c, "second", new double[] {1, 2}, new double[] {0.3, 0.2}, null, null);
        assertEquals(Plots.PALETTE.get(0), a.getLineColor());
        assertEquals(Plots.PALETTE.get(1), b.getLineColor(), "interval lines do not use up palette colours");
        assertEquals(Plots.MARKERS.get(1), b.getMarker());
        XYSeries bar = c.getSeriesMap().get("first interval 1");
        assertFalse(bar.isShowInLegend());
        assertEquals(Plots.PALETTE.get(0), bar.getLineColor());
        assertArrayEquals(new double[] {2, 2}, bar.getXData());
        assertArrayEquals(new double[] {0.5, 0.65}, bar.getYData());
        assertEquals(4, c.getSeriesMap().size(), "two series and the two intervals of the first");
    }

    @Test
    void onALogAxisAnIntervalReachingZeroStopsAtOnePercentOfItsEstimate() {
        XYChart c = Plots.lines("t", "x", "y", true, true);
        Plots.addSeries(c, "s", new double[] {1, 10}, new double[] {2e-3, 1e-4}, new double[] {1e-3, -1e-4},
                new double[] {3e-3, 3e-4});
        assertArrayEquals(new double[] {1e-3, 3e-3}, c.getSeriesMap().get("s interval 0").getYData());
        assertArrayEquals(new double[] {1e-6, 3e-4}, c.getSeriesMap().get("s interval 1").getYData(), 1e-18);
    }

    @Test
    void seriesBeyondThePaletteAreDashedAndLengthsAreChecked() {
        XYChart c = Plots.lines("t", "x", "y", false, false);
        for (int i = 0; i <= Plots.PALETTE.size(); i++) {
            Plots.addSeries(c, "s" + i, new double[] {1}, new double[] {i}, null, null);
        }
        XYSeries eighth = c.getSeriesMap().get("s" + Plots.PALETTE.size());
        assertEquals(Plots.PALETTE.get(0), eighth.getLineColor());
        assertTrue(eighth.getLineStyle().getDashArray() != null, "the eighth series is dashed");
        assertThrows(IllegalArgumentException.class,
                () -> Plots.addSeries(c, "bad", new double[] {1, 2}, new double[] {1}, null, null));
    }

    @Test
    void dodgingCentresTheSeriesOnTheirXValues() {
        // 3 series, step 0.1: offsets -0.1, 0, +0.1 (added on a linear axis, factors exp(offset) on a log one)
        assertArrayEquals(new double[] {0.9, 1.9}, Plots.dodge(new double[] {1, 2}, 0, 3, 0.1, false), 1e-12);
        assertArrayEquals(new double[] {1, 2}, Plots.dodge(new double[] {1, 2}, 1, 3, 0.1, false), 1e-12);
        assertArrayEquals(new double[] {10 * Math.exp(0.1)}, Plots.dodge(new double[] {10}, 2, 3, 0.1, true), 1e-12);
    }
}

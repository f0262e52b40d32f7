package io.distill4j.trainer.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Schedules against values computed by hand. */
class LrScheduleTest {
    @Test
    void warmupThenDecay() {
        LrSchedule lin = new LrSchedule(LrSchedule.Kind.LINEAR, 1.0, 4, 12);
        // warm-up 1/4, 2/4, 3/4, 4/4; then u = (s - 4) / 8
        assertEquals(0.25, lin.at(0), 1e-12);
        assertEquals(0.75, lin.at(2), 1e-12);
        assertEquals(1.0, lin.at(4), 1e-12);
        assertEquals(0.5, lin.at(8), 1e-12);
        assertEquals(0.125, lin.at(11), 1e-12);
        LrSchedule cos = new LrSchedule(LrSchedule.Kind.COSINE, 2.0, 0, 10);
        assertEquals(2.0, cos.at(0), 1e-12);
        assertEquals(1.0, cos.at(5), 1e-12); // 0.5 * (1 + cos(pi/2)) * 2
        assertEquals(2.0 * 0.5 * (1 + Math.cos(Math.PI * 0.8)), cos.at(8), 1e-12);
        LrSchedule c = new LrSchedule(LrSchedule.Kind.CONSTANT, 0.1, 2, 5);
        assertEquals(0.05, c.at(0), 1e-12);
        assertEquals(0.1, c.at(4), 1e-12);
        // DJL counts updates from 1
        assertEquals(0.25f, lin.tracker().getNewValue(1), 1e-7f);
    }

    @Test
    void badSettingsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LrSchedule(LrSchedule.Kind.COSINE, 1e-3, 20, 10));
        assertEquals("warm-up steps must be in [0, 10], got 20", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(LrSchedule.Kind.COSINE, -1, 0, 10));
    }
}

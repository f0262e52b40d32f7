package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    // base 0.1, 10 warm-up updates, 110 in total: 100 updates after warm-up.
    static final double R = 0.1;

    @Test
    void warmupIsLinearFromZero() {
        for (LrSchedule.Kind k : LrSchedule.Kind.values()) {
            LrSchedule s = new LrSchedule(k, R, 10, 110);
            assertEquals(0.0, s.rate(0), 0);
            assertEquals(0.01, s.rate(1), 1e-15);
            assertEquals(0.05, s.rate(5), 1e-15);
            assertEquals(0.09, s.rate(9), 1e-15);
            assertEquals(0.1, s.rate(10), 1e-15);
        }
    }

    @Test
    void constantLinearAndCosineMatchTheirClosedForms() {
        LrSchedule c = new LrSchedule(LrSchedule.Kind.CONSTANT, R, 10, 110);
        LrSchedule l = new LrSchedule(LrSchedule.Kind.LINEAR, R, 10, 110);
        LrSchedule cos = new LrSchedule(LrSchedule.Kind.COSINE, R, 10, 110);
        assertEquals(0.1, c.rate(35), 0);
        assertEquals(0.1, c.rate(10_000), 0);
        // linear: 0.1 * (110 - t) / 100
        assertEquals(0.075, l.rate(35), 1e-15);
        assertEquals(0.05, l.rate(60), 1e-15);
        assertEquals(0.001, l.rate(109), 1e-15);
        assertEquals(0.0, l.rate(110), 0);
        assertEquals(0.0, l.rate(500), 0);
        // cosine: 0.1 * (1 + cos(pi * (t - 10) / 100)) / 2; t = 35 -> (1 + cos(pi/4)) / 20 = 0.0853553390593...
        assertEquals(0.08535533905932738, cos.rate(35), 1e-15);
        assertEquals(0.05, cos.rate(60), 1e-15);
        assertEquals(0.014644660940672627, cos.rate(85), 1e-15);
        assertEquals(0.0, cos.rate(110), 1e-17);
        assertEquals(0.0, cos.rate(300), 1e-17);
    }

    @Test
    void noWarmupStartsAtTheBaseRate() {
        assertEquals(0.1, new LrSchedule(LrSchedule.Kind.LINEAR, R, 0, 4).rate(0), 0);
        assertEquals(0.025, new LrSchedule(LrSchedule.Kind.LINEAR, R, 0, 4).rate(3), 1e-15);
    }

    @Test
    void invalidSchedulesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LrSchedule(LrSchedule.Kind.COSINE, R, 10, 5));
        assertTrue(e.getMessage().contains("totalSteps (5) must be at least warmupSteps (10)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.Kind.parse("step"));
        assertTrue(e.getMessage().contains("unknown schedule 'step'"), e.getMessage());
        assertEquals(LrSchedule.Kind.COSINE, LrSchedule.Kind.parse("Cosine"));
    }
}

package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LogprobQuantizerTest {

    @Test
    void errorStaysWithinTheStatedBoundAndTheTopIsExact() {
        Random r = new Random(8);
        double worst = 0;
        for (int n = 0; n < 20000; n++) {
            float top = (float) (-5 * r.nextDouble() * r.nextDouble());
            float spread = (float) (30 * r.nextDouble());
            float lp = (float) (top - spread * r.nextDouble());
            int q = LogprobQuantizer.quantize(lp, top, spread);
            float back = LogprobQuantizer.dequantize(q, top, spread);
            double err = Math.abs(back - lp);
            // Bound from the docs, computed here without the helper: sqrt(D d)/255 + D/260100.
            double d = top - (double) lp;
            double bound = Math.sqrt(spread * d) / 255 + spread / 260100.0 + 1e-5;
            assertTrue(err <= bound, "lp " + lp + " top " + top + " D " + spread + ": error " + err + " > " + bound);
            worst = Math.max(worst, err / bound);
        }
        assertTrue(worst > 0.3, "the bound is tight enough to mean something: worst ratio " + worst);
        assertEquals(-1.25f, LogprobQuantizer.dequantize(LogprobQuantizer.quantize(-1.25f, -1.25f, 4f), -1.25f, 4f));
        assertEquals(-5.25f, LogprobQuantizer.dequantize(LogprobQuantizer.quantize(-5.25f, -1.25f, 4f), -1.25f, 4f));
        // One nat below the top with D = 10: about 0.0124 nats at most.
        assertEquals(0.0124, Math.sqrt(10 * 1.0) / 255 + 10 / 260100.0, 1e-4);
    }
}

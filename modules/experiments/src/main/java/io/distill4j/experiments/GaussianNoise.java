package io.distill4j.experiments;

import java.util.SplittableRandom;

/** Standard normal draws for the simulated teacher noise and image shifts of the experiments. */
final class GaussianNoise {

    private GaussianNoise() {
    }

    /**
     * A standard normal draw by Marsaglia's polar method (two uniforms per try; the second normal of the
     * pair is discarded, so a stream depends only on its seed and the number of draws).
     *
     * @param rnd the source of uniform doubles
     * @return an N(0, 1) value
     */
    static double draw(SplittableRandom rnd) {
        double u;
        double v;
        double s;
        do {
            u = 2 * rnd.nextDouble() - 1;
            v = 2 * rnd.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.sqrt(-2 * Math.log(s) / s);
    }
}

package io.distill4j.data;

/**
 * Checks of settings values, each failing with an {@link IllegalArgumentException} that names the setting and the
 * value ({@code "epochs must be positive, got 0"}); config bindings turn it into their one-line message. The one
 * place for these checks above {@code loss} (which sits beside {@code data} and keeps its own for its arguments).
 */
public final class Require {

    private Require() {
    }

    /**
     * Requires a positive count.
     *
     * @param name the setting's name, for the message
     * @param v the value
     * @return the value
     * @throws IllegalArgumentException if it is 0 or negative
     */
    public static int positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
        return v;
    }

    /**
     * Requires a positive, finite number.
     *
     * @param name the setting's name, for the message
     * @param v the value
     * @return the value
     * @throws IllegalArgumentException if it is 0, negative, infinite or NaN
     */
    public static double positive(String name, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(name + " must be positive and finite, got " + v);
        }
        return v;
    }
}

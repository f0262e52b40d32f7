package io.distill4j.data;

import java.util.Locale;

/**
 * Number formatting for tables, reports and messages, in one place and always in {@link Locale#ROOT} (a decimal
 * point on every machine).
 */
public final class Numbers {

    private Numbers() {
    }

    /**
     * A setting as it was written: whole numbers without a fraction ({@code 4}, not {@code 4.0}), others in Java's
     * shortest form ({@code 0.7}).
     *
     * @param v the value
     * @return e.g. {@code 4}, {@code 0.7}
     */
    public static String brief(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Double.toString(v);
    }

    /**
     * A float setting as it was written ({@code 0.3}, not its double expansion {@code 0.30000001192092896}).
     *
     * @param v the value
     * @return e.g. {@code 0.3}, {@code 0.001}
     */
    public static String brief(float v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Float.toString(v);
    }

    /**
     * Java's shortest form of a double, whole numbers included ({@code 1.0}); used where the text is also a key.
     *
     * @param v the value
     * @return e.g. {@code 1.0}, {@code 0.01}
     */
    public static String plain(double v) {
        return Double.toString(v);
    }

    /**
     * A fixed number of decimals.
     *
     * @param v the value
     * @param decimals the decimals, at least 0
     * @return e.g. {@code 0.8731} for 4 decimals
     */
    public static String fixed(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /**
     * Scientific notation with three decimals, for variances and other small quantities.
     *
     * @param v the value
     * @return e.g. {@code 1.234e-04}
     */
    public static String sci(double v) {
        return String.format(Locale.ROOT, "%.3e", v);
    }
}

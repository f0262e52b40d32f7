package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** Argument checks shared by target builders and losses; each failure names the argument and value. */
final class Checks {
    private Checks() {
    }

    static void rank(String name, NDArray a, int rank) {
        if (a.getShape().dimension() != rank) {
            throw new IllegalArgumentException(name + " must have rank " + rank + ", got shape " + a.getShape());
        }
    }

    static void sameShape(String nameA, NDArray a, String nameB, NDArray b) {
        if (!a.getShape().equals(b.getShape())) {
            throw new IllegalArgumentException(nameA + " has shape " + a.getShape() + " but " + nameB + " has shape "
                    + b.getShape());
        }
    }

    static void shape(String name, NDArray a, Shape expected) {
        if (!a.getShape().equals(expected)) {
            throw new IllegalArgumentException(name + " must have shape " + expected + ", got " + a.getShape());
        }
    }

    static void positive(String name, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(name + " must be positive and finite, got " + v);
        }
    }

    static void unitInterval(String name, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1], got " + v);
        }
    }

    static void nonNegative(String name, NDArray a) {
        float min = a.min().getFloat();
        if (!(min >= 0)) {
            throw new IllegalArgumentException(name + " must be non-negative and not NaN, its minimum is " + min);
        }
    }
}

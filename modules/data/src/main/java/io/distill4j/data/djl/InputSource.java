package io.distill4j.data.djl;

import java.nio.FloatBuffer;

/** The student's input features of each cached item. */
public interface InputSource {

    /** @return the number of features per item */
    int width();

    /**
     * Writes one item's features.
     *
     * @param item the item index
     * @param dst receives {@link #width()} values at its position
     */
    void put(long item, FloatBuffer dst);

    /**
     * Serves the rows of an in-memory feature matrix; row i is item i.
     *
     * @param features rows of equal width
     * @return the source
     */
    static InputSource of(float[][] features) {
        if (features.length == 0) {
            throw new IllegalArgumentException("features is empty");
        }
        int w = features[0].length;
        return new InputSource() {
            @Override
            public int width() {
                return w;
            }

            @Override
            public void put(long item, FloatBuffer dst) {
                if (item >= features.length) {
                    throw new IndexOutOfBoundsException("item " + item + " has no features (only " + features.length
                            + " rows)");
                }
                dst.put(features[(int) item]);
            }
        };
    }
}

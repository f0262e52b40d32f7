package io.distill4j.data.datasets;

import io.distill4j.data.BadInputException;
import io.distill4j.data.TabularData;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads MNIST and Fashion-MNIST from their IDX files: {@code train-images-idx3-ubyte},
 * {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each
 * possibly gzipped ({@code .gz}). Pixels become features in [0, 1] (value / 255), row-major (28 x 28 = 784
 * per image); labels are the 10 classes.
 */
public final class Mnist {
    /** Which part of the data set. */
    public enum Split {
        /** The 60,000 training images ({@code train-*}). */
        TRAIN("train"),
        /** The 10,000 test images ({@code t10k-*}). */
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private Mnist() {
    }

    /**
     * Whether a folder holds both files of a split (plain or gzipped).
     *
     * @param dir the folder, e.g. {@code datasets/mnist/raw}
     * @param split the split
     * @return whether both files are there
     */
    public static boolean present(Path dir, Split split) {
        return find(dir, split.prefix + "-images-idx3-ubyte") != null && find(dir, split.prefix + "-labels-idx1-ubyte") != null;
    }

    /**
     * The names of a split's two files, for messages.
     *
     * @param split the split
     * @return e.g. {@code train-images-idx3-ubyte and train-labels-idx1-ubyte}
     */
    public static String fileNames(Split split) {
        return split.prefix + "-images-idx3-ubyte and " + split.prefix + "-labels-idx1-ubyte";
    }

    private static Path find(Path dir, String base) {
        for (String name : new String[] {base, base + ".gz"}) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        return null;
    }

    /**
     * Loads one split.
     *
     * @param dir the folder holding the IDX files
     * @param split train or test
     * @param name the name given to the table (e.g. {@code mnist}, {@code fashion-mnist})
     * @return features (N, rows*cols) in [0, 1] and labels in [0, 10)
     * @throws BadInputException naming the file of any fault (missing, malformed, label out of range,
     *     counts that differ between images and labels)
     */
    public static TabularData load(Path dir, Split split, String name) {
        String ib = split.prefix + "-images-idx3-ubyte";
        String lb = split.prefix + "-labels-idx1-ubyte";
        Path imgFile = find(dir, ib);
        Path lblFile = find(dir, lb);
        if (imgFile == null || lblFile == null) {
            throw new BadInputException(dir.resolve(imgFile == null ? ib : lb) + ": dataset file not found (plain or .gz);"
                    + " run the dataset's fetch.sh");
        }
        Idx img = Idx.read(imgFile);
        Idx lbl = Idx.read(lblFile);
        if (img.dims().length != 3) {
            throw new BadInputException(imgFile + ": expected 3 dimensions (images, rows, cols), got " + img.dims().length);
        }
        if (lbl.dims().length != 1) {
            throw new BadInputException(lblFile + ": expected 1 dimension (labels), got " + lbl.dims().length);
        }
        int n = img.dims()[0];
        if (lbl.dims()[0] != n) {
            throw new BadInputException(lblFile + ": holds " + lbl.dims()[0] + " labels, " + imgFile + " holds " + n
                    + " images");
        }
        int px = img.dims()[1] * img.dims()[2];
        float[][] x = new float[n][px];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < px; p++) {
                x[i][p] = img.get(i * px + p) / 255f;
            }
            y[i] = lbl.get(i);
            if (y[i] > 9) {
                throw new BadInputException(lblFile + ": label " + i + ": value " + y[i] + " outside [0, 9]");
            }
        }
        return new TabularData(name, x, y, null, 10);
    }
}

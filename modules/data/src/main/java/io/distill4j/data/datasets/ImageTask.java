package io.distill4j.data.datasets;

import io.distill4j.data.BadInputException;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.TabularData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * An image classification task with pixels in [0, 1] for the distillation experiments: Fashion-MNIST from
 * {@code datasets/fashion-mnist/raw/} (fetched by {@code datasets/fashion-mnist/fetch.sh}), or, when those
 * files are missing, scikit-learn's 8x8 digits shipped in {@code datasets/sklearn/} (pixel values / 16,
 * split at random), so that the quick variants and their tests run without the download.
 *
 * @param name {@code fashion-mnist} or {@code digits}
 * @param note a sentence for the report saying which data was used and why
 * @param train the training images
 * @param test the test images
 */
public record ImageTask(String name, String note, TabularData train, TabularData test) {

    /**
     * Loads a task.
     *
     * @param home the distill4j home that {@code datasets/} lies in
     * @param dataset {@code fashion-mnist} (falls back to digits when missing) or {@code digits}
     * @param maxTrain the most training images (a seeded random subset), 0 for all
     * @param maxTest the most test images (a seeded random subset), 0 for all
     * @param seed seeds the subsets and the digits split
     * @param owner the experiment's name, for messages
     * @return the task
     * @throws BadInputException for an unknown dataset name or unreadable files
     */
    public static ImageTask load(Path home, String dataset, int maxTrain, int maxTest, long seed, String owner) {
        if (maxTrain < 0 || maxTest < 0) {
            throw new BadInputException("experiment " + owner + ": maxTrain and maxTest must be >= 0 (0 = all), got "
                    + maxTrain + " and " + maxTest);
        }
        TabularData train;
        TabularData test;
        String name;
        String note;
        switch (dataset) {
            case "fashion-mnist" -> {
                Path raw = home.resolve("datasets/fashion-mnist/raw");
                if (Mnist.present(raw, Mnist.Split.TRAIN) && Mnist.present(raw, Mnist.Split.TEST)) {
                    train = Mnist.load(raw, Mnist.Split.TRAIN, "fashion-mnist");
                    test = Mnist.load(raw, Mnist.Split.TEST, "fashion-mnist");
                    name = "fashion-mnist";
                    note = "Data: Fashion-MNIST (28x28 grey images, 10 classes) from datasets/fashion-mnist/raw.";
                } else {
                    TabularData.Split s = digits(home, seed);
                    train = s.train();
                    test = s.test();
                    name = "digits";
                    note = "Data: **Fashion-MNIST is not present** in datasets/fashion-mnist/raw (run "
                            + "datasets/fashion-mnist/fetch.sh), so this run falls back to scikit-learn's digits (8x8 grey "
                            + "images, 10 classes, pixel values / 16, a random 25% test split) shipped in datasets/sklearn.";
                }
            }
            case "digits" -> {
                TabularData.Split s = digits(home, seed);
                train = s.train();
                test = s.test();
                name = "digits";
                note = "Data: scikit-learn's digits (8x8 grey images, 10 classes, pixel values / 16, a random 25% test split).";
            }
            default -> throw new BadInputException("experiment " + owner + ": dataset: unknown '" + dataset
                    + "' (fashion-mnist, digits)");
        }
        train = limit(train, maxTrain, seed * 31 + 1);
        test = limit(test, maxTest, seed * 31 + 2);
        return new ImageTask(name, note + " " + train.size() + " training and " + test.size() + " test images.", train, test);
    }

    private static TabularData.Split digits(Path home, long seed) {
        return SklearnCsv.load("digits", home.resolve("datasets/sklearn")).scale(1f / 16).split(0.25, seed);
    }

    private static TabularData limit(TabularData t, int max, long seed) {
        if (max == 0 || max >= t.size()) {
            return t;
        }
        return t.select(Arrays.copyOf(TabularData.permutation(t.size(), seed), max));
    }

    /**
     * Splits rows at random into a kept part and a held-out part.
     *
     * @param t the table
     * @param heldOut rows held out, in [1, size - 1]
     * @param seed the seed
     * @return {kept, held out}
     */
    public static TabularData[] holdOut(TabularData t, int heldOut, long seed) {
        if (heldOut < 1 || heldOut >= t.size()) {
            throw new IllegalArgumentException("held-out rows must be in [1, " + (t.size() - 1) + "], got " + heldOut);
        }
        int[] p = TabularData.permutation(t.size(), seed);
        return new TabularData[] {t.select(Arrays.copyOfRange(p, heldOut, p.length)), t.select(Arrays.copyOf(p, heldOut))};
    }

    /**
     * A few-shot subset: from every class, a seeded random {@code fraction} of its rows (at least one), in
     * random order.
     *
     * @param t the table
     * @param fraction the share of each class kept, in (0, 1]
     * @param seed the seed
     * @return the subset
     */
    public static TabularData perClass(TabularData t, double fraction, long seed) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fraction must be in (0, 1], got " + fraction);
        }
        if (fraction == 1) {
            return t;
        }
        List<Integer> keep = new ArrayList<>();
        int[] order = TabularData.permutation(t.size(), seed);
        for (int c = 0; c < t.numClasses(); c++) {
            List<Integer> rows = new ArrayList<>();
            for (int i : order) {
                if (t.labels()[i] == c) {
                    rows.add(i);
                }
            }
            int n = Math.max(1, (int) Math.round(fraction * rows.size()));
            keep.addAll(rows.subList(0, Math.min(n, rows.size())));
        }
        int[] idx = keep.stream().mapToInt(Integer::intValue).toArray();
        int[] shuffle = TabularData.permutation(idx.length, seed + 1);
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = idx[shuffle[i]];
        }
        return t.select(out);
    }

    /**
     * Symmetric label noise: each label is replaced, with probability {@code rate}, by one of the other
     * classes drawn uniformly.
     *
     * @param labels the clean labels
     * @param classes the number of classes, at least 2
     * @param rate the flip probability, in [0, 1)
     * @param seed the seed
     * @return the noisy labels (a new array)
     */
    public static int[] flipLabels(int[] labels, int classes, double rate, long seed) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("label noise must be in [0, 1), got " + rate);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] out = labels.clone();
        for (int i = 0; i < out.length; i++) {
            if (rnd.nextDouble() < rate) {
                int other = rnd.nextInt(classes - 1);
                out[i] = other >= labels[i] ? other + 1 : other;
            }
        }
        return out;
    }
}

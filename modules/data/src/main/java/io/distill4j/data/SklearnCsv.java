package io.distill4j.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the CSV files that scikit-learn bundles (shipped under {@code datasets/sklearn/}).
 *
 * <p>Two layouts occur. {@code digits.csv} has no header: each line is 64 pixel values followed by the
 * label. {@code iris.csv}, {@code wine_data.csv} and {@code breast_cancer.csv} start with a header
 * {@code n,d,className0,className1,...} followed by n lines of d features and the label. A header is
 * recognised by a non-numeric field on the first line; its counts are then checked. The diabetes
 * regression data is two whitespace-separated files, read by {@link #diabetes(Path)}.
 */
public final class SklearnCsv {

    private SklearnCsv() {
    }

    /**
     * Loads a bundled dataset by name from a folder holding the scikit-learn files.
     *
     * @param name one of {@code digits}, {@code iris}, {@code wine}, {@code breast_cancer}, {@code diabetes}
     * @param dir the folder (normally {@code datasets/sklearn})
     * @return the table
     * @throws BadInputException if the name is unknown or a file is missing or malformed
     */
    public static TabularData load(String name, Path dir) {
        return switch (name) {
            case "digits" -> readLabelled(dir.resolve("digits.csv"), "digits");
            case "iris" -> readLabelled(dir.resolve("iris.csv"), "iris");
            case "wine" -> readLabelled(dir.resolve("wine_data.csv"), "wine");
            case "breast_cancer" -> readLabelled(dir.resolve("breast_cancer.csv"), "breast_cancer");
            case "diabetes" -> diabetes(dir);
            default -> throw new BadInputException("unknown dataset '" + name
                    + "': expected one of digits, iris, wine, breast_cancer, diabetes");
        };
    }

    /**
     * Reads a classification CSV whose last column is an integer label.
     *
     * @param file the CSV file
     * @param name the name given to the table
     * @return the table; the number of classes is the largest label plus one
     * @throws BadInputException naming the file, line and field of any fault
     */
    public static TabularData readLabelled(Path file, String name) {
        List<String> lines = readLines(file);
        int first = 0;
        int expectRows = -1;
        int expectCols = -1;
        if (!lines.isEmpty() && hasNonNumericField(lines.get(0))) {
            String[] header = lines.get(0).split(",");
            if (header.length < 2) {
                throw new BadInputException(file + ": line 1: header must start with 'rows,columns', got '"
                        + lines.get(0) + "'");
            }
            expectRows = parseInt(file, 1, "rows", header[0]);
            expectCols = parseInt(file, 1, "columns", header[1]);
            first = 1;
        }
        List<float[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        int width = expectCols;
        for (int li = first; li < lines.size(); li++) {
            String line = lines.get(li).trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split(",");
            int lineNo = li + 1;
            if (width < 0) {
                width = f.length - 1;
            }
            if (f.length != width + 1) {
                throw new BadInputException(file + ": line " + lineNo + ": expected " + (width + 1)
                        + " fields (" + width + " features and a label), got " + f.length);
            }
            float[] x = new float[width];
            for (int j = 0; j < width; j++) {
                x[j] = parseFloat(file, lineNo, "feature " + j, f[j]);
            }
            int label = parseInt(file, lineNo, "label", f[width]);
            if (label < 0) {
                throw new BadInputException(file + ": line " + lineNo + ": field label: negative value " + label);
            }
            rows.add(x);
            labels.add(label);
        }
        if (rows.isEmpty()) {
            throw new BadInputException(file + ": no data rows");
        }
        if (expectRows >= 0 && rows.size() != expectRows) {
            throw new BadInputException(file + ": header promises " + expectRows + " rows, file has " + rows.size());
        }
        int numClasses = 0;
        int[] y = new int[labels.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels.get(i);
            numClasses = Math.max(numClasses, y[i] + 1);
        }
        return new TabularData(name, rows.toArray(new float[0][]), y, null, numClasses);
    }

    /**
     * Reads scikit-learn's diabetes regression data: {@code diabetes_data_raw.csv} (442 lines of 10
     * whitespace-separated features) and {@code diabetes_target.csv} (442 targets).
     *
     * @param dir the folder holding both files
     * @return the regression table
     */
    public static TabularData diabetes(Path dir) {
        Path xFile = dir.resolve("diabetes_data_raw.csv");
        Path yFile = dir.resolve("diabetes_target.csv");
        List<String> xl = nonEmpty(readLines(xFile));
        List<String> yl = nonEmpty(readLines(yFile));
        if (xl.size() != yl.size()) {
            throw new BadInputException(yFile + ": has " + yl.size() + " targets, " + xFile + " has "
                    + xl.size() + " rows");
        }
        float[][] x = new float[xl.size()][];
        double[] y = new double[yl.size()];
        for (int i = 0; i < x.length; i++) {
            String[] f = xl.get(i).trim().split("\\s+");
            if (f.length != 10) {
                throw new BadInputException(xFile + ": line " + (i + 1) + ": expected 10 fields, got " + f.length);
            }
            x[i] = new float[10];
            for (int j = 0; j < 10; j++) {
                x[i][j] = parseFloat(xFile, i + 1, "feature " + j, f[j]);
            }
            y[i] = parseFloat(yFile, i + 1, "target", yl.get(i).trim());
        }
        return new TabularData("diabetes", x, null, y, 0);
    }

    private static List<String> nonEmpty(List<String> lines) {
        return lines.stream().filter(l -> !l.isBlank()).toList();
    }

    private static List<String> readLines(Path file) {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return r.lines().toList();
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": dataset file not found", e);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new BadInputException(file + ": cannot read: " + Errors.reason(e), e);
        }
    }

    private static boolean hasNonNumericField(String line) {
        for (String f : line.split(",")) {
            try {
                Double.parseDouble(f.trim());
            } catch (NumberFormatException e) {
                return true;
            }
        }
        return false;
    }

    private static float parseFloat(Path file, int line, String field, String value) {
        try {
            float v = Float.parseFloat(value.trim());
            if (!Float.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new BadInputException(String.format(Locale.ROOT, "%s: line %d: field %s: not a finite number: '%s'",
                    file, line, field, value));
        }
    }

    private static int parseInt(Path file, int line, String field, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new BadInputException(String.format(Locale.ROOT, "%s: line %d: field %s: not an integer: '%s'",
                    file, line, field, value));
        }
    }
}

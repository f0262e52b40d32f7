package io.distill4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a numeric CSV with a header line of column names into a regression table, taking one named
 * column as the target and all others as features (for example {@code datasets/boston/boston.csv} with
 * target {@code medv}).
 */
public final class HeaderCsv {

    private HeaderCsv() {
    }

    /**
     * Reads the file.
     *
     * @param file the CSV file; its first line names the columns
     * @param name the name given to the table
     * @param target the name of the target column
     * @return the regression table
     * @throws BadInputException naming the file, line, column and value of any fault
     */
    public static TabularData readRegression(Path file, String name, String target) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": dataset file not found", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read: " + Errors.reason(e), e);
        }
        if (lines.isEmpty()) {
            throw new BadInputException(file + ": empty file, expected a header line");
        }
        String[] header = lines.get(0).trim().split(",");
        int t = Arrays.asList(header).indexOf(target);
        if (t < 0) {
            throw new BadInputException(file + ": line 1: no column named '" + target + "' among " + Arrays.toString(header));
        }
        List<float[]> rows = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (int li = 1; li < lines.size(); li++) {
            String line = lines.get(li).trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split(",");
            if (f.length != header.length) {
                throw new BadInputException(file + ": line " + (li + 1) + ": expected " + header.length + " fields, got " + f.length);
            }
            float[] x = new float[header.length - 1];
            for (int j = 0, o = 0; j < f.length; j++) {
                double v;
                try {
                    v = Double.parseDouble(f[j].trim());
                } catch (NumberFormatException e) {
                    v = Double.NaN;
                }
                if (!Double.isFinite(v)) {
                    throw new BadInputException(file + ": line " + (li + 1) + ": column " + header[j]
                            + ": not a finite number: '" + f[j] + "'");
                }
                if (j == t) {
                    ys.add(v);
                } else {
                    x[o++] = (float) v;
                }
            }
            rows.add(x);
        }
        if (rows.isEmpty()) {
            throw new BadInputException(file + ": no data rows");
        }
        return new TabularData(name, rows.toArray(new float[0][]), null, ys.stream().mapToDouble(Double::doubleValue).toArray(), 0);
    }
}

package io.distill4j.data.datasets;

import io.distill4j.data.BadInputException;
import io.distill4j.data.Errors;
import io.distill4j.data.TabularData;
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
 * Reads Weka ARFF files (dense {@code @data}) into a table.
 *
 * <p>Attributes of type {@code numeric}, {@code real} or {@code integer} are read as numbers; nominal
 * attributes ({@code {a, b, c}}) as the index of their value. The class is the last attribute unless
 * named: a nominal class gives a classification table (classes in declaration order), a numeric class a
 * regression table. Missing values ({@code ?}), {@code string}/{@code date} attributes and sparse rows are
 * rejected with the file, line and attribute named.
 */
public final class Arff {

    private Arff() {
    }

    private record Attribute(String name, List<String> nominal) {
        boolean numeric() {
            return nominal == null;
        }
    }

    /**
     * Reads an ARFF file whose class is its last attribute.
     *
     * @param file the file
     * @return the table, named after the {@code @relation}
     */
    public static TabularData read(Path file) {
        return read(file, null);
    }

    /**
     * Reads an ARFF file.
     *
     * @param file the file
     * @param classAttribute the class attribute's name, or null for the last attribute
     * @return the table, named after the {@code @relation}
     * @throws BadInputException naming file, line and attribute of any fault
     */
    public static TabularData read(Path file, String classAttribute) {
        List<String> lines;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            lines = r.lines().toList();
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": dataset file not found", e);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new BadInputException(file + ": cannot read: " + Errors.reason(e), e);
        }
        String relation = file.getFileName().toString();
        List<Attribute> attrs = new ArrayList<>();
        int li = 0;
        boolean data = false;
        for (; li < lines.size() && !data; li++) {
            String line = stripComment(lines.get(li)).trim();
            if (line.isEmpty()) {
                continue;
            }
            String lower = line.toLowerCase(Locale.ROOT);
            if (lower.startsWith("@relation")) {
                relation = unquote(line.substring(9).trim());
            } else if (lower.startsWith("@attribute")) {
                attrs.add(attribute(file, li + 1, line.substring(10).trim()));
            } else if (lower.startsWith("@data")) {
                data = true;
            } else {
                throw new BadInputException(file + ": line " + (li + 1) + ": unexpected header line '" + line + "'");
            }
        }
        if (!data) {
            throw new BadInputException(file + ": no @data section");
        }
        if (attrs.size() < 2) {
            throw new BadInputException(file + ": needs at least one feature and a class attribute, has " + attrs.size());
        }
        int cls = attrs.size() - 1;
        if (classAttribute != null) {
            cls = -1;
            for (int a = 0; a < attrs.size(); a++) {
                if (attrs.get(a).name().equals(classAttribute)) {
                    cls = a;
                }
            }
            if (cls < 0) {
                throw new BadInputException(file + ": no attribute named '" + classAttribute + "'");
            }
        }
        List<float[]> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (; li < lines.size(); li++) {
            String line = stripComment(lines.get(li)).trim();
            if (line.isEmpty()) {
                continue;
            }
            int lineNo = li + 1;
            if (line.startsWith("{")) {
                throw new BadInputException(file + ": line " + lineNo + ": sparse ARFF rows are not supported");
            }
            List<String> f = split(line);
            if (f.size() != attrs.size()) {
                throw new BadInputException(file + ": line " + lineNo + ": expected " + attrs.size() + " values, got "
                        + f.size());
            }
            float[] x = new float[attrs.size() - 1];
            int xi = 0;
            for (int a = 0; a < attrs.size(); a++) {
                double v = value(file, lineNo, attrs.get(a), f.get(a));
                if (a == cls) {
                    ys.add(v);
                } else {
                    x[xi++] = (float) v;
                }
            }
            xs.add(x);
        }
        if (xs.isEmpty()) {
            throw new BadInputException(file + ": no data rows");
        }
        float[][] x = xs.toArray(new float[0][]);
        Attribute c = attrs.get(cls);
        if (c.numeric()) {
            double[] t = ys.stream().mapToDouble(Double::doubleValue).toArray();
            return new TabularData(relation, x, null, t, 0);
        }
        int[] y = ys.stream().mapToInt(Double::intValue).toArray();
        return new TabularData(relation, x, y, null, c.nominal().size());
    }

    private static String stripComment(String line) {
        return line.startsWith("%") ? "" : line;
    }

    private static Attribute attribute(Path file, int lineNo, String rest) {
        List<String> parts = new ArrayList<>();
        String name;
        String type;
        if (rest.startsWith("'") || rest.startsWith("\"")) {
            int end = rest.indexOf(rest.charAt(0), 1);
            if (end < 0) {
                throw new BadInputException(file + ": line " + lineNo + ": unterminated attribute name");
            }
            name = rest.substring(1, end);
            type = rest.substring(end + 1).trim();
        } else {
            int sp = rest.indexOf(' ') < 0 ? rest.indexOf('\t') : rest.indexOf(' ');
            int tab = rest.indexOf('\t');
            if (tab >= 0 && (sp < 0 || tab < sp)) {
                sp = tab;
            }
            if (sp < 0) {
                throw new BadInputException(file + ": line " + lineNo + ": attribute without a type");
            }
            name = rest.substring(0, sp);
            type = rest.substring(sp + 1).trim();
        }
        if (type.startsWith("{")) {
            if (!type.endsWith("}")) {
                throw new BadInputException(file + ": line " + lineNo + ": attribute " + name + ": unterminated {...}");
            }
            for (String v : split(type.substring(1, type.length() - 1))) {
                parts.add(v);
            }
            return new Attribute(name, parts);
        }
        String t = type.toLowerCase(Locale.ROOT);
        if (t.equals("numeric") || t.equals("real") || t.equals("integer")) {
            return new Attribute(name, null);
        }
        throw new BadInputException(file + ": line " + lineNo + ": attribute " + name + ": type '" + type
                + "' is not supported (numeric, real, integer or nominal)");
    }

    private static double value(Path file, int lineNo, Attribute a, String v) {
        if (v.equals("?")) {
            throw new BadInputException(file + ": line " + lineNo + ": attribute " + a.name()
                    + ": missing value '?' is not supported");
        }
        if (a.numeric()) {
            try {
                double d = Double.parseDouble(v);
                if (!Double.isFinite(d)) {
                    throw new NumberFormatException();
                }
                return d;
            } catch (NumberFormatException e) {
                throw new BadInputException(file + ": line " + lineNo + ": attribute " + a.name()
                        + ": not a finite number: '" + v + "'");
            }
        }
        int i = a.nominal().indexOf(v);
        if (i < 0) {
            throw new BadInputException(file + ": line " + lineNo + ": attribute " + a.name() + ": value '" + v
                    + "' is not one of " + a.nominal());
        }
        return i;
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && (s.charAt(0) == '\'' || s.charAt(0) == '"') && s.charAt(s.length() - 1) == s.charAt(0)) {
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    /** Splits on commas outside quotes, trimming and unquoting each field. */
    static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quote != 0) {
                if (ch == '\\' && i + 1 < line.length()) {
                    cur.append(line.charAt(++i));
                } else if (ch == quote) {
                    quote = 0;
                } else {
                    cur.append(ch);
                }
            } else if (ch == '\'' || ch == '"') {
                quote = ch;
            } else if (ch == ',') {
                out.add(cur.toString().trim());
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        out.add(cur.toString().trim());
        return out;
    }
}

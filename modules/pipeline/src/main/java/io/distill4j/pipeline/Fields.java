package io.distill4j.pipeline;

import io.distill4j.data.BadInputException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Typed, strict access to one mapping of a YAML/JSON config: every read names the file and the dotted
 * field on error, and {@link #finish()} rejects keys nobody read (typos).
 */
final class Fields {

    private final String file;
    private final String prefix;
    private final Map<String, Object> map;
    private final Set<String> read = new LinkedHashSet<>();

    Fields(String file, String prefix, Map<?, ?> map) {
        this.file = file;
        this.prefix = prefix;
        this.map = new LinkedHashMap<>();
        if (map != null) {
            map.forEach((k, v) -> this.map.put(String.valueOf(k), v));
        }
    }

    BadInputException error(String key, String what) {
        return new BadInputException(file + ": field " + prefix + key + ": " + what);
    }

    boolean has(String key) {
        return map.containsKey(key) && map.get(key) != null;
    }

    private Object raw(String key) {
        read.add(key);
        return map.get(key);
    }

    String string(String key, String fallback) {
        Object v = raw(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Map || v instanceof Collection) {
            throw error(key, "expected a text value, got " + v);
        }
        return String.valueOf(v);
    }

    String requiredString(String key) {
        String s = string(key, null);
        if (s == null || s.isBlank()) {
            throw error(key, "required");
        }
        return s;
    }

    String choice(String key, String fallback, List<String> allowed) {
        String s = string(key, fallback);
        if (s != null && !allowed.contains(s)) {
            throw error(key, "unknown value '" + s + "'; expected one of " + String.join(", ", allowed));
        }
        return s;
    }

    double number(String key, double fallback) {
        Object v = raw(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        try {
            return Double.parseDouble(String.valueOf(v).trim());
        } catch (NumberFormatException e) {
            throw error(key, "expected a number, got '" + v + "'");
        }
    }

    long integer(String key, long fallback) {
        Object v = raw(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short) {
            return ((Number) v).longValue();
        }
        try {
            return Long.parseLong(String.valueOf(v).trim());
        } catch (NumberFormatException e) {
            throw error(key, "expected an integer, got '" + v + "'");
        }
    }

    int positiveInt(String key, int fallback) {
        long v = integer(key, fallback);
        if (v <= 0 || v > Integer.MAX_VALUE) {
            throw error(key, "must be a positive integer, got " + v);
        }
        return (int) v;
    }

    double positive(String key, double fallback) {
        double v = number(key, fallback);
        if (!(v > 0) || Double.isInfinite(v)) {
            throw error(key, "must be positive and finite, got " + v);
        }
        return v;
    }

    boolean bool(String key, boolean fallback) {
        Object v = raw(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = String.valueOf(v).trim();
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        throw error(key, "expected true or false, got '" + v + "'");
    }

    List<Object> list(String key) {
        Object v = raw(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Collection<?> c) {
            return new ArrayList<>(c);
        }
        return new ArrayList<>(List.of(v));
    }

    /** A mapping of any values (JSON fields passed on as they are), in file order; null when absent. */
    Map<String, Object> mapping(String key) {
        Object v = raw(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw error(key, "expected a mapping (name: value lines)");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (e.getValue() == null) {
                throw error(key + "." + e.getKey(), "expected a value, got nothing (null)");
            }
            out.put(String.valueOf(e.getKey()), e.getValue());
        }
        return out;
    }

    /**
     * A mapping of text values, in file order; null when absent. Messages name keys, never values (a
     * mapping of variable names may hold a secret pasted by mistake).
     */
    Map<String, String> strings(String key) {
        Map<String, Object> m = mapping(key);
        if (m == null) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (e.getValue() instanceof Map || e.getValue() instanceof Collection) {
                throw error(key + "." + e.getKey(), "expected a text value");
            }
            out.put(e.getKey(), String.valueOf(e.getValue()));
        }
        return out;
    }

    int[] positiveInts(String key, int[] fallback) {
        List<Object> l = list(key);
        if (l == null) {
            return fallback;
        }
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) {
            Object o = l.get(i);
            long v;
            try {
                v = o instanceof Number n ? n.longValue() : Long.parseLong(String.valueOf(o).trim());
            } catch (NumberFormatException e) {
                throw error(key, "element " + i + ": expected an integer, got '" + o + "'");
            }
            if (v <= 0 || v > Integer.MAX_VALUE) {
                throw error(key, "element " + i + ": must be positive, got " + v);
            }
            out[i] = (int) v;
        }
        return out;
    }

    double[] numbers(String key) {
        List<Object> l = list(key);
        if (l == null) {
            return null;
        }
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) {
            Object o = l.get(i);
            try {
                out[i] = o instanceof Number n ? n.doubleValue() : Double.parseDouble(String.valueOf(o).trim());
            } catch (NumberFormatException e) {
                throw error(key, "element " + i + ": expected a number, got '" + o + "'");
            }
        }
        return out;
    }

    Fields child(String key) {
        Object v = raw(key);
        if (v != null && !(v instanceof Map)) {
            throw error(key, "expected a mapping (key: value lines), got '" + v + "'");
        }
        return new Fields(file, prefix + key + ".", (Map<?, ?>) v);
    }

    /** Rejects keys that no one read. */
    void finish() {
        for (String key : map.keySet()) {
            if (!read.contains(key)) {
                throw error(key, "unknown (known here: " + String.join(", ", read) + ")");
            }
        }
    }
}

package io.distill4j.models;

import io.distill4j.data.BadInputException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * An MLP preset from {@code models/mlp-*.yaml}:
 * <pre>
 * model_type: mlp
 * inputs: 784
 * hidden: [512, 256]
 * outputs: 10
 * dropout: 0.0
 * </pre>
 *
 * @param inputs input width
 * @param hidden hidden widths
 * @param outputs output width (classes, or regression outputs)
 * @param dropout dropout after each hidden layer (also usable at inference for MC dropout)
 */
public record MlpPreset(int inputs, List<Integer> hidden, int outputs, float dropout) {

    private static final Set<String> KEYS = Set.of("model_type", "inputs", "hidden", "outputs", "dropout");

    /** Copies the list. */
    public MlpPreset {
        hidden = List.copyOf(hidden);
    }

    /**
     * Reads a preset from a parsed YAML mapping.
     *
     * @param map the mapping
     * @param source names the file in errors
     * @return the preset, validated by building it
     * @throws BadInputException naming the source, key and value of an unknown key or bad value
     */
    public static MlpPreset fromPreset(Map<String, ?> map, String source) {
        for (String k : map.keySet()) {
            if (!KEYS.contains(k)) {
                throw new BadInputException(source + ": unknown key '" + k + "' for model_type mlp (known: "
                        + new TreeSet<>(KEYS) + ")");
            }
        }
        Object type = map.get("model_type");
        if (!"mlp".equals(type)) {
            throw new BadInputException(source + ": field model_type must be 'mlp', got '" + type + "'");
        }
        int inputs = integer(map, "inputs", source);
        int outputs = integer(map, "outputs", source);
        Object h = map.get("hidden");
        List<Integer> hidden;
        if (h == null) {
            hidden = List.of();
        } else if (h instanceof List<?> list) {
            hidden = list.stream().map(v -> {
                if (!(v instanceof Integer i)) {
                    throw new BadInputException(source + ": field hidden must be a list of integers, got " + h);
                }
                return i;
            }).toList();
        } else {
            throw new BadInputException(source + ": field hidden must be a list of integers, got '" + h + "'");
        }
        Object d = map.get("dropout");
        float dropout;
        if (d == null) {
            dropout = 0f;
        } else if (d instanceof Number n) {
            dropout = n.floatValue();
        } else {
            throw new BadInputException(source + ": field dropout must be a number, got '" + d + "'");
        }
        MlpPreset p = new MlpPreset(inputs, hidden, outputs, dropout);
        try {
            p.builder().build();
        } catch (IllegalArgumentException e) {
            throw new BadInputException(source + ": " + e.getMessage(), e);
        }
        return p;
    }

    private static int integer(Map<String, ?> map, String key, String source) {
        Object v = map.get(key);
        if (v == null) {
            throw new BadInputException(source + ": field " + key + " is missing");
        }
        if (!(v instanceof Integer i)) {
            throw new BadInputException(source + ": field " + key + " must be an integer, got '" + v + "'");
        }
        return i;
    }

    /** @return a builder of this MLP */
    public Mlp.Builder builder() {
        return Mlp.builder().setInputs(inputs).setHidden(hidden.stream().mapToInt(Integer::intValue).toArray())
                .setOutputs(outputs).optDropout(dropout);
    }

    /**
     * Checks that a data set fits the preset, before any training.
     *
     * @param source names the preset in errors
     * @param data names the data set in errors
     * @param width the data's feature width
     * @param classes the data's number of classes (or regression outputs)
     * @throws BadInputException naming both and the widths that differ
     */
    public void checkFits(String source, String data, int width, int classes) {
        if (width != inputs) {
            throw new BadInputException(source + ": the preset takes " + inputs + " inputs, but " + data + " has "
                    + width + " features");
        }
        if (classes != outputs) {
            throw new BadInputException(source + ": the preset has " + outputs + " outputs, but " + data + " has "
                    + classes + " classes");
        }
    }
}

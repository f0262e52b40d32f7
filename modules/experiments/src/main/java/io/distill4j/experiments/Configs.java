package io.distill4j.experiments;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads experiment YAML files into typed, validated config records. */
public final class Configs {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

    private Configs() {
    }

    /**
     * Reads an experiment file: a map with the key {@code experiment} (the experiment's name), the
     * experiment's settings, and an optional {@code quick} map whose keys override the settings in the
     * {@code --quick} variant.
     *
     * @param file the YAML file
     * @param quick whether to apply the {@code quick} overrides
     * @return the settings (without the {@code experiment} and {@code quick} keys) and the name
     * @throws BadInputException if the file is missing or malformed
     */
    public static Loaded load(Path file, boolean quick) {
        JsonNode root;
        try {
            root = YAML.readTree(file.toFile());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new BadInputException(file + ": experiment config not found", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": malformed YAML: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (!(root instanceof ObjectNode obj) || !obj.hasNonNull("experiment")) {
            throw new BadInputException(file + ": field experiment: missing (the experiment's name)");
        }
        String name = obj.remove("experiment").asText();
        JsonNode q = obj.remove("quick");
        if (quick && q != null) {
            if (!(q instanceof ObjectNode qo)) {
                throw new BadInputException(file + ": field quick: must be a map of overrides");
            }
            for (var e : qo.properties()) {
                if (!obj.has(e.getKey())) {
                    throw new BadInputException(file + ": field quick." + e.getKey() + ": overrides no setting");
                }
                obj.set(e.getKey(), e.getValue());
            }
        }
        return new Loaded(name, obj, file);
    }

    /**
     * Binds settings to a config record, rejecting unknown and missing keys by name.
     *
     * @param node the settings
     * @param type the record type
     * @param owner the experiment's name, for messages
     * @param <T> the record type
     * @return the config
     * @throws BadInputException naming the offending key or value
     */
    public static <T> T read(JsonNode node, Class<T> type, String owner) {
        try {
            return YAML.treeToValue(node, type);
        } catch (UnrecognizedPropertyException e) {
            throw new BadInputException("experiment " + owner + ": unknown key '" + e.getPropertyName() + "'; known are "
                    + e.getKnownPropertyIds(), e);
        } catch (IOException e) {
            Throwable c = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
            String msg = c == e ? e.getMessage().lines().findFirst().orElse("") : c.getMessage();
            throw new BadInputException("experiment " + owner + ": " + msg, e);
        }
    }

    /**
     * A loaded experiment file.
     *
     * @param experiment the experiment's name
     * @param settings its settings
     * @param file where they came from
     */
    public record Loaded(String experiment, JsonNode settings, Path file) {
    }
}

package io.distill4j.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * An experiment file ({@code experiments/NAME.yaml}) read through the project's one strict binding
 * ({@link ConfigFile}): the key {@code experiment} names the experiment, the other keys are its settings, and an
 * optional {@code quick} mapping overrides settings in the {@code --quick} variant. Every fault is one line,
 * {@code file:line:column: field a.b: what is wrong}; every component of the settings record is required; paths in
 * the file are relative to the file's folder.
 *
 * @param experiment the experiment's name
 * @param config the settings (the quick overrides applied when asked for), as a file to bind
 */
public record ExperimentFile(String experiment, ConfigFile config) {

    /**
     * Reads an experiment file.
     *
     * @param file the YAML file
     * @param quick whether to apply the {@code quick} overrides
     * @return the name and settings (without the {@code experiment} and {@code quick} keys)
     * @throws BadInputException if the file is missing or malformed, or the name or an override is wrong
     */
    public static ExperimentFile load(Path file, boolean quick) {
        ConfigFile cf = ConfigFile.load(file);
        JsonNode name = cf.node("/experiment");
        if (!name.isTextual() || name.asText().isBlank()) {
            throw cf.error("/experiment", "required: the experiment's name");
        }
        ObjectNode settings = ((ObjectNode) cf.root()).deepCopy();
        settings.remove("experiment");
        JsonNode q = settings.remove("quick");
        if (quick && q != null) {
            if (!(q instanceof ObjectNode qo)) {
                throw cf.error("/quick", "must be a mapping of overrides");
            }
            for (var e : qo.properties()) {
                if (!settings.has(e.getKey())) {
                    throw cf.error("/quick/" + e.getKey(), "overrides no setting");
                }
                settings.set(e.getKey(), e.getValue());
            }
        }
        return new ExperimentFile(name.asText(), new ConfigFile(cf.file(), cf.text(), settings));
    }

    /**
     * Binds an experiment's settings strictly: unknown keys, wrong types and values its record rejects are errors, and
     * so is a missing key (experiments state every setting).
     *
     * @param config the settings
     * @param type the settings record
     * @param <T> its type
     * @return the settings
     * @throws BadInputException naming file, line, column, key and value of the first fault
     */
    public static <T> T bind(ConfigFile config, Class<T> type) {
        requireAll(config, "", type);
        return config.bind("", type);
    }

    /** Every component of a record (and of nested records, and of records in lists) must be given. */
    private static void requireAll(ConfigFile config, String pointer, Type type) {
        if (type instanceof ParameterizedType p && p.getRawType() == List.class) {
            JsonNode n = config.node(pointer);
            for (int i = 0; n.isArray() && i < n.size(); i++) {
                requireAll(config, pointer + "/" + i, p.getActualTypeArguments()[0]);
            }
            return;
        }
        if (!(type instanceof Class<?> c) || !c.isRecord() || !config.node(pointer).isObject()) {
            return;
        }
        for (RecordComponent rc : c.getRecordComponents()) {
            String at = pointer + "/" + rc.getName();
            if (!config.isSet(at)) {
                throw config.error(at, "required");
            }
            requireAll(config, at, rc.getGenericType());
        }
    }

}

package io.distill4j.models;

import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open registry of student architectures by {@code model_type}: a preset file ({@code models/*.yaml}) names
 * its type, and the rest of the file is bound strictly to the preset record registered under that name. The
 * project registers {@code mlp} ({@link MlpPreset}), {@code ols} ({@link OlsPreset}, fitted in closed form) and the causal LMs {@code gpt2} and {@code llama}
 * ({@link io.distill4j.models.lm.LmPreset}); user code adds its own with {@link #register}:
 * <pre>{@code
 * StudentPresets.register("my-net", MyNetPreset.class);   // a record implementing StudentPreset
 * }</pre>
 */
public final class StudentPresets {

    private static final Map<String, Reader> TYPES = new ConcurrentHashMap<>();
    private static final Map<String, Object> KEYS = new ConcurrentHashMap<>();

    static {
        register("mlp", MlpPreset.class);
        register("ols", OlsPreset.class);
        register("gpt2", io.distill4j.models.lm.LmPreset::read);
        register("llama", io.distill4j.models.lm.LmPreset::read);
    }

    /** Reads a preset of one {@code model_type} from a section of a config file. */
    @FunctionalInterface
    public interface Reader {
        /**
         * Reads the preset.
         *
         * @param config the file
         * @param pointer the section, which holds {@code model_type}
         * @return the preset
         * @throws BadInputException naming file, line, column and key of the first fault
         */
        StudentPreset read(ConfigFile config, String pointer);
    }

    private StudentPresets() {
    }

    /**
     * Registers a preset type.
     *
     * @param modelType the {@code model_type} that selects it
     * @param type the preset record (its components are the file's keys)
     * @throws IllegalArgumentException if the name is blank or already taken by another type
     */
    public static void register(String modelType, Class<? extends StudentPreset> type) {
        register(modelType, type, (config, pointer) -> config.bind(pointer, type, Set.of("model_type")));
    }

    /**
     * Registers a preset type read by its own code (the causal-LM presets: Hugging Face keys, some filled from the
     * teacher).
     *
     * @param modelType the {@code model_type} that selects it
     * @param reader reads the preset, strictly
     * @throws IllegalArgumentException if the name is blank or already taken
     */
    public static void register(String modelType, Reader reader) {
        register(modelType, reader, reader);
    }

    private static void register(String modelType, Object key, Reader reader) {
        if (modelType == null || modelType.isBlank()) {
            throw new IllegalArgumentException("a model_type must be a non-blank name");
        }
        Object before = KEYS.putIfAbsent(modelType, key);
        if (before != null && !before.equals(key)) {
            throw new IllegalArgumentException("model_type '" + modelType + "' is already registered to "
                    + (before instanceof Class<?> c ? c.getName() : before));
        }
        TYPES.putIfAbsent(modelType, reader);
    }

    /** @return the registered model types, sorted */
    public static Set<String> names() {
        return new TreeMap<>(TYPES).keySet();
    }

    /**
     * Reads a preset file.
     *
     * @param file the preset
     * @return the preset
     * @throws BadInputException naming file, line, column and key of the first fault
     */
    public static StudentPreset read(Path file) {
        return read(ConfigFile.load(file), "");
    }

    /**
     * Reads a preset from a section of a config file (a student given inline).
     *
     * @param config the file
     * @param pointer the section
     * @return the preset
     * @throws BadInputException naming file, line, column and key of the first fault
     */
    public static StudentPreset read(ConfigFile config, String pointer) {
        if (!config.isSet(pointer + "/model_type")) {
            throw config.error(pointer + "/model_type", "required; one of " + names());
        }
        String type = config.node(pointer + "/model_type").asText();
        Reader r = TYPES.get(type);
        if (r == null) {
            throw config.error(pointer + "/model_type", "unknown model_type '" + type + "'; known: " + names());
        }
        return r.read(config, pointer);
    }

    /**
     * A preset as a plain mapping with its {@code model_type}, as saved beside a trained student.
     *
     * @param preset the preset
     * @return the mapping
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> toMap(StudentPreset preset) {
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("model_type", preset.modelType());
        out.putAll(new com.fasterxml.jackson.databind.ObjectMapper().convertValue(preset, Map.class));
        out.values().removeIf(java.util.Objects::isNull);
        out.remove("modelType");
        return out;
    }
}

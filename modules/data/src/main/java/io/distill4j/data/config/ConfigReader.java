package io.distill4j.data.config;

import ai.djl.Device;
import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.deser.Deserializers;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.distill4j.data.Devices;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The project's one configuration binding: YAML (or JSON) into settings records and builders, strictly.
 *
 * <ul>
 *   <li>Unknown keys, values of the wrong type ({@code epochs: many}), floats for integers, explicit nulls and
 *       scalars where a list or mapping belongs are errors (an absent key keeps its default); out-of-range values are rejected by the target's own
 *       validation (a record's constructor, a builder's {@code build()}).</li>
 *   <li>Every error is one line, {@code file:line:column: field a.b: what is wrong} ({@link ConfigFile}).</li>
 *   <li>Enums are spelled in lower case with hyphens ({@code log-probabilities}, {@code fp16}).</li>
 *   <li>{@link Path} values are relative to the folder of the file that names them.</li>
 *   <li>{@link Device} values are parsed by {@link Devices#parse}.</li>
 * </ul>
 *
 * <p>Use {@link #read} to bind a whole file, {@link ConfigFile#load} then {@link ConfigFile#bind} or
 * {@link ConfigFile#update} for sections, and {@link #convert} for settings given as a map in Java code.
 */
public final class ConfigReader {

    private static final String BASE_DIR = "distill4j.baseDir";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper STRICT = configure(JsonMapper.builder(new YAMLFactory())).build();
    private static final ObjectMapper FIELDS = configure(JsonMapper.builder(new YAMLFactory())).build()
            .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY);

    private ConfigReader() {
    }

    /**
     * Binds a whole YAML or JSON file.
     *
     * @param file the file
     * @param type the settings type
     * @param <T> the type
     * @return the settings
     * @throws io.distill4j.data.BadInputException naming file, line, column, key and value of the first fault
     */
    public static <T> T read(Path file, Class<T> type) {
        return ConfigFile.load(file).bind("", type);
    }

    /**
     * Binds settings given as a map (from Java code, or from a section already parsed elsewhere).
     *
     * @param values the settings, as YAML would give them (numbers, strings, lists, maps)
     * @param type the settings type
     * @param where names the owner in messages, e.g. {@code "loss 'hinton-kd'"}
     * @param <T> the type
     * @return the settings
     * @throws IllegalArgumentException naming {@code where}, the key and the value of the first fault
     */
    public static <T> T convert(Map<String, ?> values, Class<T> type, String where) {
        try {
            return ConfigFile.parse(Path.of(where), YAML.writeValueAsString(values == null ? Map.of() : values))
                    .bind("", type);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        } catch (io.distill4j.data.BadInputException e) {
            // the line and column would point into YAML made here from the map, not into any file: leave them out
            String m = e.getMessage();
            if (m.startsWith(where + ":")) {
                m = where + m.substring(where.length()).replaceFirst("^:\\d+:\\d+", "");
            }
            throw new IllegalArgumentException(m, e);
        }
    }

    /**
     * Writes a value (maps, lists, records) as YAML, for files that {@link #read} reads back.
     *
     * @param value the value
     * @return the YAML text
     */
    public static String toYaml(Object value) {
        try {
            return YAML.writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot write as YAML: " + e.getMessage(), e);
        }
    }

    /**
     * The spelling of an enum constant in configuration files.
     *
     * @param e a constant
     * @return its name in lower case with hyphens
     */
    public static String enumName(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** @return a plain YAML mapper (parsing and writing trees) */
    static ObjectMapper yaml() {
        return YAML;
    }

    static ObjectReader strict(Path baseDir) {
        return STRICT.reader().withAttribute(BASE_DIR, baseDir);
    }

    static ObjectMapper fields(Path baseDir) {
        return FIELDS.copy().setConfig(FIELDS.getDeserializationConfig().withAttribute(BASE_DIR, baseDir));
    }

    private static JsonMapper.Builder configure(JsonMapper.Builder b) {
        SimpleModule m = new SimpleModule("distill4j-config") {
            @Override
            public void setupModule(SetupContext context) {
                super.setupModule(context);
                context.addDeserializers(new EnumDeserializers());
            }
        };
        m.addDeserializer(Path.class, new PathDeserializer());
        m.addDeserializer(Device.class, new DeviceDeserializer());
        m.addDeserializer(java.time.Duration.class, new DurationDeserializer());
        return b.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .addModule(m);
    }

    /** Relative paths resolve against the folder of the file being read. */
    private static final class PathDeserializer extends JsonDeserializer<Path> {
        @Override
        public Path deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                return (Path) ctxt.handleUnexpectedToken(Path.class, p);
            }
            Path path = Path.of(p.getText());
            Object base = ctxt.getAttribute(BASE_DIR);
            return path.isAbsolute() || !(base instanceof Path dir) ? path : dir.resolve(path).normalize();
        }
    }

    /** Devices through the one device parser. */
    private static final class DeviceDeserializer extends JsonDeserializer<Device> {
        @Override
        public Device deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                return (Device) ctxt.handleUnexpectedToken(Device.class, p);
            }
            try {
                return Devices.parse(p.getText());
            } catch (IllegalArgumentException e) {
                throw JsonMappingException.from(p, e.getMessage(), e);
            }
        }
    }

    /** Durations as {@code 30s}, {@code 2m}, {@code 1h}, {@code 500ms}, ISO-8601 ({@code PT30S}) or seconds. */
    private static final class DurationDeserializer extends JsonDeserializer<java.time.Duration> {
        private static final java.util.regex.Pattern SHORT = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

        @Override
        public java.time.Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken().isNumeric()) {
                return java.time.Duration.ofMillis(Math.round(p.getDoubleValue() * 1000));
            }
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                return (java.time.Duration) ctxt.handleUnexpectedToken(java.time.Duration.class, p);
            }
            String t = p.getText().trim();
            java.util.regex.Matcher m = SHORT.matcher(t);
            if (m.matches()) {
                double v = Double.parseDouble(m.group(1));
                double ms = switch (m.group(2)) {
                    case "ms" -> v;
                    case "s" -> v * 1e3;
                    case "m" -> v * 60e3;
                    default -> v * 3600e3;
                };
                return java.time.Duration.ofMillis(Math.round(ms));
            }
            try {
                return java.time.Duration.parse(t);
            } catch (java.time.format.DateTimeParseException e) {
                throw JsonMappingException.from(p, "expected a duration such as 30s, 2m or PT30S, got '" + t + "'");
            }
        }
    }

    /** Enums in lower case with hyphens (upper case and underscores are accepted too). */
    private static final class EnumDeserializers extends Deserializers.Base {
        @Override
        public JsonDeserializer<?> findEnumDeserializer(Class<?> type, DeserializationConfig config,
                BeanDescription beanDesc) {
            return new EnumDeserializer(type);
        }

        @Override
        public JsonDeserializer<?> findBeanDeserializer(JavaType type, DeserializationConfig config,
                BeanDescription beanDesc) {
            return null;
        }
    }

    private static final class EnumDeserializer extends JsonDeserializer<Enum<?>> {
        private final Class<?> type;

        EnumDeserializer(Class<?> type) {
            this.type = type;
        }

        @Override
        public Enum<?> deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                return (Enum<?>) ctxt.handleUnexpectedToken(type, p);
            }
            String text = p.getText().trim();
            String want = text.toUpperCase(Locale.ROOT).replace('-', '_');
            for (Object c : type.getEnumConstants()) {
                if (((Enum<?>) c).name().equals(want)) {
                    return (Enum<?>) c;
                }
            }
            String allowed = Arrays.stream(type.getEnumConstants()).map(c -> enumName((Enum<?>) c))
                    .collect(Collectors.joining(", "));
            throw JsonMappingException.from(p, "expected one of: " + allowed + ", got '" + text + "'");
        }
    }
}

package io.distill4j.data.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Errors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A YAML (or JSON) configuration file, parsed, that binds any of its sections to a settings record or
 * builder strictly and names the place of every fault: {@code file:line:column: field a.b: what is wrong}.
 *
 * <p>The binding is the project's one way of reading configuration ({@link ConfigReader}): an unknown key,
 * a value of the wrong type, an out-of-range value (the target's constructor or {@code build()} rejects it)
 * or a missing required key is a {@link BadInputException} naming file, line, column, key and value. Relative
 * paths inside the file ({@link java.nio.file.Path} fields) resolve against the folder that holds the file,
 * whatever the working directory.
 *
 * @param file the file, as the user named it
 * @param text its text
 * @param root the parsed document
 */
public record ConfigFile(Path file, String text, JsonNode root) {

    /**
     * Reads and parses a file.
     *
     * @param file a YAML or JSON file
     * @return the parsed file
     * @throws BadInputException if the file is missing, unreadable, malformed or not a mapping at the top
     */
    public static ConfigFile load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": config file not found", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read the config file: " + Errors.reason(e), e);
        }
        return parse(file, text);
    }

    /**
     * Parses text that came from a file (or from a command line, a test).
     *
     * @param file the file to name in messages, and whose folder relative paths resolve against
     * @param text the YAML or JSON text
     * @return the parsed file
     * @throws BadInputException if the text is malformed or not a mapping at the top
     */
    public static ConfigFile parse(Path file, String text) {
        JsonNode root;
        try {
            root = ConfigReader.yaml().readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new BadInputException(place(file, at) + ": malformed YAML: " + firstLine(e.getOriginalMessage()), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new BadInputException(file + ": the config file is empty");
        }
        if (!root.isObject()) {
            throw new BadInputException(file + ": expected a mapping of settings at the top level, got "
                    + root.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        return new ConfigFile(file, text, root);
    }

    /** @return the folder that relative paths in this file resolve against */
    public Path baseDir() {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? Path.of("").toAbsolutePath() : parent;
    }

    /**
     * Resolves a path written in this file: absolute paths stay, relative ones are taken from the file's folder.
     *
     * @param path the text of the path
     * @return the path
     */
    public Path resolve(String path) {
        Path p = Path.of(path);
        return p.isAbsolute() ? p : baseDir().resolve(p).normalize();
    }

    /**
     * The node at a JSON pointer ({@code ""} for the root, {@code "/training"} for a section).
     *
     * @param pointer the pointer
     * @return the node, or a missing node
     */
    public JsonNode node(String pointer) {
        return root.at(pointer);
    }

    /**
     * Whether the file sets a key.
     *
     * @param pointer the key's pointer, e.g. {@code "/training/epochs"}
     * @return whether it is present (even if null)
     */
    public boolean has(String pointer) {
        return !root.at(pointer).isMissingNode();
    }

    /**
     * Binds a section to a type (a record, or any type Jackson can build).
     *
     * @param pointer the section, {@code ""} for the whole file
     * @param type the type
     * @param <T> the type
     * @return the bound value; for a section absent from the file, the value bound from an empty mapping
     * @throws BadInputException naming file, line, column, key and value of the first fault
     */
    public <T> T bind(String pointer, Class<T> type) {
        return bind(pointer, type, java.util.Set.of());
    }

    /**
     * Binds a section to a type, leaving out keys that chose the type (such as {@code type} or {@code model_type}).
     *
     * @param pointer the section, {@code ""} for the whole file
     * @param type the type
     * @param ignored keys of the section that the type does not have
     * @param <T> the type
     * @return the bound value
     * @throws BadInputException naming file, line, column, key and value of the first fault
     */
    public <T> T bind(String pointer, Class<T> type, java.util.Set<String> ignored) {
        JsonNode n = section(pointer);
        if (!ignored.isEmpty() && n instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
            n = without(o, ignored);
        }
        try {
            return ConfigReader.strict(baseDir()).treeToValue(n, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw fault(pointer, e);
        }
    }

    /**
     * Sets the fields of an existing object (a builder) from a section, then returns it; fields the section
     * does not name keep their values (the defaults). Validation happens where the caller calls {@code build()}:
     * wrap that in {@link #check}.
     *
     * @param pointer the section
     * @param target the object to update, usually a builder with defaults
     * @param <T> its type
     * @return {@code target}
     * @throws BadInputException naming file, line, column, key and value of the first fault
     */
    public <T> T update(String pointer, T target) {
        JsonNode n = section(pointer);
        if (!n.isObject()) {
            throw error(pointer, "expected a mapping of keys" + (n.isValueNode() ? ", got '" + n.asText() + "'" : ""));
        }
        try {
            return ConfigReader.fields(baseDir()).readerForUpdating(target).readValue(n);
        } catch (IOException | IllegalArgumentException e) {
            throw fault(pointer, e);
        }
    }

    /**
     * Runs a validation (a {@code build()}) and turns its {@link IllegalArgumentException} into an error at a section.
     *
     * @param pointer the section the validated values came from
     * @param build the validation
     * @param <T> the result type
     * @return the result
     * @throws BadInputException naming file, line, column and section with the validation's message
     */
    public <T> T check(String pointer, java.util.function.Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw error(pointer, e.getMessage(), e);
        }
    }

    /**
     * An error at a key of this file.
     *
     * @param pointer the key's JSON pointer
     * @param message what is wrong
     * @return the exception, to throw
     */
    public BadInputException error(String pointer, String message) {
        return error(pointer, message, null);
    }

    /**
     * An error at a key of this file, with its cause.
     *
     * @param pointer the key's JSON pointer
     * @param message what is wrong
     * @param cause the cause, or null
     * @return the exception, to throw
     */
    public BadInputException error(String pointer, String message, Throwable cause) {
        String field = dotted(pointer);
        return new BadInputException(place(file, locate(pointer)) + ": " + (field.isEmpty() ? "" : "field " + field + ": ")
                + message, cause);
    }

    private static JsonNode without(com.fasterxml.jackson.databind.node.ObjectNode o, java.util.Set<String> keys) {
        com.fasterxml.jackson.databind.node.ObjectNode copy = o.deepCopy();
        copy.remove(keys);
        return copy;
    }

    private JsonNode section(String pointer) {
        JsonNode n = root.at(pointer);
        if (n.isMissingNode() || n instanceof NullNode) {
            return ConfigReader.yaml().createObjectNode();
        }
        rejectNulls(pointer, n);
        return n;
    }

    /** An explicit null (a key with no value) is an error: leave the key out to keep its default. */
    private void rejectNulls(String pointer, JsonNode n) {
        if (n.isNull()) {
            throw error(pointer, "has no value; give one, or leave the key out for its default");
        }
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> rejectNulls(pointer + "/" + e.getKey().replace("~", "~0").replace("/", "~1"),
                    e.getValue()));
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                rejectNulls(pointer + "/" + i, n.get(i));
            }
        }
    }

    private BadInputException fault(String pointer, Exception e) {
        if (e instanceof JsonMappingException m) {
            String at = pointer + pointerOf(m.getPath());
            String what = describe(m);
            JsonNode given = root.at(at);
            if (what.startsWith("expected ") && !what.contains(", got ") && given.isValueNode()) {
                what += ", got '" + given.asText() + "'";
            }
            return error(at, what, e);
        }
        Throwable c = e.getCause() != null ? e.getCause() : e;
        return error(pointer, Errors.reason(c), e);
    }

    private static String describe(JsonMappingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            Collection<Object> known = u.getKnownPropertyIds();
            return "unknown key '" + u.getPropertyName() + "'" + (known == null || known.isEmpty() ? ""
                    : "; known keys: " + known.stream().map(Object::toString).sorted().collect(Collectors.joining(", ")));
        }
        if (e instanceof InvalidFormatException f) {
            return "expected " + typeName(f.getTargetType()) + ", got '" + f.getValue() + "'";
        }
        if (e instanceof InvalidNullException) {
            return "must not be null";
        }
        if (e instanceof ValueInstantiationException || e.getCause() instanceof IllegalArgumentException) {
            Throwable c = e.getCause();
            while (c != null && c.getCause() != null && c.getCause() != c && !(c instanceof IllegalArgumentException)) {
                c = c.getCause();
            }
            return c == null ? firstLine(e.getOriginalMessage()) : Errors.reason(c);
        }
        if (e instanceof MismatchedInputException mi) {
            String original = firstLine(mi.getOriginalMessage());
            if (original.contains("Missing required creator property")) {
                return "required";
            }
            return "expected " + typeName(mi.getTargetType());
        }
        return firstLine(e.getOriginalMessage());
    }

    /**
     * A type's name as a user reads it.
     *
     * @param type a Java type, or null
     * @return e.g. "an integer", "a number", "true or false", "one of: a, b"
     */
    static String typeName(Class<?> type) {
        if (type == null) {
            return "another type";
        }
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "an integer";
        }
        if (type == float.class || type == Float.class || type == double.class || type == Double.class) {
            return "a number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type.isEnum()) {
            return "one of: " + java.util.Arrays.stream(type.getEnumConstants())
                    .map(c -> ConfigReader.enumName((Enum<?>) c)).collect(Collectors.joining(", "));
        }
        if (type.isArray() || List.class.isAssignableFrom(type) || Collection.class.isAssignableFrom(type)) {
            return "a list";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord() || !type.getName().startsWith("java.")) {
            return "a mapping of keys";
        }
        return "a " + type.getSimpleName().toLowerCase(Locale.ROOT);
    }

    private static String pointerOf(List<JsonMappingException.Reference> path) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : path) {
            if (r.getFieldName() != null) {
                sb.append('/').append(r.getFieldName().replace("~", "~0").replace("/", "~1"));
            } else if (r.getIndex() >= 0) {
                sb.append('/').append(r.getIndex());
            }
        }
        return sb.toString();
    }

    /**
     * A pointer as the dotted key a user reads: {@code /training/seeds/2} is {@code training.seeds[2]}.
     *
     * @param pointer a JSON pointer
     * @return the dotted form
     */
    static String dotted(String pointer) {
        StringBuilder sb = new StringBuilder();
        for (String part : pointer.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            String key = part.replace("~1", "/").replace("~0", "~");
            if (key.chars().allMatch(Character::isDigit)) {
                sb.append('[').append(key).append(']');
            } else {
                sb.append(sb.length() > 0 ? "." : "").append(key);
            }
        }
        return sb.toString();
    }

    /**
     * Where a key stands in the text: the deepest part of the pointer present in the file.
     *
     * @param pointer a JSON pointer
     * @return the location of that key (or of the document start), or null if the text cannot be read again
     */
    JsonLocation locate(String pointer) {
        JsonPointer target = JsonPointer.compile(pointer.isEmpty() || pointer.startsWith("/") ? pointer : "/" + pointer);
        try (JsonParser p = ConfigReader.yaml().getFactory().createParser(text)) {
            JsonToken first = p.nextToken();
            JsonLocation best = p.currentTokenLocation();
            if (first == null || target.matches()) {
                return best;
            }
            return descend(p, first, target, best);
        } catch (IOException e) {
            return null;
        }
    }

    private static JsonLocation descend(JsonParser p, JsonToken current, JsonPointer target, JsonLocation best)
            throws IOException {
        if (target.matches()) {
            return best;
        }
        if (current == JsonToken.START_OBJECT) {
            String want = target.getMatchingProperty();
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonLocation at = p.currentTokenLocation();
                JsonToken value = p.nextToken();
                if (name.equals(want)) {
                    return descend(p, value, target.tail(), at);
                }
                p.skipChildren();
            }
            return best;
        }
        if (current == JsonToken.START_ARRAY) {
            int want = target.getMatchingIndex();
            int i = 0;
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY && t != null) {
                if (i == want) {
                    return descend(p, t, target.tail(), p.currentTokenLocation());
                }
                p.skipChildren();
                i++;
            }
            return best;
        }
        return best;
    }

    private static String place(Path file, JsonLocation at) {
        if (at == null || at.getLineNr() <= 0) {
            return file.toString();
        }
        return file + ":" + at.getLineNr() + ":" + at.getColumnNr();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }

    /**
     * The whole file as a plain tree, for provenance.
     *
     * @return the parsed document as maps, lists and scalars
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> asMap() {
        return new ObjectMapper().convertValue(root, Map.class);
    }

    /**
     * A node that is present, or a missing node.
     *
     * @param pointer the pointer
     * @return whether the node at it is a non-null value
     */
    public boolean isSet(String pointer) {
        JsonNode n = root.at(pointer);
        return !(n instanceof MissingNode) && !n.isNull();
    }

    /**
     * The keys of a section, in file order.
     *
     * @param pointer the section
     * @return its keys (empty for a missing or non-mapping section)
     */
    public List<String> keys(String pointer) {
        List<String> out = new ArrayList<>();
        root.at(pointer).fieldNames().forEachRemaining(out::add);
        return out;
    }
}

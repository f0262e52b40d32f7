package io.distill4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class MlpPresetTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static Path models() {
        return Path.of(System.getProperty("distill4j.root", "../..")).resolve("models");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> read(Path p) throws IOException {
        return YAML.readValue(p.toFile(), Map.class);
    }

    @Test
    void everyMlpPresetParsesAndBuilds() throws IOException {
        List<Path> presets;
        try (Stream<Path> s = Files.list(models())) {
            presets = s.filter(p -> p.getFileName().toString().matches("mlp-.*\\.yaml")).sorted().toList();
        }
        assertEquals(List.of("mlp-digits-teacher.yaml", "mlp-digits.yaml", "mlp-mnist.yaml"),
                presets.stream().map(p -> p.getFileName().toString()).toList());
        for (Path p : presets) {
            MlpPreset.fromPreset(read(p), p.toString()).builder().build();
        }
        MlpPreset mnist = MlpPreset.fromPreset(read(models().resolve("mlp-mnist.yaml")), "mnist");
        assertEquals(new MlpPreset(784, List.of(512, 256), 10, 0f), mnist);
        try (Model m = Model.newInstance("mnist")) {
            m.setBlock(mnist.builder().build());
            m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, 784));
            long n = 0;
            for (Parameter p : m.getBlock().getParameters().values()) {
                n += p.getArray().size();
            }
            assertEquals(784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10, n);
        }
        assertEquals(new MlpPreset(64, List.of(64), 10, 0.2f),
                MlpPreset.fromPreset(read(models().resolve("mlp-digits.yaml")), "digits"));
    }

    @Test
    void badPresetsAndDataThatDoNotFitAreNamed() throws IOException {
        Map<String, Object> p = new HashMap<>(read(models().resolve("mlp-digits.yaml")));
        p.put("layers", 2);
        BadInputException e = assertThrows(BadInputException.class, () -> MlpPreset.fromPreset(p, "x.yaml"));
        assertEquals("x.yaml: unknown key 'layers' for model_type mlp (known: [dropout, hidden, inputs, model_type,"
                + " outputs])", e.getMessage());
        p.remove("layers");
        p.put("dropout", 1.5);
        e = assertThrows(BadInputException.class, () -> MlpPreset.fromPreset(p, "x.yaml"));
        assertEquals("x.yaml: dropout must be in [0, 1), got 1.5", e.getMessage());
        p.put("dropout", 0.1);
        p.put("hidden", List.of(64, "wide"));
        e = assertThrows(BadInputException.class, () -> MlpPreset.fromPreset(p, "x.yaml"));
        assertEquals("x.yaml: field hidden must be a list of integers, got [64, wide]", e.getMessage());
        p.remove("inputs");
        p.put("hidden", List.of(64));
        e = assertThrows(BadInputException.class, () -> MlpPreset.fromPreset(p, "x.yaml"));
        assertEquals("x.yaml: field inputs is missing", e.getMessage());
        MlpPreset digits = MlpPreset.fromPreset(read(models().resolve("mlp-digits.yaml")), "models/mlp-digits.yaml");
        e = assertThrows(BadInputException.class, () -> digits.checkFits("models/mlp-digits.yaml", "mnist", 784, 10));
        assertEquals("models/mlp-digits.yaml: the preset takes 64 inputs, but mnist has 784 features", e.getMessage());
        e = assertThrows(BadInputException.class, () -> digits.checkFits("models/mlp-digits.yaml", "iris", 64, 3));
        assertEquals("models/mlp-digits.yaml: the preset has 10 outputs, but iris has 3 classes", e.getMessage());
    }
}

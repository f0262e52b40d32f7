package io.distill4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;


import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class MlpPresetTest {
    static Path models() {
        return Path.of(System.getProperty("distill4j.root", "../..")).resolve("models");
    }

    static MlpPreset read(Path p) {
        return (MlpPreset) StudentPresets.read(p);
    }

    static String error(String yaml) {
        return assertThrows(BadInputException.class,
                () -> StudentPresets.read(io.distill4j.data.config.ConfigFile.parse(Path.of("x.yaml"), yaml), ""))
                .getMessage();
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
            read(p).builder().build();
        }
        MlpPreset mnist = read(models().resolve("mlp-mnist.yaml"));
        assertEquals(new MlpPreset(784, List.of(512, 256), 10, 0f), mnist);
        try (Model m = Model.newInstance("mnist")) {
            m.setBlock(mnist.build(784, 10));
            m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(1, 784));
            long n = 0;
            for (Parameter p : m.getBlock().getParameters().values()) {
                n += p.getArray().size();
            }
            assertEquals(784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10, n);
        }
        assertEquals(new MlpPreset(64, List.of(64), 10, 0.2f), read(models().resolve("mlp-digits.yaml")));
        assertEquals(new MlpPreset(0, List.of(32), 0, 0f), StudentPresets.read(io.distill4j.data.config.ConfigFile.parse(
                Path.of("x.yaml"), "model_type: mlp\nhidden: [32]"), ""), "inputs and outputs may be left to the data");
    }

    @Test
    void badPresetsAndDataThatDoNotFitAreNamed() {
        String digits = "model_type: mlp\ninputs: 64\nhidden: [64]\noutputs: 10\ndropout: 0.2\n";
        String e = error(digits + "layers: 2");
        assertTrue(e.startsWith("x.yaml:6:1: field layers: unknown key 'layers'; known keys: dropout, hidden, inputs,"
                + " outputs"), e);
        assertEquals("x.yaml:1:1: dropout must be in [0, 1), got 1.5", error(digits.replace("0.2", "1.5")));
        assertEquals("x.yaml:3:14: field hidden[1]: expected an integer, got 'wide'",
                error(digits.replace("[64]", "[64, wide]")));
        assertEquals("x.yaml:1:1: field model_type: unknown model_type 'mpl'; known: [gpt2, llama, mlp, ols]",
                error(digits.replace("mlp", "mpl")));
        assertEquals("x.yaml:1:1: field model_type: required; one of [gpt2, llama, mlp, ols]", error("hidden: [3]"));
        MlpPreset d = read(models().resolve("mlp-digits.yaml"));
        IllegalArgumentException f = assertThrows(IllegalArgumentException.class, () -> d.build(784, 10));
        assertEquals("the preset takes 64 inputs, but the data has 784 features (leave inputs out to take the data's)",
                f.getMessage());
        f = assertThrows(IllegalArgumentException.class, () -> d.build(64, 3));
        assertEquals("the preset has 10 outputs, but the loss needs 3 (leave outputs out to take the loss's)",
                f.getMessage());
    }
}

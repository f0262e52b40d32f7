package io.distill4j.pipeline;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Errors;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.models.StudentPreset;
import io.distill4j.models.StudentPresets;
import io.distill4j.trainer.Checkpoint;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A trained student on disk: {@code student.yaml} (its preset with {@code model_type}, inputs and outputs fixed,
 * enough to rebuild the block without the data), {@code parameters.params} (DJL's parameter format) and
 * {@code metrics.json} (its seed and evaluation). Every file is written to a temporary name, then renamed.
 */
public final class SavedStudent {

    /** The preset file. */
    public static final String PRESET = "student.yaml";
    /** The parameters file. */
    public static final String PARAMETERS = "parameters.params";
    /** The metrics file. */
    public static final String METRICS = "metrics.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SavedStudent() {
    }

    /**
     * Saves a trained student.
     *
     * @param dir the student's folder (created)
     * @param preset its complete preset
     * @param model the trained model
     * @param seed its seed
     * @param metrics its evaluation
     */
    public static void save(Path dir, StudentPreset preset, Model model, long seed, Map<String, Double> metrics) {
        try {
            Files.createDirectories(dir);
            AtomicFiles.write(dir.resolve(PRESET), io.distill4j.data.config.ConfigReader.toYaml(StudentPresets.toMap(preset))
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            AtomicFiles.write(dir.resolve(PARAMETERS), Checkpoint.parameterBytes(model.getBlock()));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seed", seed);
            m.put("metrics", metrics);
            AtomicFiles.write(dir.resolve(METRICS), JSON.writeValueAsBytes(m));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot save the student: " + Errors.reason(e), e);
        }
    }

    /**
     * The preset a saved student was built from.
     *
     * @param dir the student's folder
     * @return the preset, with inputs and outputs set
     */
    public static StudentPreset preset(Path dir) {
        return StudentPresets.read(ConfigFile.load(dir.resolve(PRESET)), "");
    }

    /**
     * Loads a saved student.
     *
     * @param dir the student's folder
     * @param device where it runs
     * @return the model, parameters loaded; the caller closes it
     * @throws BadInputException naming the file that is missing or damaged
     */
    public static Model load(Path dir, Device device) {
        StudentPreset preset = preset(dir);
        int inputs = preset.inputs();
        Block block = preset.build(inputs, preset.outputs());
        Model model = Model.newInstance(dir.getFileName().toString(), device);
        try {
            model.setBlock(block);
            block.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, inputs));
            Path params = dir.resolve(PARAMETERS);
            try (InputStream in = new BufferedInputStream(Files.newInputStream(params))) {
                Checkpoint.loadParameters(in, model.getNDManager(), block, params.toString());
            } catch (IOException e) {
                throw new BadInputException(params + ": cannot read the student's parameters: " + Errors.reason(e), e);
            }
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }
}

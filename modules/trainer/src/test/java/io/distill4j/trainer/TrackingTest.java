package io.distill4j.trainer;

import static io.distill4j.trainer.EngineFixtures.features;
import static io.distill4j.trainer.EngineFixtures.labels;
import static io.distill4j.trainer.EngineFixtures.mlp;
import static io.distill4j.trainer.EngineFixtures.oneHot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.SessionLog;
import org.tensorflow.proto.Summary;

/**
 * Run tracking read back: the JSONL file with Jackson, the TensorBoard event files with TensorFlow's own
 * {@code Event} protos and a TFRecord reader that checks both CRCs. {@code scripts/check-tracking.sh} reads the
 * same files with TensorBoard's {@code EventAccumulator} (set {@code -Ddistill4j.tracking.keep=DIR} to keep them).
 */
class TrackingTest {
    static final float[][] X = features(64, 5);
    static final int[] Y = labels(X);
    static final ObjectMapper JSON = new ObjectMapper();

    static TabularBatchSource source() {
        return new TabularBatchSource(X, oneHot(Y, 2), 16, ai.djl.Device.cpu());
    }

    /** 4 updates per epoch, 3 epochs; validation at each epoch end, checkpoints every 5 updates. */
    static TrainingSpec spec(Path runs, Path checkpoints) {
        return TrainingSpec.builder().setSeed(7).setEpochs(3).setLearningRate(0.01f).optLogEvery(0)
                .optProgressBar(false).optSchedule(LrSchedule.Kind.COSINE, 2).optCheckpoints(5, checkpoints, 0)
                .optTracking(Tracking.of(runs)).build();
    }

    static Validator validator() {
        int[] n = {0};
        return Validator.named("nll", m -> 1.0 / ++n[0]);
    }

    /** Every update and validation seen by a listener, to compare the files against. */
    static final class Seen implements FitListener {
        final Map<Long, StepMetrics> steps = new TreeMap<>();
        final Map<Long, Double> validations = new TreeMap<>();

        @Override
        public void onStep(FitContext fit, StepMetrics s) {
            steps.put(s.step(), s);
        }

        @Override
        public void onValidation(FitContext fit, Validation v) {
            validations.put(v.step(), v.value());
        }
    }

    static List<JsonNode> jsonl(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    static List<JsonNode> events(List<JsonNode> lines, String event) {
        return lines.stream().filter(n -> n.get("event").asText().equals(event)).toList();
    }

    /** Reads a TFRecord file, checking each record's two masked CRC-32C, as TensorFlow's record reader does. */
    static List<Event> readEvents(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> out = new ArrayList<>();
        while (b.hasRemaining()) {
            byte[] len = new byte[8];
            b.get(len);
            long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(TensorBoardTracker.maskedCrc(len, 0, 8), b.getInt(), "length CRC of record " + out.size());
            byte[] data = new byte[(int) n];
            b.get(data);
            assertEquals(TensorBoardTracker.maskedCrc(data, 0, data.length), b.getInt(), "data CRC of record " + out.size());
            out.add(Event.parseFrom(data));
        }
        return out;
    }

    static List<Path> eventFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(TensorBoardTracker.PREFIX)).sorted().toList();
        }
    }

    /** tag -> step -> value over the events. */
    static Map<String, Map<Long, Float>> scalars(List<Event> events) {
        Map<String, Map<Long, Float>> out = new TreeMap<>();
        for (Event e : events) {
            for (Summary.Value v : e.getSummary().getValueList()) {
                out.computeIfAbsent(v.getTag(), t -> new TreeMap<>()).put(e.getStep(), v.getSimpleValue());
            }
        }
        return out;
    }

    static Path keep(Path tmp) {
        String k = System.getProperty("distill4j.tracking.keep");
        return k == null ? tmp : Path.of(k);
    }

    @Test
    void aTrackedRunStreamsItsMetricsAsJsonlAndTensorBoardEvents(@TempDir Path tmp) throws IOException {
        Path root = keep(tmp).resolve("straight");
        Seen seen = new Seen();
        try (Model m = mlp("tracked seed/7", 8, 0.2f); TabularBatchSource s = source()) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec(root, tmp.resolve("ckpt")), validator(), seen);
        }
        Path run = root.resolve("tracked_seed_7");
        List<JsonNode> lines = jsonl(run.resolve(JsonlTracker.FILE));
        JsonNode begin = lines.get(0);
        assertEquals("begin", begin.get("event").asText());
        assertEquals("tracked seed/7", begin.get("model").asText());
        assertEquals(12, begin.get("total_steps").asLong());
        assertEquals("items", begin.get("unit").asText());
        assertEquals(7, begin.get("seed").asLong());
        List<JsonNode> steps = events(lines, "step");
        assertEquals(12, steps.size());
        for (JsonNode n : steps) {
            StepMetrics s = seen.steps.get(n.get("step").asLong());
            assertEquals(s.loss(), n.get("loss").asDouble(), 0);
            assertEquals(s.learningRate(), n.get("learning_rate").asDouble(), 0);
            assertTrue(s.gradNorm() > 0, "the trackers want the gradient norm");
            assertEquals(s.gradNorm(), n.get("grad_norm").asDouble(), 0);
            assertEquals(16, n.get("items").asInt());
            assertEquals(s.itemsPerSecond(), n.get("items_per_second").asDouble(), 0);
            assertEquals(s.epoch(), n.get("epoch").asInt());
            assertFalse(n.has("loss_scale"), "fp32");
        }
        List<JsonNode> validations = events(lines, "validation");
        assertEquals(List.of(4L, 8L, 12L), validations.stream().map(n -> n.get("step").asLong()).toList());
        assertEquals(List.of(1.0, 0.5, 1 / 3.0), validations.stream().map(n -> n.get("value").asDouble()).toList());
        assertEquals("nll", validations.get(0).get("metric").asText());
        assertEquals(List.of(5L, 10L, 12L), events(lines, "checkpoint").stream().map(n -> n.get("step").asLong()).toList());
        JsonNode end = lines.get(lines.size() - 1);
        assertEquals("end", end.get("event").asText());
        assertEquals("completed", end.get("status").asText());
        assertEquals(3, end.get("epochs").asInt());
        assertEquals(12, end.get("step").asLong());

        List<Path> files = eventFiles(run);
        assertEquals(1, files.size());
        List<Event> events = readEvents(files.get(0));
        assertEquals("brain.Event:2", events.get(0).getFileVersion());
        Map<String, Map<Long, Float>> tb = scalars(events);
        assertEquals(Set.of("train/loss", "train/learning_rate", "train/grad_norm", "train/items_per_second",
                "validation/nll"), tb.keySet());
        for (StepMetrics s : seen.steps.values()) {
            assertEquals((float) s.loss(), tb.get("train/loss").get(s.step()), 0f);
            assertEquals((float) s.learningRate(), tb.get("train/learning_rate").get(s.step()), 0f);
            assertEquals((float) s.gradNorm(), tb.get("train/grad_norm").get(s.step()), 0f);
        }
        assertEquals(Map.of(4L, 1f, 8L, 0.5f, 12L, 1 / 3f), tb.get("validation/nll"));
        writeExpected(keep(tmp), "straight", seen);
    }

    /**
     * A run killed after update 9 (its files hold updates 1 to 12 here, and a half-written last line) and resumed
     * from the checkpoint of update 5: the JSONL file keeps updates 1 to 5 and gets 6 to 12 again, equal to an
     * uninterrupted run's; the new event file starts with TensorFlow's restart marker at update 6.
     */
    @Test
    void aResumedRunReplacesWhatItsCheckpointHadNotReached(@TempDir Path tmp) throws IOException {
        Path root = keep(tmp).resolve("resumed");
        Path ckpt = tmp.resolve("ckpt");
        Seen first = new Seen();
        try (Model m = mlp("run", 8, 0.2f); TabularBatchSource s = source()) {
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec(root, ckpt), validator(), first);
        }
        Path run = root.resolve("run");
        Path metrics = run.resolve(JsonlTracker.FILE);
        Files.writeString(metrics, "{\"event\":\"step\",\"step\":13,\"lo", StandardOpenOption.APPEND);
        Seen second = new Seen();
        try (Model m = mlp("run", 8, 0.2f); TabularBatchSource s = source()) {
            int[] n = {0};
            double[] values = {1.0, 0.5, 1 / 3.0};
            TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(),
                    spec(root, ckpt).toBuilder().optResumeFrom(ckpt.resolve("step-000000005")).build(),
                    Validator.named("nll", x -> values[1 + n[0]++]), second);
        }
        List<JsonNode> lines = jsonl(metrics);
        assertEquals(List.of(0L, 5L), events(lines, "begin").stream().map(x -> x.get("step").asLong()).toList());
        List<JsonNode> steps = events(lines, "step");
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L),
                steps.stream().map(x -> x.get("step").asLong()).toList());
        for (JsonNode x : steps) {
            assertEquals(first.steps.get(x.get("step").asLong()).loss(), x.get("loss").asDouble(), 0,
                    "update " + x.get("step") + ": the resumed run takes the uninterrupted run's steps");
        }
        assertEquals(List.of(4L, 8L, 12L), events(lines, "validation").stream().map(x -> x.get("step").asLong()).toList());
        assertEquals(List.of(5L, 10L, 12L), events(lines, "checkpoint").stream().map(x -> x.get("step").asLong()).toList());
        assertEquals(1, events(lines, "end").size(), "the first run's end (step 12 > 5) is dropped");

        List<Path> files = eventFiles(run);
        assertEquals(2, files.size(), "a resumed run keeps the earlier event file");
        List<Event> resumed = readEvents(files.get(1));
        assertEquals(SessionLog.SessionStatus.START, resumed.get(1).getSessionLog().getStatus());
        assertEquals(6, resumed.get(1).getStep());
        assertEquals(List.of(6L, 7L, 8L, 9L, 10L, 11L, 12L),
                new ArrayList<>(scalars(resumed).get("train/loss").keySet()));
        writeExpected(keep(tmp), "resumed", first);
    }

    @Test
    void aFreshRunReplacesTheFilesOfAnEarlierRunOfTheSameModel(@TempDir Path tmp) throws IOException {
        TrainingSpec spec = TrainingSpec.builder().setSeed(3).optLogEvery(0).optProgressBar(false).optMaxSteps(2)
                .optTracking(new Tracking(tmp, 1, EnumSet.of(Tracking.Format.JSONL, Tracking.Format.TENSORBOARD)))
                .build();
        for (int i = 0; i < 2; i++) {
            try (Model m = mlp("again", 8, 0f); TabularBatchSource s = source()) {
                TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), spec);
            }
        }
        Path run = tmp.resolve("again");
        assertEquals(1, eventFiles(run).size());
        List<JsonNode> lines = jsonl(run.resolve(JsonlTracker.FILE));
        assertEquals(List.of("begin", "step", "step", "end"), lines.stream().map(n -> n.get("event").asText()).toList());
        assertEquals("completed", lines.get(3).get("status").asText(), "maxSteps ends a run as completed");
    }

    @Test
    void aTrackingFolderThatCannotBeWrittenIsNamedBeforeTheFirstUpdate(@TempDir Path tmp) throws IOException {
        Path notAFolder = Files.writeString(tmp.resolve("runs"), "a file");
        List<StepMetrics> steps = new ArrayList<>();
        try (Model m = mlp("blocked", 8, 0f); TabularBatchSource s = source()) {
            io.distill4j.data.BadInputException e = assertThrows(io.distill4j.data.BadInputException.class,
                    () -> TrainingEngine.fit(m, s, new SoftTargetCrossEntropyLoss(), TrainingSpec.builder()
                            .optProgressBar(false).optTracking(Tracking.of(notAFolder)).build(),
                            FitListener.onSteps(steps::add)));
            // the JDK's words differ by platform; on Linux: "FileSystemException .../runs/blocked: Not a directory"
            assertTrue(e.getMessage().startsWith(notAFolder.resolve("blocked").resolve(JsonlTracker.FILE)
                    + ": cannot write the tracked metrics here: "), e.getMessage());
        }
        assertEquals(List.of(), steps, "no update was made");
    }

    @Test
    void trackingSettingsAreValidatedAndNamesMadeSafe() {
        assertEquals(Path.of("t", "a_b_c"), Tracking.of(Path.of("t")).runDir("a/b c"));
        assertEquals(Path.of("t", "model"), Tracking.of(Path.of("t")).runDir(".."));
        assertEquals(EnumSet.allOf(Tracking.Format.class), Tracking.of(Path.of("t")).formats());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Tracking(Path.of("t"), 0, Set.of(Tracking.Format.JSONL)));
        assertEquals("tracking interval must be positive, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Tracking(Path.of("t"), 1, Set.of()));
        assertEquals("tracking needs at least one format of [JSONL, TENSORBOARD]", e.getMessage());
    }

    @Test
    void tfRecordFramingMatchesTensorFlowsKnownCrc() {
        // CRC-32C of "123456789" is 0xE3069283 (RFC 3720); TFRecord masks it: rotr15 + 0xa282ead8
        int crc = 0xE3069283;
        int masked = ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
        assertEquals(masked, TensorBoardTracker.maskedCrc("123456789".getBytes(StandardCharsets.US_ASCII), 0, 9));
        byte[] rec = TensorBoardTracker.record(new byte[] {1, 2, 3});
        assertEquals(8 + 4 + 3 + 4, rec.length);
        assertEquals(3, ByteBuffer.wrap(rec).order(ByteOrder.LITTLE_ENDIAN).getLong());
        assertEquals(List.of((byte) 1, (byte) 2, (byte) 3), List.of(rec[12], rec[13], rec[14]));
    }

    /** For scripts/check-tracking.sh: the losses and validations a listener saw, to compare with TensorBoard's reader. */
    static void writeExpected(Path dir, String name, Seen seen) throws IOException {
        if (System.getProperty("distill4j.tracking.keep") == null) {
            return;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Double> loss = new LinkedHashMap<>();
        seen.steps.forEach((k, v) -> loss.put(Long.toString(k), v.loss()));
        Map<String, Double> val = new LinkedHashMap<>();
        seen.validations.forEach((k, v) -> val.put(Long.toString(k), v));
        out.put("loss", loss);
        out.put("validation", val);
        Files.createDirectories(dir);
        JSON.writeValue(dir.resolve(name + "-expected.json").toFile(), out);
        assertTrue(Arrays.asList(dir.toFile().list()).contains(name + "-expected.json"));
    }
}

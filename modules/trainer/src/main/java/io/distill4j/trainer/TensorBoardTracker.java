package io.distill4j.trainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.SessionLog;
import org.tensorflow.proto.Summary;

/**
 * Writes a run's metrics as TensorBoard scalars into an event file {@code dir/events.out.tfevents.*}, the files
 * {@code tensorboard --logdir} reads: tags {@code train/loss}, {@code train/learning_rate},
 * {@code train/grad_norm} (when finite), {@code train/<unit>_per_second}, {@code train/loss_scale} (fp16) per
 * tracked update, and {@code validation/<metric>} per validation.
 *
 * <p>The events are TensorFlow's own protocol buffers ({@code tensorflow.Event}, {@code tensorflow.Summary})
 * from TensorFlow Java's generated classes (org.tensorflow:tensorflow-core-native, without TensorFlow's native
 * library), framed as TFRecords: length (8 bytes little-endian), its masked CRC-32C, the event, its masked
 * CRC-32C. Each event is written with one write. A fresh run removes the folder's earlier event files; a run
 * resumed from update S writes TensorFlow's restart marker ({@code SessionLog.START} at step S + 1), which makes
 * TensorBoard drop what an interrupted run wrote after its checkpoint. A folder that cannot be made or written
 * is a {@link io.distill4j.data.BadInputException} before the first update; a write that fails later an
 * {@link UncheckedIOException} naming the file.
 */
public final class TensorBoardTracker implements FitListener {

    /** The prefix of event file names; TensorBoard reads files whose name contains "tfevents". */
    public static final String PREFIX = "events.out.tfevents.";

    private static final AtomicInteger FILES = new AtomicInteger();

    private final Path dir;
    private final long every;
    private static final String WHAT = "the TensorBoard events";

    private Path file;
    private TrackingFile out;

    /**
     * A tracker writing into a folder.
     *
     * @param dir the folder (made if missing), one TensorBoard run
     * @param every write an update every this many updates (and at epoch ends and the last update)
     */
    public TensorBoardTracker(Path dir, long every) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.every = Tracking.checkEvery(every);
    }

    /** @return the event file of the current or last run, null before the first */
    public Path file() {
        return file;
    }

    @Override
    public boolean wantsGradNorm() {
        return true;
    }

    @Override
    public void onFitBegin(FitContext fit) {
        double now = System.currentTimeMillis() / 1000.0;
        file = dir.resolve(PREFIX + (long) now + "." + host() + "." + ProcessHandle.current().pid() + "."
                + FILES.incrementAndGet());
        try {
            Files.createDirectories(dir);
            if (fit.startStep() == 0) {
                try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, PREFIX + "*")) {
                    for (Path p : old) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException e) {
            throw TrackingFile.cannotOpen(file, WHAT, e);
        }
        out = TrackingFile.open(file, WHAT, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        write(Event.newBuilder().setWallTime(now).setFileVersion("brain.Event:2").build());
        if (fit.startStep() > 0) {
            write(Event.newBuilder().setWallTime(now).setStep(fit.startStep() + 1)
                    .setSessionLog(SessionLog.newBuilder().setStatus(SessionLog.SessionStatus.START)).build());
        }
    }

    @Override
    public void onStep(FitContext fit, StepMetrics s) {
        if (!Tracking.due(s, every)) {
            return;
        }
        Summary.Builder sb = Summary.newBuilder();
        add(sb, "train/loss", s.loss());
        add(sb, "train/learning_rate", s.learningRate());
        add(sb, "train/grad_norm", s.gradNorm());
        add(sb, "train/" + fit.unit() + "_per_second", s.itemsPerSecond());
        if (fit.spec().precision() == Precision.FP16) {
            add(sb, "train/loss_scale", s.lossScale());
        }
        write(event(s.step(), sb));
    }

    @Override
    public void onValidation(FitContext fit, Validation v) {
        Summary.Builder sb = Summary.newBuilder();
        add(sb, "validation/" + v.metric(), v.value());
        write(event(v.step(), sb));
    }

    @Override
    public void onFitEnd(FitContext fit, Throwable failure) {
        if (out != null) {
            TrackingFile f = out;
            out = null;
            f.close();
        }
    }

    private static Event event(long step, Summary.Builder summary) {
        return Event.newBuilder().setWallTime(System.currentTimeMillis() / 1000.0).setStep(step).setSummary(summary)
                .build();
    }

    private static void add(Summary.Builder sb, String tag, double value) {
        if (Double.isFinite(value)) {
            sb.addValue(Summary.Value.newBuilder().setTag(tag).setSimpleValue((float) value));
        }
    }

    private void write(Event event) {
        out.write(record(event.toByteArray()));
    }

    /**
     * Frames one record as TFRecord does (TensorFlow's {@code core/lib/io/record_writer.cc}).
     *
     * @param data the serialised event
     * @return length, masked CRC of the length, data, masked CRC of the data
     */
    static byte[] record(byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(data.length);
        b.putInt(maskedCrc(b.array(), 0, 8));
        b.put(data);
        b.putInt(maskedCrc(data, 0, data.length));
        return b.array();
    }

    /** TFRecord's masked CRC-32C: rotate right by 15 bits and add 0xa282ead8. */
    static int maskedCrc(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }

    private static String host() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            h = "localhost";
        }
        return h.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}

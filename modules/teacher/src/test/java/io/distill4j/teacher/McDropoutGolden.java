package io.distill4j.teacher;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.Rows;
import io.distill4j.models.Mlp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The MC-dropout golden fixture: the teacher of {@link #model()} sampled over {@link #features()} in batches of
 * {@link #BATCH}, as little-endian float32 values, item-major ({@code mc-dropout-golden/expected.f32}).
 *
 * <p>{@link #main} wrote the committed file once, with the unchunked sampler of commit 68c990a (one
 * {@code SplittableRandom} per batch, masks over the whole batch x k rows); {@code McDropoutChunkingTest} checks that
 * the chunked sampler still writes these values. Run it again only to regenerate on purpose:
 * {@code java -cp <test classpath> io.distill4j.teacher.McDropoutGolden <file>}.
 */
final class McDropoutGolden {

    /** Items sampled. */
    static final int ITEMS = 11;
    /** Input width. */
    static final int INPUTS = 5;
    /** Samples per item. */
    static final int K = 5;
    /** Classes. */
    static final int CLASSES = 3;
    /** Inputs per batch (the last batch holds 3). */
    static final int BATCH = 4;
    /** The sampling seed. */
    static final long SEED = 42;

    private McDropoutGolden() {
    }

    /** @return an MLP 5-12-7-3 with dropout 0.3 after each hidden layer (7: an odd width, so masks split a long) */
    static Model model() {
        return TestModels.fixedMlp(Mlp.builder().setInputs(INPUTS).setHidden(12, 7).setOutputs(CLASSES).optDropout(0.3f),
                INPUTS, 3);
    }

    /** @return the inputs */
    static float[][] features() {
        return TestModels.gaussian(ITEMS, INPUTS, 9);
    }

    /** @return the teacher over {@link #model()} */
    static McDropoutTeacher teacher(Model m) {
        return McDropoutTeacher.builder(m).setSamples(K).setWidth(CLASSES).optSeed(SEED).setDescription("mlp 5-12-7-3").build();
    }

    /**
     * Writes the fixture.
     *
     * @param args the output file
     * @throws IOException if it cannot be written
     */
    public static void main(String[] args) throws IOException {
        float[][] x = features();
        float[] all = new float[ITEMS * K * CLASSES];
        try (Model m = model(); NDManager mgr = NDManager.newBaseManager()) {
            McDropoutTeacher t = teacher(m);
            for (int start = 0; start < ITEMS; start += BATCH) {
                int end = Math.min(ITEMS, start + BATCH);
                float[] flat = Rows.flatten(Arrays.copyOfRange(x, start, end));
                float[] out = t.sample(mgr, mgr.create(flat, new Shape(end - start, INPUTS)), start).toFloatArray();
                System.arraycopy(out, 0, all, start * K * CLASSES, out.length);
            }
        }
        ByteBuffer b = ByteBuffer.allocate(all.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(all);
        Files.write(Path.of(args[0]), b.array());
    }
}

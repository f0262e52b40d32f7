package io.distill4j.trainer;

import ai.djl.Model;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes the golden files of {@code AdamWTest}'s state-format tests: the optimiser state (format 1) and the
 * parameters after two updates of {@link AdamWTest#linear()} with {@link AdamWTest}'s gradient pattern, and the
 * parameters' float bits after a third update. They were written by the per-parameter {@code AdamW} that
 * preceded the flat layout (commit a6dbc51), so that the tests show that today's {@code AdamW} writes the
 * same bytes and resumes from the old ones exactly. Run from the module directory after
 * {@code mvn -B -pl modules/trainer -am test-compile}:
 * {@code java -cp target/test-classes:target/classes:<test classpath> io.distill4j.trainer.AdamWStateFixture
 * src/test/resources/io/distill4j/trainer}.
 */
public final class AdamWStateFixture {

    /** Learning rates of the three updates. */
    static final float[] LRS = {AdamWTest.LR, AdamWTest.LR / 2, AdamWTest.LR * 3};
    /** Gradient rescale factors of the three updates. */
    static final float[] RESCALE = {1f, 0.25f, 2f};

    private AdamWStateFixture() {
    }

    /**
     * Writes the files.
     *
     * @param args the output directory
     * @throws IOException if writing fails
     */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        for (boolean host : new boolean[] {true, false}) {
            String pass = host ? "host" : "tensor";
            try (Model m = AdamWTest.linear();
                    AdamW opt = new AdamW(m.getNDManager(), m.getBlock().getParameters(), AdamWTest.WD, List.of("bias"),
                            AdamWTest.B1, AdamWTest.B2, AdamWTest.EPS)) {
                opt.hostPass(host);
                for (int t = 1; t <= 2; t++) {
                    AdamWTest.setGradients(m, t);
                    opt.update(LRS[t - 1], RESCALE[t - 1]);
                }
                ByteArrayOutputStream state = new ByteArrayOutputStream();
                opt.save(new DataOutputStream(state));
                Files.write(dir.resolve("adamw-v1-" + pass + "-state2.bin"), state.toByteArray());
                Files.write(dir.resolve("adamw-v1-" + pass + "-params2.bin"), Checkpoint.parameterBytes(m.getBlock()));
                AdamWTest.setGradients(m, 3);
                opt.update(LRS[2], RESCALE[2]);
                StringBuilder bits = new StringBuilder();
                for (float[] p : AdamWTest.values(m)) {
                    for (int j = 0; j < p.length; j++) {
                        bits.append(j == 0 ? "" : " ").append(String.format(Locale.ROOT, "%08x", Float.floatToRawIntBits(p[j])));
                    }
                    bits.append('\n');
                }
                Files.writeString(dir.resolve("adamw-v1-" + pass + "-params3.txt"), bits.toString(), StandardCharsets.US_ASCII);
            }
        }
    }
}

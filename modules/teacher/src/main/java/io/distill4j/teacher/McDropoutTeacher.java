package io.distill4j.teacher;



import io.distill4j.data.Seeds;
import io.distill4j.models.Inference;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import io.distill4j.data.TeacherCache;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * A teacher sampled by MC dropout (Gal &amp; Ghahramani 2016): each of the k samples of an input is one
 * forward pass with dropout active, mapped by the teacher's {@link TeacherOutput} (softmax with temperature for
 * classification, raw values for regression).
 *
 * <p>The k passes are fused: a batch of B inputs is repeated to (B * k) rows and run in one forward pass,
 * each row drawing its own dropout masks. For a {@link SequentialBlock} the children before the first
 * {@link Dropout} are identical in all k passes, so they run once on the B inputs and only their output
 * is repeated (for a 64-128-10 MLP this skips 15 of 16 first-layer products).
 *
 * <p>The dropout masks of the repeated rows are drawn in Java, not by libtorch's Bernoulli kernel, which
 * dominated the cost: inverted dropout as DJL's {@link Dropout} computes it (an element is kept with
 * probability 1 - p and scaled by 1 / (1 - p)), each keep decided by comparing 32 random bits with
 * round(p 2^32), from a {@link SplittableRandom} seeded by the seed and the batch's first item. A batch's
 * samples are therefore reproducible, on any platform. (Dropout layers whose rate cannot be read fall
 * back to DJL's own dropout, seeded through the engine.)
 */
public final class McDropoutTeacher implements Teacher {

    private final Model model;
    private final int k;
    private final int width;
    private final TeacherOutput output;
    private final long seed;
    private final String description;
    private final String weightsSha256;

    private McDropoutTeacher(Builder b) {
        this.k = io.distill4j.data.Require.positive("k", b.k);
        this.width = io.distill4j.data.Require.positive("width", b.width);
        this.model = b.model;
        this.output = Objects.requireNonNull(b.output, "output");
        this.seed = b.seed;
        this.description = Objects.requireNonNull(b.description, "description (setDescription)");
        this.weightsSha256 = Inference.weightsSha256(model);
    }

    /**
     * Starts an MC-dropout teacher.
     *
     * @param model a trained model whose block has dropout layers and maps (B, D) to (B, width)
     * @return a builder; set the samples, width and description
     */
    public static Builder builder(Model model) {
        return new Builder(Objects.requireNonNull(model, "model"));
    }

    /** Builds a {@link McDropoutTeacher}: {@code set*} values are required, {@code opt*} ones have defaults. */
    public static final class Builder {
        private final Model model;
        private int k;
        private int width;
        private TeacherOutput output = TeacherOutput.probabilities(1f);
        private long seed;
        private String description;

        private Builder(Model model) {
            this.model = model;
        }

        /**
         * Sets the samples (dropout passes) per input.
         *
         * @param samples k, positive
         * @return this builder
         */
        public Builder setSamples(int samples) {
            this.k = samples;
            return this;
        }

        /**
         * Sets the model's output width.
         *
         * @param outputs classes or outputs, positive
         * @return this builder
         */
        public Builder setWidth(int outputs) {
            this.width = outputs;
            return this;
        }

        /**
         * Sets the architecture's description, recorded in the cache's provenance.
         *
         * @param text e.g. {@code mlp 64-128-10 dropout 0.2}
         * @return this builder
         */
        public Builder setDescription(String text) {
            this.description = text;
            return this;
        }

        /**
         * Sets how raw outputs become samples (default: softmax probabilities at temperature 1).
         *
         * @param mapping the mapping
         * @return this builder
         */
        public Builder optOutput(TeacherOutput mapping) {
            this.output = mapping;
            return this;
        }

        /**
         * Sets the sampling seed (default 0).
         *
         * @param value the seed
         * @return this builder
         */
        public Builder optSeed(long value) {
            this.seed = value;
            return this;
        }

        /**
         * Builds the teacher.
         *
         * @return the teacher
         * @throws IllegalArgumentException if the samples or the width are not positive
         * @throws NullPointerException if the description is missing
         */
        public McDropoutTeacher build() {
            return new McDropoutTeacher(this);
        }
    }

    @Override
    public TeacherOutput output() {
        return output;
    }

    @Override
    public int k() {
        return k;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public Device device() {
        return model.getNDManager().getDevice();
    }

    @Override
    public Map<String, Object> provenance() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("name", "mc-dropout");
        p.put("architecture", description);
        p.put("k", k);
        p.put("seed", seed);
        p.putAll(output.describe());
        p.put("dropoutMasks", RATE != null ? "java SplittableRandom, 32-bit threshold" : "engine");
        p.put("weightsSha256", weightsSha256);
        p.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
        return p;
    }

    @Override
    public NDArray sample(NDManager manager, NDArray x, long firstItem) {
        long b = x.getShape().get(0);
        Engine.getInstance().setRandomSeed((int) Seeds.mix(seed, firstItem));
        SplittableRandom random = new SplittableRandom(Seeds.mix(seed, firstItem));
        Block block = model.getBlock();
        ParameterStore ps = new ParameterStore(x.getManager(), false);
        NDList h = new NDList(x);
        List<Block> rest = List.of(block);
        if (block instanceof SequentialBlock s) {
            List<Block> children = s.getChildren().values();
            int first = 0;
            while (first < children.size() && !(children.get(first) instanceof Dropout)) {
                first++;
            }
            if (first < children.size()) {
                for (int i = 0; i < first; i++) {
                    h = children.get(i).forward(ps, h, true);
                }
                rest = children.subList(first, children.size());
            }
        }
        h = new NDList(repeat(h.head(), b));
        for (Block child : rest) {
            float rate = child instanceof Dropout d ? rate(d) : -1;
            h = rate >= 0 ? new NDList(dropout(h.head(), rate, random)) : child.forward(ps, h, true);
        }
        NDArray raw = h.head();
        return output.apply(raw).reshape(b, k, raw.getShape().get(1));
    }

    private static final Field RATE = rateField();

    private static Field rateField() {
        try {
            Field f = Dropout.class.getDeclaredField("rate");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** @return the layer's dropout rate, or -1 if it cannot be read */
    private static float rate(Dropout d) {
        if (RATE == null) {
            return -1;
        }
        try {
            return RATE.getFloat(d);
        } catch (IllegalAccessException e) {
            return -1;
        }
    }

    /**
     * Inverted dropout with a Java-drawn mask: each element kept with probability 1 - p (32 random bits
     * at least round(p 2^32)) and scaled by 1 / (1 - p).
     *
     * @param h the activations
     * @param p the dropout rate, in [0, 1)
     * @param random the batch's generator
     * @return the masked activations, in {@code h}'s manager
     */
    static NDArray dropout(NDArray h, float p, SplittableRandom random) {
        if (p == 0) {
            return h;
        }
        long n = h.size();
        if (n > Integer.MAX_VALUE - 1) {
            throw new IllegalArgumentException("a dropout input of " + n + " elements is too large for one mask");
        }
        float[] mask = new float[(int) n];
        float keep = 1f / (1f - p);
        long threshold = Math.round(p * 4294967296.0);
        for (int i = 0; i < mask.length; i += 2) {
            long bits = random.nextLong();
            mask[i] = (bits & 0xFFFFFFFFL) >= threshold ? keep : 0f;
            if (i + 1 < mask.length) {
                mask[i + 1] = (bits >>> 32) >= threshold ? keep : 0f;
            }
        }
        return h.mul(h.getManager().create(mask, h.getShape()));
    }

    /** Repeats each row k times: (B, ...) to (B * k, ...), row i * k + j a copy of row i. */
    private NDArray repeat(NDArray a, long b) {
        long[] dims = a.getShape().getShape();
        long[] expanded = new long[dims.length + 1];
        long[] flat = dims.clone();
        expanded[0] = b;
        expanded[1] = k;
        System.arraycopy(dims, 1, expanded, 2, dims.length - 1);
        flat[0] = b * k;
        return a.expandDims(1).broadcast(new Shape(expanded)).reshape(new Shape(flat));
    }

    /**
     * Writes k samples for every input row into a cache directory, resuming after its last committed item.
     *
     * @param features the inputs, n rows
     * @param cacheDir the cache directory (created when missing)
     * @param batchSize inputs per forward pass, positive
     * @param progress told the number of items written after each batch
     * @return the cache, opened for reading
     */
    public TeacherCache sample(float[][] features, Path cacheDir, int batchSize, LongConsumer progress) {
        return TeacherSampler.fill(this, features, cacheDir, new TeacherSampler.Options(batchSize, 4096),
                (done, total) -> progress.accept(done));
    }
}

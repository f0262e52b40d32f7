package io.distill4j.teacher;



import io.distill4j.data.Seeds;
import io.distill4j.models.Inference;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.NativeArrays;
import java.lang.reflect.Field;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * round(p 2^32). The bits come from one stream per batch, {@code java.util.SplittableRandom} seeded by the seed and the
 * batch's first item: the first dropout layer's elements (row-major over the batch's B x k rows) take the low then the
 * high half of its first longs, the next layer continues the stream. Since SplittableRandom's n-th value is computable
 * directly, any slice of rows draws exactly the bits it would in one pass over the batch: the batch runs in chunks of
 * rows that fit a memory budget ({@link #sample(NDManager, float[][], int, int, long, SampleSink)}) and the samples are
 * bit-identical whatever the chunk size. Against releases that ran the batch in one pass they have the same masks;
 * the values match bit for bit where the batch held 4 or more inputs and to the last bit (about 6e-8) otherwise,
 * since matrix products now always get at least {@link #MIN_ROWS} rows (measured on the golden fixture). A batch's
 * samples are therefore reproducible, on any platform. (Dropout layers whose rate cannot be read fall
 * back to DJL's own dropout, seeded through the engine; such a block runs each batch in one pass.)
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
        long rows = b * k;
        NDArray raw = forwardRows(plan(x.getShape().get(1)), x, 0, Math.toIntExact(rows), rows, Seeds.mix(seed, firstItem));
        return raw.reshape(b, k, raw.getShape().get(1));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The batch's B x k rows are run in chunks of as many rows as {@code workingBytes} holds (at least one), each
     * chunk in its own sub-manager that is closed before the next; a chunk runs the layers before the first dropout
     * on just the inputs it needs. Each element's dropout mask is drawn from its position in the batch's random stream
     * (see the class comment), not from the chunk, so the samples are bit-identical to one pass over the whole batch
     * whatever the chunk size. A block this cannot be proven for (dropout or batch norm nested inside a child, a rate
     * that cannot be read, not a {@link SequentialBlock}) runs the whole batch at once, as before.
     */
    @Override
    public void sample(NDManager manager, float[][] features, int start, int end, long workingBytes, SampleSink sink) {
        sampleRows(manager, features, start, end, start, end, workingBytes, sink);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Only the wanted items' rows are run, in chunks as in {@link #sample(NDManager, float[][], int, int, long,
     * SampleSink)}: each element's mask comes from its position in the whole batch's stream, so the samples are
     * bit-identical to those items' part of a pass over the whole batch. A block that cannot be chunked samples the
     * whole batch and keeps the part (the interface's default).
     */
    @Override
    public void sampleRange(NDManager manager, float[][] features, int start, int end, int from, int to,
            long workingBytes, SampleSink sink) {
        Teacher.checkRange(start, end, from, to);
        if (!plan(features[start].length).chunkable) {
            Teacher.super.sampleRange(manager, features, start, end, from, to, workingBytes, sink);
            return;
        }
        sampleRows(manager, features, start, end, from, to, workingBytes, sink);
    }

    /** Samples the rows of items {@code [from, to)} of the batch {@code [start, end)}, in chunks. */
    private void sampleRows(NDManager manager, float[][] features, int start, int end, int from, int to,
            long workingBytes, SampleSink sink) {
        int b = end - start;
        int d = features[start].length;
        Plan plan = plan(d);
        long total = (long) b * k;
        long first = (long) (from - start) * k;
        long last = (long) (to - start) * k;
        long chunk = plan.chunkable ? Math.min(last - first, chunkRows(workingBytes, d)) : total;
        chunk = Math.min(chunk, Math.max(1, (Integer.MAX_VALUE - 1) / Math.max(plan.maxWidth, 1)));
        long seed0 = Seeds.mix(seed, start);
        float[] out = new float[Math.toIntExact(chunk * width)];
        for (long r0 = first; r0 < last; r0 += chunk) {
            int r = (int) Math.min(chunk, last - r0);
            int i0 = (int) (r0 / k);
            int i1 = (int) ((r0 + r - 1) / k);
            try (NDManager sub = manager.newSubManager()) {
                NDArray x = NativeArrays.rows(sub, features, start + i0, start + i1 + 1);
                NDArray o = forwardRows(plan, x, r0, r, total, seed0);
                if (o.getDataType() != DataType.FLOAT32) {
                    o = o.toType(DataType.FLOAT32, false);
                }
                o.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer().get(out, 0, r * width);
            }
            sink.accept(out, 0, r);
        }
    }

    /**
     * A chunk's working memory at most, whatever the budget: 1 MiB. Sampling digits' 64-128-10 teacher at k = 8,192
     * (256 items, {@code McDropoutThroughput}, five runs each) took 1.8 s in chunks of 300 rows (1 MiB) and 1.7-2.1 s
     * at 600 to 1,200 rows, against 2.6-3.5 s and about 10x the page faults in the 38,391-row chunks that a 128 MiB
     * working budget allowed: tensors of tens of MB are fresh memory from the kernel at every chunk and leave the
     * caches, small ones are reused.
     */
    static final long CHUNK_BYTES = 1L << 20;

    /** Rows a chunk gets at least (when the working memory allows), so that wide models still run real products. */
    static final int MIN_CHUNK_ROWS = 256;

    /**
     * How many repeated rows (input x sample) one chunk of {@link #sample(NDManager, float[][], int, int, long,
     * SampleSink)} runs: what {@code workingBytes} holds (at least one), but no more than {@link #CHUNK_BYTES} allow
     * ({@link #MIN_CHUNK_ROWS} at least). Chunking leaves the samples unchanged.
     *
     * @param workingBytes the working memory
     * @param inputWidth the inputs' width
     * @return rows per chunk, or {@code Long.MAX_VALUE} when this block cannot be chunked (a batch runs whole)
     */
    public long chunkRows(long workingBytes, int inputWidth) {
        Plan plan = plan(inputWidth);
        if (!plan.chunkable) {
            return Long.MAX_VALUE;
        }
        long fits = Math.max(1, workingBytes / plan.rowBytes);
        return Math.min(fits, Math.max(MIN_CHUNK_ROWS, CHUNK_BYTES / plan.rowBytes));
    }

    /** @return one row's working memory when chunking works, else the whole batch's */
    @Override
    public long minimumWorkingBytes(int batchSize, int inputWidth) {
        Plan plan = plan(inputWidth);
        return plan.chunkable ? plan.rowBytes : (long) batchSize * k * plan.rowBytes;
    }

    /**
     * How a block is run: the children before the first dropout (run once per input), the rest (run per repeated row),
     * whether chunking provably leaves the samples unchanged, and a row's working memory.
     *
     * @param prefix children run on the inputs
     * @param rest children run on the B x k repeated rows
     * @param chunkable whether rows can be split into chunks bit-identically
     * @param rowBytes estimated bytes per repeated row: every child's output and each mask, twice for safety, plus an
     *     input and the row's output copied out
     * @param maxWidth the widest activation
     */
    private record Plan(List<Block> prefix, List<Block> rest, boolean chunkable, long rowBytes, long maxWidth) {
    }

    private Plan plan;
    private long planInputs = -1;

    private Plan plan(long inputs) {
        if (plan != null && planInputs == inputs) {
            return plan;
        }
        Block block = model.getBlock();
        List<Block> prefix = List.of();
        List<Block> rest = List.of(block);
        boolean chunkable = false;
        if (block instanceof SequentialBlock s) {
            List<Block> children = s.getChildren().values();
            int first = 0;
            while (first < children.size() && !(children.get(first) instanceof Dropout)) {
                first++;
            }
            if (first < children.size()) {
                prefix = children.subList(0, first);
                rest = children.subList(first, children.size());
                chunkable = true;
                for (Block c : children) {
                    boolean ok = c instanceof Dropout d ? rate(d) >= 0 : !(c instanceof BatchNorm) && !random(c);
                    chunkable &= ok;
                }
            }
        }
        long sum = 0;
        long max = inputs;
        try (NDManager probe = NDManager.newBaseManager(device())) {
            ParameterStore ps = new ParameterStore(probe, false);
            NDList h = new NDList(probe.zeros(new Shape(1, inputs)));
            List<Block> all = new java.util.ArrayList<>(prefix);
            all.addAll(rest);
            for (Block c : all) {
                h = c.forward(ps, h, false);
                sum += h.head().size();
                max = Math.max(max, h.head().size());
            }
        }
        plan = new Plan(prefix, rest, chunkable, 4L * (inputs + 2 + 2 * sum + 2L * width), max);
        planInputs = inputs;
        return plan;
    }

    /** @return whether a block holds a dropout or batch-norm layer below it (its own randomness or batch statistics) */
    private static boolean random(Block b) {
        for (Block c : b.getChildren().values()) {
            if (c instanceof Dropout || c instanceof BatchNorm || random(c)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs rows {@code r0 .. r0 + r - 1} of a batch's B x k repeated rows (row i * k + j: input i's sample j).
     *
     * @param plan the block's plan
     * @param items the inputs those rows repeat: items {@code r0 / k} onwards of the batch
     * @param r0 the first row
     * @param r the number of rows
     * @param total B x k
     * @param seed0 the batch's seed
     * @return the outputs, (r, width)
     */
    private NDArray forwardRows(Plan plan, NDArray items, long r0, int r, long total, long seed0) {
        NDManager m = items.getManager();
        ParameterStore ps = new ParameterStore(m, false);
        long n = items.getShape().get(0);
        NDList h = new NDList(n >= MIN_ROWS ? items : items.get(indices(m, MIN_ROWS, q -> Math.min(q, n - 1))));
        for (Block c : plan.prefix) {
            h = c.forward(ps, h, true);
        }
        long i0 = r0 / k;
        int rp = Math.max(r, MIN_ROWS);
        NDArray a = h.head().get(indices(m, rp, q -> (r0 + Math.min(q, r - 1)) / k - i0));
        if (!plan.chunkable) {
            Engine.getInstance().setRandomSeed((int) seed0);
        }
        long used = 0;
        for (Block c : plan.rest) {
            float p = c instanceof Dropout d ? rate(d) : -1;
            if (p > 0) {
                long w = a.size() / rp;
                a = a.mul(mask(m, a.getShape(), p, seed0, used, r0 * w));
                used += (total * w + 1) / 2;
            } else if (p < 0) {
                a = c.forward(ps, new NDList(a), true).head();
            }
        }
        NDArray out = output.apply(a);
        return rp == r ? out : out.get("0:" + r);
    }

    /**
     * Matrix products of fewer than 4 rows take other kernels than larger ones and differ in the last bits (measured
     * with libtorch 2.7.1 on x86-64: rows of a product with 4 or more rows equal those of the whole batch, with 1 to 3
     * they do not). Every product therefore gets at least this many rows, padded with copies of the last one.
     */
    static final int MIN_ROWS = 8;

    /**
     * An int64 index array written straight into engine-owned memory ({@link NativeArrays}): a {@code long[]} per
     * chunk (8 bytes per sampled row) was most of a sampling run's heap garbage.
     *
     * @param m the array's manager
     * @param n its length
     * @param value element q's value
     * @return the array
     */
    private static NDArray indices(NDManager m, int n, java.util.function.IntToLongFunction value) {
        return NativeArrays.create(m, new Shape(n), DataType.INT64, b -> {
            LongBuffer index = b.asLongBuffer();
            for (int q = 0; q < n; q++) {
                index.put(q, value.applyAsLong(q));
            }
        });
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

    /** SplittableRandom's step (its golden gamma). */
    private static final long GAMMA = 0x9e3779b97f4a7c15L;

    /**
     * The {@code index}-th long (from 0) that {@code new SplittableRandom(seed).nextLong()} returns, in O(1):
     * SplittableRandom is SplitMix64, whose state after n calls is {@code seed + n * gamma}.
     *
     * @param seed the generator's seed
     * @param index the call's position
     * @return the random bits
     */
    static long nthLong(long seed, long index) {
        long z = seed + (index + 1) * GAMMA;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /**
     * An inverted-dropout mask for a slice of a layer's activations: element e of the layer (row-major over all the
     * batch's repeated rows) is kept, as 1 / (1 - p), when its 32 random bits are at least round(p 2^32), else 0;
     * its bits are the low (e even) or high (e odd) half of long {@code firstLong + e / 2} of the batch's stream.
     *
     * @param m the manager of the mask
     * @param shape the slice's shape
     * @param p the dropout rate, in (0, 1)
     * @param seed0 the batch's seed
     * @param firstLong the layer's first long in the stream (longs used by earlier dropout layers)
     * @param firstElement the slice's first element in the layer
     * @return the mask, float32
     */
    static NDArray mask(NDManager m, Shape shape, float p, long seed0, long firstLong, long firstElement) {
        long size = shape.size();
        if (size > Integer.MAX_VALUE - 1) {
            throw new IllegalArgumentException("a dropout input of " + size + " elements is too large for one mask");
        }
        int n = (int) size;
        float keep = 1f / (1f - p);
        long threshold = Math.round(p * 4294967296.0);
        return NativeArrays.create(m, shape, DataType.FLOAT32, b -> {
            FloatBuffer dst = b.asFloatBuffer();
            long g = firstElement;
            int e = 0;
            if ((g & 1) == 1 && n > 0) {
                long bits = nthLong(seed0, firstLong + g / 2);
                dst.put(e++, (bits >>> 32) >= threshold ? keep : 0f);
                g++;
            }
            for (; e + 1 < n; e += 2, g += 2) {
                long bits = nthLong(seed0, firstLong + g / 2);
                dst.put(e, (bits & 0xFFFFFFFFL) >= threshold ? keep : 0f);
                dst.put(e + 1, (bits >>> 32) >= threshold ? keep : 0f);
            }
            if (e < n) {
                long bits = nthLong(seed0, firstLong + g / 2);
                dst.put(e, (bits & 0xFFFFFFFFL) >= threshold ? keep : 0f);
            }
        });
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

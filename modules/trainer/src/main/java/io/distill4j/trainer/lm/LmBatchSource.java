package io.distill4j.trainer.lm;


import io.distill4j.models.lm.LmExample;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.distill4j.trainer.MicroBatch;
import io.distill4j.trainer.BatchSource;
import io.distill4j.trainer.StudentProbe;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Fine-tuning examples as the {@link io.distill4j.trainer.TrainingEngine}'s micro-batches: the examples are
 * grouped into rows once ({@link SequencePacker#rows}, packed or one per row), and every epoch visits the rows
 * in a permutation drawn from (seed, epoch), {@code rowsPerBatch} rows per micro-batch. The row count, and
 * so the micro-batches per epoch, is the same in every epoch, and micro-batch i of an epoch is always the
 * same rows: a run resumed from a checkpoint continues with exactly the data of an uninterrupted run.
 *
 * <p>The examples are either in memory (laid out once) or {@link CachedExamples} left in the sequence cache:
 * then the source holds only the row grouping (from the examples' lengths) and reads the rows of the next
 * micro-batches from the cache's shards, a window of whole micro-batches of about {@value #WINDOW_BYTES} bytes
 * of row arrays at a time (each shard decompressed at most once per window), so memory does not grow with the
 * cache. Both give the same micro-batches, array for array.
 *
 * <p>A batch's inputs are [ids, segments, positions], its labels those of {@link AnswerLoss}, and its size
 * the number of non-padding tokens (so the engine's items/s are tokens/s). With gradient accumulation over
 * G micro-batches the labels carry {@link AnswerLoss}'s normaliser N_g / G, N_g being the answer tokens of
 * the whole group, so that an update is the token mean over the group exactly as one batch of all its rows
 * would be.
 */
public final class LmBatchSource implements BatchSource {

    /** The row arrays a streamed source builds ahead, about 16 MiB. */
    public static final long WINDOW_BYTES = 16L << 20;

    private final List<SequencePacker.Batch> laidOut;
    private final CachedExamples cached;
    private final List<int[]> grouping;
    private final boolean withTeacher;
    private final int batchesPerWindow;
    private final int[] answerTokensOfRow;
    private final int rowCount;
    private final int rowsPerBatch;
    private final int context;
    private final int accumulation;
    private final int perEpoch;
    private long cachedSeed;
    private int cachedEpoch = -1;
    private int[] cachedOrder;
    private long windowSeed;
    private int windowEpoch = -1;
    private int windowIndex = -1;
    private Map<Integer, SequencePacker.Batch> window = Map.of();
    private long lastSeed;
    private int lastEpoch = -1;
    private int lastIndex = -1;
    private long answerTokens;
    private int truncated;

    /**
     * Lays out the rows of examples in memory.
     *
     * @param examples the examples (ids already checked against the model)
     * @param context T, the row length
     * @param rowsPerBatch B, rows per micro-batch
     * @param packing pack several examples per row, else one per row
     * @param withTeacher include the teacher's top-K arrays (token-level distillation)
     * @param accumulationSteps micro-batches per optimiser update (as the engine's spec says)
     * @throws IllegalArgumentException if there are no examples, or a size is not positive
     */
    public LmBatchSource(List<LmExample> examples, int context, int rowsPerBatch, boolean packing,
            boolean withTeacher, int accumulationSteps) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("no examples");
        }
        checkSizes(rowsPerBatch, accumulationSteps);
        this.laidOut = SequencePacker.layout(examples, context, 1, packing, withTeacher);
        this.cached = null;
        this.grouping = null;
        this.withTeacher = withTeacher;
        this.batchesPerWindow = 0;
        this.rowCount = laidOut.size();
        this.answerTokensOfRow = new int[rowCount];
        for (int i = 0; i < rowCount; i++) {
            answerTokensOfRow[i] = laidOut.get(i).answerTokens();
        }
        this.rowsPerBatch = rowsPerBatch;
        this.context = context;
        this.accumulation = accumulationSteps;
        this.perEpoch = (rowCount + rowsPerBatch - 1) / rowsPerBatch;
    }

    /**
     * Streams the rows of examples left in a sequence cache, {@value #WINDOW_BYTES} bytes of rows ahead.
     *
     * @param examples the examples (ids already checked against the model)
     * @param context T, the row length
     * @param rowsPerBatch B, rows per micro-batch
     * @param packing pack several examples per row, else one per row
     * @param accumulationSteps micro-batches per optimiser update (as the engine's spec says)
     * @throws IllegalArgumentException if there are no examples, or a size is not positive
     */
    public LmBatchSource(CachedExamples examples, int context, int rowsPerBatch, boolean packing,
            int accumulationSteps) {
        this(examples, context, rowsPerBatch, packing, accumulationSteps, WINDOW_BYTES);
    }

    /**
     * Streams the rows of examples left in a sequence cache.
     *
     * @param examples the examples (ids already checked against the model)
     * @param context T, the row length, at least 2
     * @param rowsPerBatch B, rows per micro-batch
     * @param packing pack several examples per row, else one per row
     * @param accumulationSteps micro-batches per optimiser update (as the engine's spec says)
     * @param windowBytes the row arrays to build ahead (at least one micro-batch is)
     * @throws IllegalArgumentException if there are no examples, or a size is not positive
     */
    public LmBatchSource(CachedExamples examples, int context, int rowsPerBatch, boolean packing,
            int accumulationSteps, long windowBytes) {
        if (examples.size() == 0) {
            throw new IllegalArgumentException("no examples");
        }
        if (context < 2) {
            throw new IllegalArgumentException("context must be at least 2, got " + context);
        }
        checkSizes(rowsPerBatch, accumulationSteps);
        this.laidOut = null;
        this.cached = examples;
        this.withTeacher = examples.withTeacher();
        int[] lengths = examples.lengths();
        int[] prompts = examples.promptLengths();
        this.grouping = SequencePacker.rows(lengths, context, packing);
        this.rowCount = grouping.size();
        this.answerTokensOfRow = new int[rowCount];
        for (int r = 0; r < rowCount; r++) {
            int[] row = grouping.get(r);
            int[] p = new int[row.length];
            int[] len = new int[row.length];
            for (int i = 0; i < row.length; i++) {
                p[i] = prompts[row[i]];
                len[i] = lengths[row[i]];
            }
            answerTokensOfRow[r] = SequencePacker.answerTokens(p, len, context);
        }
        int topK = withTeacher ? examples.topK() : 0;
        // a row's arrays: ids, segments, positions, targets (int64), weights (float32); with the teacher also
        // top-K ids (int64) and log-probabilities (float32) and the tail (float32)
        long rowBytes = (long) context * (36 + (withTeacher ? 12L * topK + 4 : 0));
        this.batchesPerWindow = (int) Math.max(1, Math.min(Integer.MAX_VALUE, windowBytes / (rowBytes * rowsPerBatch)));
        this.rowsPerBatch = rowsPerBatch;
        this.context = context;
        this.accumulation = accumulationSteps;
        this.perEpoch = (rowCount + rowsPerBatch - 1) / rowsPerBatch;
    }

    private static void checkSizes(int rowsPerBatch, int accumulationSteps) {
        if (rowsPerBatch <= 0 || accumulationSteps <= 0) {
            throw new IllegalArgumentException("rows per batch and accumulation steps must be positive, got "
                    + rowsPerBatch + " and " + accumulationSteps);
        }
    }

    /** @return the rows of one epoch */
    public int rows() {
        return rowCount;
    }

    @Override
    public int batchesPerEpoch() {
        return perEpoch;
    }

    @Override
    public Shape[] inputShapes() {
        Shape s = new Shape(rowsPerBatch, context);
        return new Shape[] {s, s, s};
    }

    /**
     * The order in which an epoch visits the rows.
     *
     * @param seed the run's seed
     * @param epoch the epoch
     * @return a permutation of the row indices
     */
    public int[] order(long seed, int epoch) {
        if (cachedOrder == null || cachedSeed != seed || cachedEpoch != epoch) {
            List<Integer> idx = new ArrayList<>(rowCount);
            for (int i = 0; i < rowCount; i++) {
                idx.add(i);
            }
            Collections.shuffle(idx, new Random(seed * 1_000_003L + epoch));
            cachedOrder = idx.stream().mapToInt(Integer::intValue).toArray();
            cachedSeed = seed;
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }

    /**
     * The rows of one micro-batch, in the order of {@link #order}.
     *
     * @param seed the run's seed
     * @param epoch the epoch
     * @param index the micro-batch
     * @return the row indices
     */
    public int[] rowsOf(long seed, int epoch, int index) {
        int[] order = order(seed, epoch);
        int from = index * rowsPerBatch;
        int to = Math.min(order.length, from + rowsPerBatch);
        int[] out = new int[to - from];
        System.arraycopy(order, from, out, 0, out.length);
        return out;
    }

    /**
     * Lays out one micro-batch as plain arrays.
     *
     * @param seed the run's seed
     * @param epoch the epoch
     * @param index the micro-batch
     * @return the batch
     */
    public SequencePacker.Batch layout(long seed, int epoch, int index) {
        List<SequencePacker.Batch> parts = new ArrayList<>(rowsPerBatch);
        for (int r : rowsOf(seed, epoch, index)) {
            parts.add(laidOut != null ? laidOut.get(r) : streamed(seed, epoch, index, r));
        }
        return SequencePacker.concat(parts);
    }

    /** A row of a streamed source, from the window of micro-batches holding micro-batch {@code index}. */
    private SequencePacker.Batch streamed(long seed, int epoch, int index, int row) {
        int w = index / batchesPerWindow;
        if (w != windowIndex || seed != windowSeed || epoch != windowEpoch) {
            window = Map.of(); // let the last window go before reading the next
            int[] order = order(seed, epoch);
            int from = w * batchesPerWindow * rowsPerBatch;
            int to = (int) Math.min(order.length, (long) (w + 1) * batchesPerWindow * rowsPerBatch);
            int examples = 0;
            for (int i = from; i < to; i++) {
                examples += grouping.get(order[i]).length;
            }
            int[] wanted = new int[examples];
            int at = 0;
            for (int i = from; i < to; i++) {
                for (int e : grouping.get(order[i])) {
                    wanted[at++] = e;
                }
            }
            List<LmExample> read = cached.read(wanted);
            Map<Integer, SequencePacker.Batch> built = new HashMap<>();
            at = 0;
            for (int i = from; i < to; i++) {
                int n = grouping.get(order[i]).length;
                // the row's examples fit one row (the grouping said so): laid out alone they are that row
                List<SequencePacker.Batch> one = SequencePacker.layout(read.subList(at, at + n), context, 1, true,
                        withTeacher);
                if (one.size() != 1 || one.get(0).rows() != 1) {
                    throw new IllegalStateException("row " + order[i] + " laid out as " + one.size() + " batches");
                }
                built.put(order[i], one.get(0));
                at += n;
            }
            window = built;
            windowIndex = w;
            windowSeed = seed;
            windowEpoch = epoch;
        }
        SequencePacker.Batch b = window.get(row);
        if (b == null) {
            throw new IllegalStateException("row " + row + " is not in window " + w);
        }
        return b;
    }

    /** @return "tokens": a micro-batch's size is its non-padding tokens */
    @Override
    public String unit() {
        return "tokens";
    }

    @Override
    public MicroBatch batch(NDManager manager, long seed, int epoch, int index, StudentProbe student) {
        if (index < 0 || index >= perEpoch) {
            throw new IllegalArgumentException("micro-batch " + index + " of " + perEpoch);
        }
        SequencePacker.Batch b = layout(seed, epoch, index);
        NDList labels = b.labels(manager);
        if (accumulation > 1) {
            int first = index / accumulation * accumulation;
            int last = Math.min(perEpoch, first + accumulation);
            long tokens = 0;
            for (int i = first; i < last; i++) {
                for (int r : rowsOf(seed, epoch, i)) {
                    tokens += answerTokensOfRow[r];
                }
            }
            float normaliser = tokens == 0 ? 1f : (float) ((double) tokens / (last - first));
            labels.add(manager.create(normaliser));
        }
        // the engine builds the first micro-batch twice (a check without gradients, then the step)
        if (seed != lastSeed || epoch != lastEpoch || index != lastIndex) {
            answerTokens += b.answerTokens();
            truncated += b.truncated();
            lastSeed = seed;
            lastEpoch = epoch;
            lastIndex = index;
        }
        return new MicroBatch(b.inputs(manager), labels, Math.max(1, b.tokens()));
    }

    /** @return answer tokens of the distinct micro-batches built so far */
    public long answerTokensServed() {
        return answerTokens;
    }

    /** @return examples cut to the context among the distinct micro-batches built so far */
    public int truncatedServed() {
        return truncated;
    }
}

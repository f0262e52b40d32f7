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
import java.util.List;
import java.util.Random;

/**
 * Fine-tuning examples as the {@link io.distill4j.trainer.TrainingEngine}'s micro-batches: the examples are
 * laid out into rows once ({@link SequencePacker}, packed or one per row), and every epoch visits the rows
 * in a permutation drawn from (seed, epoch), {@code rowsPerBatch} rows per micro-batch. The row count, and
 * so the micro-batches per epoch, is the same in every epoch, and micro-batch i of an epoch is always the
 * same rows: a run resumed from a checkpoint continues with exactly the data of an uninterrupted run.
 *
 * <p>A batch's inputs are [ids, segments, positions], its labels those of {@link AnswerLoss}, and its size
 * the number of non-padding tokens (so the engine's items/s are tokens/s). With gradient accumulation over
 * G micro-batches the labels carry {@link AnswerLoss}'s normaliser N_g / G, N_g being the answer tokens of
 * the whole group, so that an update is the token mean over the group exactly as one batch of all its rows
 * would be.
 */
public final class LmBatchSource implements BatchSource {

    private final List<SequencePacker.Batch> rows;
    private final int[] answerTokensOfRow;
    private final int rowsPerBatch;
    private final int context;
    private final int accumulation;
    private final int perEpoch;
    private long cachedSeed;
    private int cachedEpoch = -1;
    private int[] cachedOrder;
    private long lastSeed;
    private int lastEpoch = -1;
    private int lastIndex = -1;
    private long answerTokens;
    private int truncated;

    /**
     * Lays out the rows.
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
        if (rowsPerBatch <= 0 || accumulationSteps <= 0) {
            throw new IllegalArgumentException("rows per batch and accumulation steps must be positive, got "
                    + rowsPerBatch + " and " + accumulationSteps);
        }
        this.rows = SequencePacker.layout(examples, context, 1, packing, withTeacher);
        this.answerTokensOfRow = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            answerTokensOfRow[i] = rows.get(i).answerTokens();
        }
        this.rowsPerBatch = rowsPerBatch;
        this.context = context;
        this.accumulation = accumulationSteps;
        this.perEpoch = (rows.size() + rowsPerBatch - 1) / rowsPerBatch;
    }

    /** @return the rows of one epoch */
    public int rows() {
        return rows.size();
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
            List<Integer> idx = new ArrayList<>(rows.size());
            for (int i = 0; i < rows.size(); i++) {
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
            parts.add(rows.get(r));
        }
        return SequencePacker.concat(parts);
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

package io.distill4j.trainer.lm;

import ai.djl.ndarray.NDManager;
import io.distill4j.data.TabularData;
import io.distill4j.models.lm.LmExample;
import io.distill4j.trainer.BatchSource;
import io.distill4j.trainer.MicroBatch;
import io.distill4j.trainer.StudentProbe;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generalised knowledge distillation as training data for the engine: each micro-batch is {@code promptsPerBatch}
 * prompts (with their off-policy responses) in a permutation drawn from (seed, epoch), built by
 * {@link OnPolicyBatches} with the student's current weights (on-policy batches are sampled at the time the
 * batch is asked for), for the loss {@link OnPolicyBatches#loss()}. The on/off-policy draw and the sampling use a
 * random source seeded from (seed, epoch, index), so a batch is the same given the same student weights: a
 * resumed run draws what the uninterrupted one would have.
 */
public final class OnPolicyBatchSource implements BatchSource {
    private final OnPolicyBatches batches;
    private final List<LmExample> examples;
    private final CachedExamples cached;
    private final int count;
    private final int promptsPerBatch;
    private final int perEpoch;
    private int[] order;
    private long orderSeed;
    private int orderEpoch = -1;

    /**
     * Creates the source.
     *
     * @param batches what builds the batches (student, teacher, settings)
     * @param examples prompts with off-policy responses (for example the teacher's cached samples), not empty
     * @param promptsPerBatch prompts per micro-batch, positive (each gives k rows on on-policy batches)
     * @throws IllegalArgumentException if there are no examples or the batch size is not positive
     */
    public OnPolicyBatchSource(OnPolicyBatches batches, List<LmExample> examples, int promptsPerBatch) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("no prompts to distill on");
        }
        if (promptsPerBatch <= 0) {
            throw new IllegalArgumentException("prompts per batch must be positive, got " + promptsPerBatch);
        }
        this.batches = batches;
        this.examples = List.copyOf(examples);
        this.cached = null;
        this.count = examples.size();
        this.promptsPerBatch = promptsPerBatch;
        this.perEpoch = (count + promptsPerBatch - 1) / promptsPerBatch;
    }

    /**
     * Creates the source over prompts left in a sequence cache: each micro-batch reads its prompts and off-policy
     * responses from the cache's shards when it is built, so memory does not grow with the cache.
     *
     * @param batches what builds the batches (student, teacher, settings)
     * @param examples prompts with off-policy responses in the cache, not empty
     * @param promptsPerBatch prompts per micro-batch, positive
     * @throws IllegalArgumentException if there are no examples or the batch size is not positive
     */
    public OnPolicyBatchSource(OnPolicyBatches batches, CachedExamples examples, int promptsPerBatch) {
        if (examples.size() == 0) {
            throw new IllegalArgumentException("no prompts to distill on");
        }
        if (promptsPerBatch <= 0) {
            throw new IllegalArgumentException("prompts per batch must be positive, got " + promptsPerBatch);
        }
        this.batches = batches;
        this.examples = null;
        this.cached = examples;
        this.count = examples.size();
        this.promptsPerBatch = promptsPerBatch;
        this.perEpoch = (count + promptsPerBatch - 1) / promptsPerBatch;
    }

    @Override
    public int batchesPerEpoch() {
        return perEpoch;
    }

    @Override
    public String unit() {
        return "tokens";
    }

    @Override
    public MicroBatch batch(NDManager manager, long seed, int epoch, int index, StudentProbe student) {
        if (order == null || orderSeed != seed || orderEpoch != epoch) {
            order = TabularData.permutation(count, seed * 1_000_003L + epoch);
            orderSeed = seed;
            orderEpoch = epoch;
        }
        int from = index * promptsPerBatch;
        int[] rows = java.util.Arrays.copyOfRange(order, from, Math.min(count, from + promptsPerBatch));
        List<LmExample> picked;
        if (cached != null) {
            picked = cached.read(rows);
        } else {
            picked = new ArrayList<>(rows.length);
            for (int r : rows) {
                picked.add(examples.get(r));
            }
        }
        Random random = new Random((seed * 1_000_003L + epoch) * 1_000_033L + index);
        return batches.build(manager, picked, random).batch();
    }
}

package io.distill4j.trainer.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;
import io.distill4j.loss.GeneralizedJsdLoss;
import io.distill4j.loss.InverseVarianceWeightedLoss;
import io.distill4j.loss.TeacherForm;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.Generation;
import io.distill4j.models.lm.LmExample;
import io.distill4j.trainer.MicroBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The batches and loss of generalised knowledge distillation ({@link OnPolicyDistiller} describes the method):
 * draws on- or off-policy, samples the student's continuations on on-policy batches, scores every sequence with
 * the teacher and lays out a {@link MicroBatch} (inputs: ids and segments; labels: the teacher's logits at the
 * response positions, the per-position variances when inverse-variance weighting is on, and the positions) for
 * {@link #loss()}. A teacher that gives only its top K per position (a {@link TopKScorer}: a vLLM or llama.cpp
 * server) is compared over K + 1 buckets instead of the vocabulary: the labels then start with the top-K ids (N, K)
 * and the teacher's bucket log-probabilities (N, K + 1, the last the log tail mass), and the student's buckets are
 * its log-probabilities of those ids and log(1 - their sum), as in the top-K-with-tail caches of TRL's server-side
 * distillation; the generalised JSD with beta is taken between the two bucket distributions. Used by {@link OnPolicyDistiller}'s own steps and, through {@link OnPolicyBatchSource}, by the
 * training engine. Not thread-safe.
 */
public final class OnPolicyBatches {

    /**
     * One built batch and what it holds.
     *
     * @param batch the micro-batch for {@link #loss()}
     * @param onPolicy whether the student generated the responses
     * @param tokens the response positions the loss averages over
     * @param responses the responses, one per row (prompt-major: the k samples of a prompt together)
     * @param weights the per-row weights w_b, normalised to mean 1 (all 1 without inverse-variance weighting)
     */
    public record Built(MicroBatch batch, boolean onPolicy, int tokens, List<int[]> responses, float[] weights) {
    }

    private final CausalLm student;
    private final NDManager manager;
    private final CausalLm teacher;
    private final TopKScorer scorer;
    private final int context;
    private final OnPolicyDistiller.Settings settings;
    private final GeneralizedJsdLoss jsd;
    private final InverseVarianceWeightedLoss weighted;
    private final Loss loss;

    /**
     * Prepares the batches.
     *
     * @param student the student (read at every batch: generation uses its current weights)
     * @param studentManager the manager that holds the student's parameters (generation's temporaries go under it)
     * @param teacher the teacher, of the same vocabulary
     * @param settings the GKD settings
     * @throws IllegalArgumentException if the vocabularies differ
     */
    public OnPolicyBatches(CausalLm student, NDManager studentManager, CausalLm teacher,
            OnPolicyDistiller.Settings settings) {
        this(student, studentManager, teacher, null, settings);
        if (student.config().vocabSize() != teacher.config().vocabSize()) {
            throw new IllegalArgumentException("student vocabulary " + student.config().vocabSize()
                    + " differs from the teacher's " + teacher.config().vocabSize());
        }
    }

    /**
     * Prepares the batches for a teacher that scores with its top K per position (a server): the loss is the
     * generalised JSD over the K + 1 buckets (see the class comment).
     *
     * @param student the student (read at every batch: generation uses its current weights)
     * @param studentManager the manager that holds the student's parameters
     * @param scorer the teacher, whose token ids are the student's
     * @param settings the GKD settings
     */
    public OnPolicyBatches(CausalLm student, NDManager studentManager, TopKScorer scorer,
            OnPolicyDistiller.Settings settings) {
        this(student, studentManager, null, java.util.Objects.requireNonNull(scorer, "scorer"), settings);
    }

    private OnPolicyBatches(CausalLm student, NDManager studentManager, CausalLm teacher, TopKScorer scorer,
            OnPolicyDistiller.Settings settings) {
        this.student = student;
        this.manager = studentManager;
        this.teacher = teacher;
        this.scorer = scorer;
        this.context = teacher == null ? student.config().maxPositions()
                : Math.min(student.config().maxPositions(), teacher.config().maxPositions());
        this.settings = settings;
        this.jsd = new GeneralizedJsdLoss(settings.beta(), scorer == null ? TeacherForm.LOGITS
                : TeacherForm.LOG_PROBABILITIES, 1.0, false);
        this.weighted = settings.varianceEps() > 0
                ? new InverseVarianceWeightedLoss(jsd, settings.varianceEps(),
                        InverseVarianceWeightedLoss.VarianceSource.GIVEN)
                : null;
        Loss base = weighted != null ? weighted : jsd;
        this.loss = new ResponsePositions(scorer == null ? base : new TopKBuckets(base));
    }

    /**
     * The loss of the batches built with these settings (what {@link #loss()} returns), for a trainer that
     * takes one loss for several students.
     *
     * @param beta the JSD weight, in [0, 1]
     * @param varianceEps eps of the inverse-variance weights, 0 for none
     * @return the generalised JSD over the response positions, inverse-variance weighted when eps &gt; 0
     */
    public static Loss loss(double beta, double varianceEps) {
        return loss(beta, varianceEps, false);
    }

    /**
     * The loss of the batches built with these settings, for a teacher with full logits or one that scores with
     * its top K ({@link TopKScorer}).
     *
     * @param beta the JSD weight, in [0, 1]
     * @param varianceEps eps of the inverse-variance weights, 0 for none
     * @param topK whether the teacher is a {@link TopKScorer} (the loss then runs over K + 1 buckets)
     * @return the generalised JSD over the response positions
     */
    public static Loss loss(double beta, double varianceEps, boolean topK) {
        GeneralizedJsdLoss jsd = new GeneralizedJsdLoss(beta, topK ? TeacherForm.LOG_PROBABILITIES : TeacherForm.LOGITS,
                1.0, false);
        // one loss for both cases: with equal variances the weighted loss is the plain one
        Loss base = varianceEps > 0 ? new InverseVarianceWeightedLoss(jsd, varianceEps,
                InverseVarianceWeightedLoss.VarianceSource.GIVEN) : jsd;
        return new ResponsePositions(topK ? new TopKBuckets(base) : base);
    }

    /** @return the loss of the built batches: the generalised JSD over the response positions */
    public Loss loss() {
        return loss;
    }

    /** @return the settings */
    public OnPolicyDistiller.Settings settings() {
        return settings;
    }

    /**
     * Builds one batch: draws on- or off-policy from {@code random}, generates if on-policy, scores with the
     * teacher.
     *
     * @param sub the manager of the batch's arrays
     * @param batch prompts with their off-policy responses (the responses are ignored on on-policy batches)
     * @param random the source of the on/off-policy draw and of the sampling
     * @return the batch
     * @throws IllegalArgumentException if the batch is empty or a sequence exceeds a model's context
     */
    public Built build(NDManager sub, List<LmExample> batch, Random random) {
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        boolean onPolicy = settings.lmbda() > 0 && random.nextDouble() < settings.lmbda();
        List<int[]> prompts = new ArrayList<>();
        List<int[]> responses = new ArrayList<>();
        if (onPolicy) {
            List<int[]> given = new ArrayList<>(batch.size());
            int[] maxNew = new int[batch.size()];
            for (int i = 0; i < batch.size(); i++) {
                LmExample e = batch.get(i);
                int room = context - e.prompt().length;
                if (room <= 0) {
                    throw new IllegalArgumentException("a prompt of " + e.prompt().length
                            + " tokens leaves no room in the context");
                }
                given.add(e.prompt());
                maxNew[i] = Math.min(settings.maxNewTokens(), room);
            }
            // all prompts and their k samples in one batch: one decoder call per generated position
            int[][] rows = Generation.sampleBatch(student, manager, given, settings.samples(), maxNew,
                    settings.eosId(), settings.temperature(), settings.topK(), random);
            for (int r = 0; r < rows.length; r++) {
                prompts.add(given.get(r / settings.samples()));
                responses.add(rows[r]);
            }
        } else {
            for (LmExample e : batch) {
                prompts.add(e.prompt());
                responses.add(e.answer());
            }
        }
        int k = onPolicy ? settings.samples() : 1;
        boolean ivw = onPolicy && weighted != null && k >= 2;
        Batch b = batch(sub, prompts, responses);
        float[] rowWeights = new float[prompts.size()];
        Arrays.fill(rowWeights, 1f);
        NDList labels = new NDList(b.teacher);
        if (weighted != null && !ivw) {
            labels.add(sub.zeros(new Shape(b.tokens))); // equal variances: unweighted
        } else if (ivw) {
            double[] perRow = rowLosses(sub, b);
            double[] v = promptVariances(perRow, k);
            float[] tokenVar = new float[b.tokens];
            int at = 0;
            for (int r = 0; r < prompts.size(); r++) {
                rowWeights[r] = (float) (1 / (v[r / k] + settings.varianceEps()));
                Arrays.fill(tokenVar, at, at + b.rowTokens[r], (float) v[r / k]);
                at += b.rowTokens[r];
            }
            labels.add(sub.create(tokenVar, new Shape(b.tokens)));
        }
        labels.add(b.positions);
        return new Built(new MicroBatch(new NDList(b.ids, b.segments), labels, Math.max(1, b.tokens)), onPolicy,
                b.tokens, List.copyOf(responses), normalise(rowWeights, b));
    }


    /**
     * The loss on a batch of prompts and responses without updating (no dropout, no gradients): the mean
     * generalised JSD over response positions.
     *
     * @param batch prompts with responses
     * @return the loss
     */
    public double evaluate(List<LmExample> batch) {
        List<int[]> prompts = new ArrayList<>();
        List<int[]> responses = new ArrayList<>();
        for (LmExample e : batch) {
            prompts.add(e.prompt());
            responses.add(e.answer());
        }
        try (NDManager sub = manager.newSubManager()) {
            Batch b = batch(sub, prompts, responses);
            NDArray z = student.logits(new ParameterStore(sub, false), b.ids, b.segments, null, false);
            NDList[] pair = divergenceInputs(b, atPositions(z, b.positions));
            return jsd.evaluate(pair[0], pair[1]).getFloat();
        }
    }

    private static float[] normalise(float[] w, Batch b) {
        // report the weights as the loss uses them: mean 1 over the rows that hold response tokens
        double sum = 0;
        int n = 0;
        for (int r = 0; r < w.length; r++) {
            if (b.rowTokens[r] > 0) {
                sum += w[r];
                n++;
            }
        }
        float[] out = new float[w.length];
        for (int r = 0; r < w.length; r++) {
            out[r] = n == 0 ? w[r] : (float) (w[r] * n / sum);
        }
        return out;
    }

    private double[] rowLosses(NDManager sub, Batch b) {
        NDArray z = student.logits(new ParameterStore(sub, false), b.ids, b.segments, null, false);
        NDList[] pair = divergenceInputs(b, atPositions(z, b.positions));
        float[] items = jsd.itemLosses(pair[0], pair[1]).toFloatArray();
        double[] out = new double[b.rowTokens.length];
        int at = 0;
        for (int r = 0; r < out.length; r++) {
            double s = 0;
            for (int t = 0; t < b.rowTokens[r]; t++) {
                s += items[at++];
            }
            out[r] = b.rowTokens[r] == 0 ? 0 : s / b.rowTokens[r];
        }
        return out;
    }

    /** The labels and predictions of the divergence itself: the teacher's and the student's rows, or their buckets. */
    private NDList[] divergenceInputs(Batch b, NDArray studentRows) {
        if (scorer == null) {
            return new NDList[] {new NDList(b.teacher.get(0)), new NDList(studentRows)};
        }
        return new NDList[] {new NDList(b.teacher.get(1)), new NDList(TopKBuckets.buckets(studentRows, b.teacher.get(0)))};
    }

    /** The rows of (B, T, V) logits at the given flat positions b * T + t: (N, V). */
    static NDArray atPositions(NDArray logits, NDArray positions) {
        long v = logits.getShape().get(logits.getShape().dimension() - 1);
        return logits.reshape(-1, v).get(positions);
    }

    /**
     * The loss on the response positions only: the predictions (B, T, V) are reduced to the N positions that
     * predict a response token (the last label, flat indices b * T + t) before the wrapped loss sees them, as
     * the PyTorch recipe slices the logits, so that neither the divergence nor its gradient is computed on
     * prompt and padding positions.
     */
    private static final class ResponsePositions extends ai.djl.training.loss.Loss {
        private final ai.djl.training.loss.Loss inner;

        ResponsePositions(ai.djl.training.loss.Loss inner) {
            super(inner.getName());
            this.inner = inner;
        }

        @Override
        public NDArray evaluate(NDList labels, NDList predictions) {
            NDList rest = new NDList(labels.subList(0, labels.size() - 1));
            return inner.evaluate(rest, new NDList(atPositions(predictions.head(), labels.get(labels.size() - 1))));
        }
    }

    /**
     * The generalised JSD over K + 1 buckets: the labels start with the teacher's top-K ids (N, K), the wrapped
     * loss sees the teacher's bucket log-probabilities (N, K + 1) and its other labels, and the student's
     * buckets in place of its logits (N, V): log softmax(z) at the K ids and log(1 - their sum), floored at 1e-30.
     */
    private static final class TopKBuckets extends ai.djl.training.loss.Loss {
        private final ai.djl.training.loss.Loss inner;

        TopKBuckets(ai.djl.training.loss.Loss inner) {
            super(inner.getName());
            this.inner = inner;
        }

        static NDArray buckets(NDArray logits, NDArray ids) {
            NDArray lq = logits.logSoftmax(-1).gather(ids, -1);
            NDArray tail = lq.exp().sum(new int[] {-1}, true).neg().add(1).maximum(1e-30f).log();
            return lq.concat(tail, -1);
        }

        @Override
        public NDArray evaluate(NDList labels, NDList predictions) {
            NDList rest = new NDList(labels.subList(1, labels.size()));
            return inner.evaluate(rest, new NDList(buckets(predictions.head(), labels.get(0))));
        }
    }

    /** Sample variance (ddof 1) of consecutive groups of k values. */
    static double[] promptVariances(double[] perRow, int k) {
        double[] v = new double[perRow.length / k];
        for (int p = 0; p < v.length; p++) {
            double mean = 0;
            for (int j = 0; j < k; j++) {
                mean += perRow[p * k + j];
            }
            mean /= k;
            double ss = 0;
            for (int j = 0; j < k; j++) {
                double d = perRow[p * k + j] - mean;
                ss += d * d;
            }
            v[p] = ss / (k - 1);
        }
        return v;
    }

    /**
     * A right-padded batch, the flat indices (b * length + t) of the N positions that predict a response
     * token, row by row, and the teacher at those positions: its logits (N, V), or its top-K ids (N, K) and
     * bucket log-probabilities (N, K + 1) from a {@link TopKScorer}.
     */
    private record Batch(NDArray ids, NDArray segments, NDArray positions, NDList teacher, int length,
            int tokens, int[] rowTokens) {
    }

    private Batch batch(NDManager sub, List<int[]> prompts, List<int[]> responses) {
        int rows = prompts.size();
        int length = 0;
        for (int r = 0; r < rows; r++) {
            length = Math.max(length, prompts.get(r).length + responses.get(r).length);
        }
        if (length > context) {
            throw new IllegalArgumentException("a prompt with its response holds " + length
                    + " tokens, more than the context of " + context);
        }
        int[] ids = new int[rows * length];
        int[] seg = new int[rows * length];
        int[] rowTokens = new int[rows];
        int tokens = 0;
        for (int[] a : responses) {
            tokens += a.length;
        }
        long[] positions = new long[tokens];
        int at = 0;
        for (int r = 0; r < rows; r++) {
            int[] p = prompts.get(r);
            int[] a = responses.get(r);
            if (p.length == 0) {
                throw new IllegalArgumentException("prompt " + r + " is empty");
            }
            System.arraycopy(p, 0, ids, r * length, p.length);
            System.arraycopy(a, 0, ids, r * length + p.length, a.length);
            Arrays.fill(seg, r * length, r * length + p.length + a.length, 1);
            // position t predicts token t + 1: the response tokens are predicted at p.length - 1 .. end - 2
            for (int t = p.length - 1; t < p.length + a.length - 1; t++) {
                positions[at++] = (long) r * length + t;
            }
            rowTokens[r] = a.length;
        }
        Shape shape = new Shape(rows, length);
        NDArray idArray = sub.create(ids, shape);
        NDArray segArray = sub.create(seg, shape);
        NDArray where = sub.create(positions, new Shape(tokens));
        NDList teacherLabels = scorer == null ? new NDList(atPositions(teacher.logits(new ParameterStore(sub, false),
                idArray, segArray, null, false), where).toType(DataType.FLOAT32, false).stopGradient())
                : scored(sub, prompts, responses, tokens);
        return new Batch(idArray, segArray, where, teacherLabels, length, tokens, rowTokens);
    }

    /** The scorer's top-K ids (N, K) and bucket log-probabilities (N, K + 1) at the N response positions. */
    private NDList scored(NDManager sub, List<int[]> prompts, List<int[]> responses, int tokens) {
        List<TopKScorer.Position[]> scored = scorer.score(prompts, responses);
        int k = scorer.topK();
        int vocab = student.config().vocabSize();
        long[] ids = new long[tokens * k];
        float[] buckets = new float[tokens * (k + 1)];
        int at = 0;
        for (int r = 0; r < responses.size(); r++) {
            TopKScorer.Position[] row = scored.get(r);
            if (row.length != responses.get(r).length) {
                throw new IllegalStateException("the teacher scored " + row.length + " positions of row " + r + ", which has "
                        + responses.get(r).length);
            }
            for (TopKScorer.Position p : row) {
                if (p.ids().length != k || p.logprobs().length != k) {
                    throw new IllegalStateException("the teacher gave " + p.ids().length + " alternatives, not " + k);
                }
                for (int q = 0; q < k; q++) {
                    if (p.ids()[q] < 0 || p.ids()[q] >= vocab) {
                        throw new IllegalArgumentException("the teacher's token id " + p.ids()[q]
                                + " is outside the student's vocabulary of " + vocab);
                    }
                    ids[at * k + q] = p.ids()[q];
                    buckets[at * (k + 1) + q] = p.logprobs()[q];
                }
                buckets[at * (k + 1) + k] = (float) Math.max(p.tailLogMass(), io.distill4j.loss.DistillationLoss.LOG_FLOOR);
                at++;
            }
        }
        return new NDList(sub.create(ids, new Shape(tokens, k)), sub.create(buckets, new Shape(tokens, k + 1)));
    }

}

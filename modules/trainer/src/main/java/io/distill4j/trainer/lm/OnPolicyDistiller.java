package io.distill4j.trainer.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.distill4j.loss.DistillationLoss;
import io.distill4j.loss.GeneralizedJsdLoss;
import io.distill4j.loss.InverseVarianceWeightedLoss;
import io.distill4j.loss.TeacherForm;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.Generation;
import io.distill4j.models.lm.LmExample;
import io.distill4j.trainer.TrainingSession;
import io.distill4j.trainer.TrainingSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Generalised knowledge distillation of a causal-LM student from a local causal-LM teacher (GKD, Agarwal et
 * al. 2024, "On-Policy Distillation of Language Models: Learning from Self-Generated Mistakes"; TRL's
 * {@code GKDTrainer}).
 *
 * <p>Each {@link #step} takes a batch of prompts with off-policy responses (from the data set, or sampled from
 * the teacher beforehand: sequence-level KD). With probability {@code lmbda} the batch goes on-policy: the
 * student samples {@code samples} continuations per prompt with its key/value cache, all prompts of the batch
 * decoded together and each prompt's keys and values shared by its samples ({@link Generation#sampleBatch},
 * temperature and top-k as in {@code generate}) and these replace the given responses. The teacher then scores
 * every sequence by teacher forcing and the loss is the generalised Jensen-Shannon divergence
 * ({@link GeneralizedJsdLoss}, TRL's convention: beta = 0 forward KL(p_T || q_S), beta = 1 reverse KL) between
 * the teacher's and student's next-token distributions, averaged over the response positions:
 * <pre>
 *   L = sum_{b,t} m_{bt} w_b JSD_beta(p_T(.|y_&lt;t), q_S(.|y_&lt;t)) / sum_{b,t} m_{bt} w_b
 * </pre>
 * where m marks the positions that predict a response token and w_b = 1, except on on-policy batches with
 * {@code samples} k &ge; 2 and {@code varianceEps} &gt; 0: there each prompt's k continuations get the weight
 * 1 / (v + eps), v the sample variance (ddof 1) of their per-sequence mean divergence under the current student
 * (one extra forward pass without gradients), so that prompts whose on-policy signal is noisy count less
 * (inverse-variance weighting as in Cui &amp; Pei 2026, through {@link InverseVarianceWeightedLoss}). With
 * lmbda = 0 no token is generated and the step is off-policy token-level distillation on the given responses.
 *
 * <p>The student may carry LoRA adapters ({@link io.distill4j.models.lm.Lora}): only trainable parameters are
 * updated. The teacher is only run in inference. The optimiser settings (learning rate, betas, weight decay,
 * clipping, precision) come from a {@link TrainingSpec} and are applied by a {@link TrainingSession}; its
 * schedule, epochs and batch size are not used (the caller drives the steps). Not thread-safe.
 */
public final class OnPolicyDistiller implements AutoCloseable {

    /**
     * What GKD does per step.
     *
     * @param lmbda probability that a batch is on-policy (student-generated), in [0, 1]
     * @param beta the JSD weight on the teacher, in [0, 1]: 0 forward KL, 1 reverse KL
     * @param maxNewTokens the most tokens the student generates per continuation, positive
     * @param temperature sampling temperature of the student's generation, &ge; 0 (0 greedy)
     * @param topK sample among the k most likely tokens only; 0 for all
     * @param samples continuations per prompt on on-policy batches, positive
     * @param varianceEps eps of the inverse-variance weights over the samples; 0 switches them off
     * @param eosId the end-of-sequence id that stops generation, or -1
     * @param seed seeds the on/off-policy draws and the sampling
     */
    public record Settings(double lmbda, double beta, int maxNewTokens, double temperature, int topK, int samples,
            double varianceEps, int eosId, long seed) {

        /**
         * Validates the settings.
         *
         * @throws IllegalArgumentException naming the setting and value at fault
         */
        public Settings {
            check(lmbda >= 0 && lmbda <= 1, "lmbda must be in [0, 1]", lmbda);
            check(beta >= 0 && beta <= 1, "beta must be in [0, 1]", beta);
            check(maxNewTokens > 0, "maxNewTokens must be positive", maxNewTokens);
            check(temperature >= 0 && Double.isFinite(temperature), "temperature must be >= 0", temperature);
            check(topK >= 0, "topK must be >= 0", topK);
            check(samples > 0, "samples must be positive", samples);
            check(varianceEps >= 0 && Double.isFinite(varianceEps), "varianceEps must be >= 0", varianceEps);
        }

        private static void check(boolean ok, String what, Object value) {
            if (!ok) {
                throw new IllegalArgumentException(what + ", got " + value);
            }
        }

        /**
         * TRL's {@code GKDConfig} defaults: lmbda 0.5, beta 0.5, temperature 0.9, 128 new tokens, one sample.
         *
         * @return the defaults, without an end id, seed 0
         */
        public static Settings defaults() {
            return new Settings(0.5, 0.5, 128, 0.9, 0, 1, 0, -1, 0);
        }
    }

    /**
     * What one step did.
     *
     * @param onPolicy whether the student generated the responses
     * @param loss the loss before the update
     * @param tokens the response positions the loss averaged over
     * @param responses the responses trained on, one per row (prompt-major: the k samples of a prompt together)
     * @param weights the per-row weights w_b (all 1 without inverse-variance weighting)
     */
    public record StepResult(boolean onPolicy, float loss, int tokens, List<int[]> responses, float[] weights) {
    }

    private final CausalLm student;
    private final NDManager manager;
    private final CausalLm teacher;
    private final Settings settings;
    private final TrainingSpec spec;
    private final GeneralizedJsdLoss jsd;
    private final InverseVarianceWeightedLoss weighted;
    private final BorrowedModel model;
    private final TrainingSession session;
    private final Random random;

    /**
     * Prepares the distillation.
     *
     * @param student the initialised student (trainable parameters are updated in place)
     * @param studentManager the manager that holds the student's parameters
     * @param teacher the initialised teacher, of the same vocabulary
     * @param settings the GKD settings
     * @param spec the optimiser settings
     * @throws IllegalArgumentException if the vocabularies differ
     */
    public OnPolicyDistiller(CausalLm student, NDManager studentManager, CausalLm teacher, Settings settings,
            TrainingSpec spec) {
        if (student.config().vocabSize() != teacher.config().vocabSize()) {
            throw new IllegalArgumentException("student vocabulary " + student.config().vocabSize()
                    + " differs from the teacher's " + teacher.config().vocabSize());
        }
        this.student = student;
        this.manager = studentManager;
        this.teacher = teacher;
        this.settings = settings;
        this.spec = spec;
        this.jsd = new GeneralizedJsdLoss(settings.beta(), TeacherForm.LOGITS, 1.0, false);
        this.weighted = settings.varianceEps() > 0
                ? new InverseVarianceWeightedLoss(jsd, settings.varianceEps(),
                        InverseVarianceWeightedLoss.VarianceSource.GIVEN)
                : null;
        this.model = new BorrowedModel("gkd-student", studentManager, student);
        // one session (one optimiser) for both cases: with equal variances the weighted loss is the plain one
        this.session = new TrainingSession(model, new ResponsePositions(weighted != null ? weighted : jsd), spec);
        this.random = new Random(settings.seed());
    }

    /** @return the settings */
    public Settings settings() {
        return settings;
    }

    /**
     * One GKD step: draws on- or off-policy, generates if on-policy, scores with the teacher, updates the
     * student once.
     *
     * @param batch prompts with their off-policy responses (the responses are ignored on on-policy batches)
     * @return what the step did
     * @throws IllegalArgumentException if the batch is empty or a sequence exceeds a model's context
     */
    public StepResult step(List<LmExample> batch) {
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        boolean onPolicy = settings.lmbda() > 0 && random.nextDouble() < settings.lmbda();
        List<int[]> prompts = new ArrayList<>();
        List<int[]> responses = new ArrayList<>();
        if (onPolicy) {
            List<int[]> given = new ArrayList<>(batch.size());
            int[] maxNew = new int[batch.size()];
            int context = Math.min(student.config().maxPositions(), teacher.config().maxPositions());
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
        try (NDManager sub = manager.newSubManager()) {
            Batch b = batch(sub, prompts, responses);
            float[] rowWeights = new float[prompts.size()];
            Arrays.fill(rowWeights, 1f);
            NDList labels = new NDList(b.teacherLogits);
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
            float loss = session.forwardBackward(new NDList(b.ids, b.segments), labels, 1f);
            session.update(spec.learningRate());
            return new StepResult(onPolicy, loss, b.tokens, List.copyOf(responses), normalise(rowWeights, b));
        }
    }

    /**
     * The loss on a batch of prompts and responses without updating (no dropout, no gradients): the mean
     * generalised JSD over response positions.
     *
     * @param batch prompts with responses
     * @return the loss
     */
    public double loss(List<LmExample> batch) {
        List<int[]> prompts = new ArrayList<>();
        List<int[]> responses = new ArrayList<>();
        for (LmExample e : batch) {
            prompts.add(e.prompt());
            responses.add(e.answer());
        }
        try (NDManager sub = manager.newSubManager()) {
            Batch b = batch(sub, prompts, responses);
            NDArray z = student.logits(new ParameterStore(sub, false), b.ids, b.segments, null, false);
            return jsd.evaluate(new NDList(b.teacherLogits), new NDList(atPositions(z, b.positions))).getFloat();
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
        float[] items = jsd.itemLosses(new NDList(b.teacherLogits), new NDList(atPositions(z, b.positions)))
                .toFloatArray();
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
     * token, row by row, and the teacher's logits at those positions (N, V).
     */
    private record Batch(NDArray ids, NDArray segments, NDArray positions, NDArray teacherLogits, int length,
            int tokens, int[] rowTokens) {
    }

    private Batch batch(NDManager sub, List<int[]> prompts, List<int[]> responses) {
        int rows = prompts.size();
        int length = 0;
        for (int r = 0; r < rows; r++) {
            length = Math.max(length, prompts.get(r).length + responses.get(r).length);
        }
        int context = Math.min(student.config().maxPositions(), teacher.config().maxPositions());
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
        NDArray teacherLogits = atPositions(teacher.logits(new ParameterStore(sub, false), idArray, segArray, null,
                false), where).toType(DataType.FLOAT32, false).stopGradient();
        return new Batch(idArray, segArray, where, teacherLogits, length, tokens, rowTokens);
    }

    /** Frees the optimiser state; the student keeps its trained weights. */
    @Override
    public void close() {
        session.close();
        model.close();
    }
}

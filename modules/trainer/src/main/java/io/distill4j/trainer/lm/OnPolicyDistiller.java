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

    private final OnPolicyBatches batches;
    private final TrainingSpec spec;
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
        this.batches = new OnPolicyBatches(student, studentManager, teacher, settings);
        this.spec = spec;
        this.model = new BorrowedModel("gkd-student", studentManager, student);
        this.session = new TrainingSession(model, batches.loss(), spec);
        this.random = new Random(settings.seed());
    }

    /** @return the settings */
    public Settings settings() {
        return batches.settings();
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
        try (NDManager sub = model.getNDManager().newSubManager()) {
            OnPolicyBatches.Built b = batches.build(sub, batch, random);
            float loss = session.forwardBackward(b.batch().inputs(), b.batch().labels(), 1f);
            session.update(spec.learningRate());
            return new StepResult(b.onPolicy(), loss, b.tokens(), b.responses(), b.weights());
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
        return batches.evaluate(batch);
    }

    /** Sample variance (ddof 1) of consecutive groups of k values. */
    static double[] promptVariances(double[] perRow, int k) {
        return OnPolicyBatches.promptVariances(perRow, k);
    }

    /** Frees the optimiser state; the student keeps its trained weights. */
    @Override
    public void close() {
        session.close();
        model.close();
    }
}

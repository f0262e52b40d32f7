package io.distill4j.loss;

import ai.djl.ndarray.NDArray;

/**
 * The posterior-predictive mean of a Bayesian teacher: the average over S posterior draws of the
 * draw's (tempered) class distribution.
 *
 * <p>Formula (Morad, Shlezinger &amp; Eldar 2026, "SGD-Based Knowledge Distillation with Bayesian Teachers",
 * arXiv 2601.01484, as in their code, S = 10 draws):
 * <pre>
 *   t_i = (1/S) sum_s softmax(z_i^(s) / T_T)          (draws given as logits)
 *   t_i = (1/S) sum_s softmax(log p_i^(s) / T_T)      (draws given as probabilities; T_T = 1 gives the plain mean)
 * </pre>
 * This is the Monte-Carlo estimate of the Bayesian model average p(y | x, D) = E_{theta ~ posterior}
 * p(y | x, theta) (VI, Laplace, MC dropout or ensemble draws). Averaging probabilities, not logits, is what
 * keeps the epistemic spread of the draws in the target. Use it with {@link HintonKdLoss} in its
 * Bayesian-teacher form (T_T * T_S scaling).
 *
 * <p>Samples: (B, S, C) logits or probabilities, S &gt; 0. ArgumentChecks: rank, S &gt; 0, T_T &gt; 0 (always);
 * probability draws on the simplex (when validating, the default). Registry name {@code bayesian-mean}
 * with options {@code input} ({@code probabilities} or {@code logits}), {@code temperature}.
 */
public final class BayesianMeanTarget implements TargetBuilder {

    /** How the posterior draws come. */
    public enum Input {
        /** Each draw a probability vector; YAML {@code probabilities}. */
        PROBABILITIES,
        /** Each draw a logit vector; YAML {@code logits}. */
        LOGITS;

    }

    private final Input input;
    private final double temperature;
    private final boolean validate;

    /** Creates the plain mean over probability draws (T_T = 1), validating. */
    public BayesianMeanTarget() {
        this(Input.PROBABILITIES, 1.0, true);
    }

    /**
     * Creates the builder.
     *
     * @param input whether the draws are probabilities or logits
     * @param temperature T_T, positive
     * @param validate whether to check that probability draws lie on the simplex
     */
    public BayesianMeanTarget(Input input, double temperature, boolean validate) {
        this.input = java.util.Objects.requireNonNull(input, "input");
        ArgumentChecks.positive("temperature", temperature);
        this.temperature = temperature;
        this.validate = validate;
    }

    @Override
    public String outputSignal(String samples) {
        return samples.equals(input == Input.LOGITS ? "logits" : "probabilities") ? "probabilities" : null;
    }

    @Override
    public NDArray build(NDArray samples, StudentEstimate student) {
        ArgumentChecks.rank("samples", samples, 3);
        ArgumentChecks.samplesK("posterior draws", samples);
        NDArray p;
        if (input == Input.LOGITS) {
            p = (temperature == 1 ? samples : samples.div(temperature)).softmax(2);
        } else {
            if (validate) {
                ArgumentChecks.simplex("posterior draws", samples);
            }
            p = temperature == 1 ? samples : samples.maximum(1e-30).log().div(temperature).softmax(2);
        }
        return p.mean(new int[] {1});
    }

    /** @return how the draws come */
    public Input input() {
        return input;
    }

    /** @return the teacher temperature T_T */
    public double temperature() {
        return temperature;
    }

    @Override
    public String name() {
        return "bayesian-mean";
    }
}

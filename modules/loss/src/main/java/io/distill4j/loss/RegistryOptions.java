package io.distill4j.loss;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The options of every built-in {@link Registry} entry, one record each, bound strictly by the project's one
 * configuration binding ({@code io.distill4j.data.config.ConfigReader#convert}): an unknown key, a value of the
 * wrong type or an explicit null is one error naming the entry, the key and the value. An absent key keeps the
 * default that the record's constructor fills in. Nested specs ({@code base}) stay a name or a map, made by the
 * registry itself.
 */
final class RegistryOptions {

    private RegistryOptions() {
    }

    private static <T> T or(T value, T dflt) {
        return value == null ? dflt : value;
    }

    /** {@code single}. */
    record Single(Integer index) {
        Single {
            index = or(index, 0);
        }
    }

    /** {@code ce}, {@code soft-ce}, {@code mse}: no options besides {@code validate}. */
    record Plain(Boolean validate) {
        Plain {
            validate = or(validate, true);
        }
    }

    /** {@code mean}: no options at all. */
    record None() {
    }

    /** {@code inverse-variance} and {@code inverse-variance-paper}, whose defaults differ in {@code renormalise}. */
    record InverseVariance(Boolean renormalise, Boolean validate) {
        InverseVariance {
            validate = or(validate, true);
        }
    }

    /** {@code bayesian-mean}. */
    record BayesianMean(BayesianMeanTarget.Input input, Double temperature, Boolean validate) {
        BayesianMean {
            input = or(input, BayesianMeanTarget.Input.PROBABILITIES);
            temperature = or(temperature, 1.0);
            validate = or(validate, true);
        }
    }

    /** {@code wrong-mass-clip}. */
    record WrongMassClip(Object base, Double budget) {
        WrongMassClip {
            base = or(base, "mean");
            budget = or(budget, 1.0);
        }
    }

    /** {@code hinton-kd}. */
    record HintonKd(Double temperature, Double alpha, Boolean validate) {
        HintonKd {
            temperature = or(temperature, 4.0);
            alpha = or(alpha, 0.5);
            validate = or(validate, true);
        }
    }

    /** {@code bayesian-kd}. */
    record BayesianKd(@JsonProperty("teacher-temperature") Double teacherTemperature,
            @JsonProperty("student-temperature") Double studentTemperature, Double alpha, Boolean validate) {
        BayesianKd {
            teacherTemperature = or(teacherTemperature, 4.0);
            studentTemperature = or(studentTemperature, 1.0);
            alpha = or(alpha, 0.7);
            validate = or(validate, true);
        }
    }

    /** {@code kl} and {@code reverse-kl}. */
    record Kl(TeacherForm teacher, Double temperature, Boolean validate) {
        Kl {
            teacher = or(teacher, TeacherForm.PROBABILITIES);
            temperature = or(temperature, 1.0);
            validate = or(validate, true);
        }
    }

    /** {@code jsd}. */
    record Jsd(Double beta, TeacherForm teacher, Double temperature, Boolean normalise, Boolean validate) {
        Jsd {
            beta = or(beta, 0.5);
            teacher = or(teacher, TeacherForm.PROBABILITIES);
            temperature = or(temperature, 1.0);
            normalise = or(normalise, false);
            validate = or(validate, true);
        }
    }

    /** {@code gaussian-nll}. */
    record GaussianNll(Boolean full, Boolean validate) {
        GaussianNll {
            full = or(full, false);
            validate = or(validate, true);
        }
    }

    /** {@code sparse-topk-kl}. */
    record SparseTopK(Double temperature, Boolean tail, @JsonProperty("exact-tail") Boolean exactTail,
            Boolean validate) {
        SparseTopK {
            temperature = or(temperature, 1.0);
            tail = or(tail, true);
            exactTail = or(exactTail, false);
            validate = or(validate, true);
        }
    }

    /** {@code focal-entropy}. */
    record FocalEntropy(Double gamma, Double lambda, @JsonProperty("max-weight") Double maxWeight, Double tau,
            Boolean validate) {
        FocalEntropy {
            gamma = or(gamma, 2.0);
            lambda = or(lambda, 0.1);
            maxWeight = or(maxWeight, 3.0);
            tau = or(tau, 0.5);
            validate = or(validate, true);
        }
    }

    /** {@code weighted}: {@code base} is required; {@code validate} left out keeps the loss's own default. */
    record Weighted(Object base, Double eps, InverseVarianceWeightedLoss.VarianceSource variance, Boolean validate) {
        Weighted {
            if (base == null) {
                throw new IllegalArgumentException("option base is required (a loss name, or a map with name and options)");
            }
            eps = or(eps, InverseVarianceWeightedLoss.DEFAULT_EPS);
            variance = or(variance, InverseVarianceWeightedLoss.VarianceSource.GIVEN);
        }
    }
}

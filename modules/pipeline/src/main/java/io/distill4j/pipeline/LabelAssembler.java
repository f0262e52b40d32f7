package io.distill4j.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import io.distill4j.loss.DistillationLoss;
import io.distill4j.loss.Label;
import io.distill4j.loss.TargetBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes the labels a loss declares ({@link DistillationLoss#labels()}) from a dense cache batch: the items' teacher
 * samples (B, k, C), the target builder's output (B, C) and the ground truth. One adapter for every loss and
 * target: {@link #check} refuses, before any training, a loss whose labels this cache and target cannot give. Where
 * a target's student estimate comes from is checked by {@link StudentEstimates}.
 */
public final class LabelAssembler {

    /** The top-K width used for {@code sparse-topk-kl} on a dense cache unless told otherwise. */
    public static final int DEFAULT_TOP_K = 5;

    private final List<Label> labels;
    private final int topK;

    /**
     * Creates the adapter for a loss (after {@link #check}).
     *
     * @param loss the loss
     * @param topK K for the top-K labels
     */
    public LabelAssembler(DistillationLoss loss, int topK) {
        this.labels = List.copyOf(loss.labels());
        this.topK = topK;
    }

    /**
     * Checks that a loss can be fed from a cache's signal with a target builder and the dataset's ground truth.
     *
     * @param loss the loss
     * @param lossName its name, for the message
     * @param target the target builder
     * @param targetName its name, for the message
     * @param signal the cache's signal: {@code probabilities}, {@code logits} or {@code values}
     * @param width the signal's width C (classes) or D (outputs)
     * @param hasClassLabels whether the dataset has class labels
     * @param topK K for top-K labels
     * @return null if they fit, else the reason (one sentence naming loss and target)
     */
    public static String check(DistillationLoss loss, String lossName, TargetBuilder target, String targetName,
            String signal, int width, boolean hasClassLabels, int topK) {
        String pair = "loss '" + lossName + "' with target '" + targetName + "'";
        if (target.needsLabels() && !hasClassLabels) {
            return pair + ": target '" + targetName + "' needs class labels, and this dataset is a regression";
        }
        if (target instanceof io.distill4j.loss.InverseVarianceTarget iv && iv.renormalise() && "values".equals(signal)) {
            return pair + ": target '" + targetName + "' renormalises its fused target onto the simplex, and this cache"
                    + " holds regression values (set its option renormalise: false)";
        }
        String cacheSignal = signal;
        signal = target.outputSignal(cacheSignal);
        if (signal == null) {
            return pair + ": target '" + targetName + "' cannot read a cache of " + cacheSignal
                    + (cacheSignal.equals("logits") || cacheSignal.equals("probabilities") ? " (a bayesian-mean target"
                            + " needs its input option to match the cache)" : "");
        }
        for (Label l : loss.labels()) {
            String why = switch (l) {
                case CLASS_LABELS -> hasClassLabels ? null : "class labels, and this dataset is a regression";
                case TARGET_PROBABILITIES, TARGET_LOG_PROBABILITIES -> "values".equals(signal)
                        ? "teacher probabilities, and this cache holds regression values" : null;
                case TARGET_LOGITS -> "logits".equals(signal) ? null
                        : "teacher logits, and " + (signal.equals(cacheSignal) ? "this cache holds " : "target '"
                                + targetName + "' gives ") + signal + " (sample the teacher with output: logits, or use"
                                + " the loss's teacher: probabilities)";
                case TARGET_VALUES -> "values".equals(signal) ? null
                        : "regression targets, and this cache holds " + signal;
                case TOP_K_IDS, TOP_K_LOG_PROBABILITIES, TOP_K_LOG_TAIL -> "values".equals(signal)
                        ? "a top-K of teacher probabilities, and this cache holds regression values"
                        : topK >= width ? "a top-K with K < C, and K = " + topK + " >= C = " + width : null;
                case TARGET_VARIANCE, ITEM_VARIANCE, TEACHER_SAMPLES -> null;
            };
            if (why != null) {
                return pair + ": the loss needs " + why;
            }
        }
        return null;
    }

    /**
     * Assembles the labels of a batch, in the loss's order.
     *
     * @param samples the items' teacher samples (B, k, C), in the cache's signal
     * @param target the target builder's output (B, C)
     * @param classLabels the ground-truth class ids (B), or null for regression
     * @param signal the target's signal ({@link io.distill4j.loss.TargetBuilder#outputSignal} of the cache's): a
     *     softmax turns logit targets into probabilities, probability targets are used as they are
     * @return the labels, in the arrays' manager
     */
    public NDList assemble(NDArray samples, NDArray target, NDArray classLabels, String signal) {
        List<NDArray> out = new ArrayList<>(labels.size());
        NDArray probs = null;
        NDArray variance = null;
        NDArray[] top = null;
        for (Label l : labels) {
            switch (l) {
                case CLASS_LABELS -> out.add(classLabels);
                case TARGET_PROBABILITIES -> out.add(probs = probs != null ? probs : probabilities(target, signal));
                case TARGET_LOG_PROBABILITIES -> out.add("logits".equals(signal) ? target.logSoftmax(-1)
                        : (probs = probs != null ? probs : probabilities(target, signal)).log());
                case TARGET_LOGITS, TARGET_VALUES -> out.add(target);
                case TARGET_VARIANCE -> out.add(variance = variance != null ? variance : variance(samples));
                case ITEM_VARIANCE -> out.add((variance = variance != null ? variance : variance(samples)).mean(new int[] {-1}));
                case TEACHER_SAMPLES -> out.add(samples);
                case TOP_K_IDS, TOP_K_LOG_PROBABILITIES, TOP_K_LOG_TAIL -> {
                    if (top == null) {
                        top = topK(probs = probs != null ? probs : probabilities(target, signal));
                    }
                    out.add(top[l.ordinal() - Label.TOP_K_IDS.ordinal()]);
                }
                default -> throw new IllegalStateException("unhandled label " + l);
            }
        }
        return new NDList(out);
    }

    private static NDArray probabilities(NDArray target, String signal) {
        return "logits".equals(signal) ? target.softmax(-1) : target;
    }

    /** Per-element sample variance over axis 1: ddof 1, or 0 when k = 1. */
    private static NDArray variance(NDArray samples) {
        long k = samples.getShape().get(1);
        NDArray mean = samples.mean(new int[] {1}, true);
        NDArray sq = samples.sub(mean).square().sum(new int[] {1});
        return k > 1 ? sq.div(k - 1) : sq;
    }

    /** Top-K ids, their log-probabilities and the log of the rest (the tail bucket). */
    private NDArray[] topK(NDArray probs) {
        NDArray ids = probs.argSort(-1, false).get(":, :" + topK);
        NDArray p = probs.gather(ids, -1);
        NDArray rest = p.sum(new int[] {-1}).neg().add(1f).maximum(probs.getManager().create(0f)).add(1e-30f).log();
        return new NDArray[] {ids.toType(DataType.INT64, false), p.add(1e-30f).log(), rest};
    }
}

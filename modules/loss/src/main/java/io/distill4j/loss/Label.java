package io.distill4j.loss;

/**
 * One array a {@link DistillationLoss} reads from its labels, in the order {@link DistillationLoss#labels()} lists
 * them. A label adapter (the pipeline's) makes each from a cache batch (the k teacher samples of each item), the
 * target builder's output and the dataset's ground truth; a loss whose labels cannot be made from a given cache
 * and target is refused before training.
 */
public enum Label {
    /** The ground-truth class ids, shape (B), integer. */
    CLASS_LABELS,
    /** The target builder's output as probabilities, shape (B, C), each row on the simplex. */
    TARGET_PROBABILITIES,
    /** The log of {@link #TARGET_PROBABILITIES}, shape (B, C) (exact zeros give -infinity; losses floor them). */
    TARGET_LOG_PROBABILITIES,
    /** The target builder's output over logit samples (a logit cache), shape (B, C). */
    TARGET_LOGITS,
    /** The target builder's output over regression values, shape (B, D). */
    TARGET_VALUES,
    /** The per-element variance of the item's teacher samples, shape (B, C) (ddof 1; ddof 0 when k = 1). */
    TARGET_VARIANCE,
    /** The per-item teacher variance: {@link #TARGET_VARIANCE} averaged over the last axis, shape (B). */
    ITEM_VARIANCE,
    /** The item's k teacher samples themselves, shape (B, k, C). */
    TEACHER_SAMPLES,
    /** The ids of the target's K most probable classes (or tokens), shape (B, K), integer. */
    TOP_K_IDS,
    /** The target's log-probabilities of {@link #TOP_K_IDS}, shape (B, K). */
    TOP_K_LOG_PROBABILITIES,
    /** The log of the target's mass outside the top K (the tail bucket), shape (B). */
    TOP_K_LOG_TAIL
}

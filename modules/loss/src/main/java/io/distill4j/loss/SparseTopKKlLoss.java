package io.distill4j.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Forward KL over a cached sparse teacher: the teacher's top-K tokens plus one tail bucket for the rest of
 * the vocabulary.
 *
 * <p>The teacher cache (DESIGN.md, format v1) stores per position the ids of the teacher's top-K tokens,
 * their log-probabilities, and the log of the mass outside them (the tail bucket). Both distributions are
 * put on the same K+1 buckets and normalised the same way:
 * <pre>
 *   teacher:  a_k = lp_k (k = 1..K),  a_tail = lt,     log p_b = a_b - logsumexp_b(a)   (b over K+1 buckets)
 *   student:  log q_k = log softmax(z / T)_{id_k},    log q_tail = log(1 - sum_k q_k)
 *   l_i      = sum_b p_b (log p_b - log q_b)                                            (KL over K+1 buckets)
 * </pre>
 * The teacher's renormalisation only absorbs rounding of the cached values (when validating, its K+1
 * buckets must already sum to 1 within 1e-3); the student's K+1 buckets sum to 1 by construction. With
 * {@code tail = false} both sides are instead renormalised over the K ids alone (log p_k = lp_k -
 * logsumexp(lp), log q_k likewise), the "renormalised top-K" variant; the same normalisation on both sides
 * is what keeps the loss zero when the student equals the teacher (the bug of maxtext #4056 was
 * normalising only one side). This follows the top-K-plus-tail caches of TRL's server-side distillation
 * and DistillKit.
 *
 * <p>Student tail: by default log(1 - sum_k q_k) with 1 - sum_k q_k clamped below at 1e-30; in float32
 * this difference resolves about 1e-6 of mass (the rounding of the log-softmax), so when the student's
 * true tail is smaller than that its log is inexact, though the term is then weighted by the teacher's tail
 * mass. {@code exactTail = true} computes it instead as logsumexp over the non-top-K logits (the top-K
 * masked to -inf) minus logsumexp over all, exact in relative terms at the cost of two more passes over
 * the vocabulary.
 *
 * <p>Speed: the full (…, V) logits are touched only by one fused log-softmax and one gather of K columns
 * (and, backwards, the gather's scatter and the log-softmax's backward); everything else is on (…, K)
 * arrays. The vocabulary pass runs over chunks of {@code chunkElements} logits (whole positions, 2^20 by
 * default, 4 MiB in float32), so that no temporary of the full (…, V) size is ever made: only the
 * gradient itself has that size. The chunks stay in cache, and the allocator reuses their memory instead
 * of mapping fresh pages for each full-size temporary.
 *
 * <p>Labels: {@code [ids, lp, lt, mask?]}: ids (…, K) integer token ids, lp (…, K) their teacher
 * log-probabilities, lt (…) the log tail mass, and an optional padding mask (…) (1 counted, 0 padded; the
 * ids and values at padded positions are ignored, even if out of range or NaN). Here (…) is the item shape,
 * typically (B, T). Predictions: the student logits (…, V), K &lt; V. L is the mean over unpadded
 * positions. Value checks (when validating): 0 &lt;= id &lt; V, lp &lt;= 0, and with the tail the K+1
 * teacher buckets sum to 1 within 1e-3.
 */
public final class SparseTopKKlLoss extends DistillationLoss {
    private final double temperature;
    private final boolean tail;
    private final boolean exactTail;
    private final long chunkElements;

    /** Default number of logits per chunk of the student's vocabulary pass (4 MiB of float32). */
    public static final long DEFAULT_CHUNK_ELEMENTS = 1L << 20;

    /** Creates the loss with the tail bucket, temperature 1 and the fast student tail. */
    public SparseTopKKlLoss() {
        this(1.0, true, false);
    }

    /**
     * Creates the loss.
     *
     * @param temperature T, positive: divides the student logits (the cached teacher is taken as it is)
     * @param tail whether to use the K+1 buckets (true) or renormalise both sides over the top K (false)
     * @param exactTail whether to compute the student's tail by a masked logsumexp (exact, slower)
     */
    public SparseTopKKlLoss(double temperature, boolean tail, boolean exactTail) {
        this(temperature, tail, exactTail, DEFAULT_CHUNK_ELEMENTS);
    }

    /**
     * Creates the loss.
     *
     * @param temperature T, positive: divides the student logits (the cached teacher is taken as it is)
     * @param tail whether to use the K+1 buckets (true) or renormalise both sides over the top K (false)
     * @param exactTail whether to compute the student's tail by a masked logsumexp (exact, slower)
     * @param chunkElements how many logits one chunk of the vocabulary pass holds (whole rows, at least one
     *     row); 0 processes all positions at once
     */
    public SparseTopKKlLoss(double temperature, boolean tail, boolean exactTail, long chunkElements) {
        super("sparse-topk-kl");
        ArgumentChecks.positive("temperature", temperature);
        if (chunkElements < 0) {
            throw new IllegalArgumentException("chunk elements must be non-negative, got " + chunkElements);
        }
        this.temperature = temperature;
        this.tail = tail;
        this.exactTail = exactTail;
        this.chunkElements = chunkElements;
    }

    @Override
    public Shape itemShape(NDList predictions) {
        ArgumentChecks.predictionCount("sparse-topk-kl", predictions);
        Shape s = predictions.head().getShape();
        return s.slice(0, s.dimension() - 1);
    }

    @Override
    public NDArray itemLosses(NDList labels, NDList predictions) {
        ArgumentChecks.labelCount("sparse-topk-kl", labels, 3, "[top-K ids, top-K log-probabilities, log tail mass, mask?]");
        NDArray z = predictions.head();
        ArgumentChecks.minRank("sparse-topk-kl: predictions", z, 2);
        Shape item = itemShape(predictions);
        NDArray ids = labels.get(0);
        NDArray lp = labels.get(1);
        NDArray lt = labels.get(2);
        long v = z.getShape().getLastDimension();
        if (ids.getShape().dimension() != item.dimension() + 1 || !ids.getShape().slice(0, item.dimension()).equals(item)) {
            throw new IllegalArgumentException("sparse-topk-kl: top-K ids must have shape " + item + " + (K), got "
                    + ids.getShape() + " for predictions " + z.getShape());
        }
        long k = ids.getShape().getLastDimension();
        if (k <= 0 || k >= v) {
            throw new IllegalArgumentException("sparse-topk-kl: K must be in [1, V) with V = " + v + ", got " + k);
        }
        ArgumentChecks.sameShape("top-K log-probabilities", lp, "top-K ids", ids);
        ArgumentChecks.shape("log tail mass", lt, item);
        NDArray mask = maskAt("sparse-topk-kl", labels, 3, item, z);

        NDArray idx = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
        if (mask != null) {
            idx = keepWhere(mask, idx, 0);
            lp = keepWhere(mask, lp, LOG_FLOOR);
            lt = keepWhere(mask, lt, 0);
        }
        if (isValidate()) {
            long min = idx.min().getLong();
            long max = idx.max().getLong();
            if (min < 0 || max >= v) {
                throw new IllegalArgumentException("sparse-topk-kl: top-K ids must be in [0, " + v + "), got "
                        + (min < 0 ? min : max));
            }
            ArgumentChecks.logProbabilities("sparse-topk-kl: top-K log-probabilities", lp);
        }
        lp = lp.maximum(LOG_FLOOR);

        // teacher, normalised over its buckets
        NDArray pk = lp.exp();
        NDArray l;
        NDArray[] student = studentBuckets(z, idx, item, v, k, tail && exactTail);
        NDArray lqk = student[0];
        if (tail) {
            lt = lt.maximum(LOG_FLOOR);
            NDArray pt = lt.exp();
            NDArray sumT = pk.sum(new int[] {-1}).add(pt);
            if (isValidate()) {
                NDArray kept = mask == null ? sumT : keepWhere(mask, sumT, 1);
                float hi = ArgumentChecks.f(kept.max());
                float lo = ArgumentChecks.f(kept.min());
                if (!(hi <= 1 + ArgumentChecks.SIMPLEX_TOLERANCE && lo >= 1 - ArgumentChecks.SIMPLEX_TOLERANCE)) {
                    float bad = Float.isNaN(hi) || hi > 1 + ArgumentChecks.SIMPLEX_TOLERANCE ? hi : lo;
                    throw new IllegalArgumentException("sparse-topk-kl: teacher top-K plus tail masses must sum to 1 "
                            + "within " + ArgumentChecks.SIMPLEX_TOLERANCE + " (probabilities on the simplex), but a position "
                            + "sums to " + bad);
                }
            }
            NDArray logZ = sumT.log();
            NDArray logZk = logZ.expandDims(-1);
            NDArray pkN = pk.div(sumT.expandDims(-1));
            NDArray ptN = pt.div(sumT);
            NDArray lqt = exactTail ? student[1]
                    : Scalars.maximum(lqk.exp().sum(new int[] {-1}).neg().add(1), 1e-30).log();
            NDArray headKl = pkN.mul(lp.sub(logZk).sub(lqk)).sum(new int[] {-1});
            NDArray tailKl = ptN.mul(lt.sub(logZ).sub(lqt));
            l = headKl.add(tailKl);
        } else {
            NDArray sumT = pk.sum(new int[] {-1}, true);
            NDArray pkN = pk.div(sumT);
            NDArray logPk = lp.sub(sumT.log());
            NDArray logQk = lqk.sub(lqk.exp().sum(new int[] {-1}, true).log());
            l = pkN.mul(logPk.sub(logQk)).sum(new int[] {-1});
        }
        return mask == null ? l : l.mul(mask);
    }

    /**
     * The student's log-probabilities of the K ids, log softmax(z / T)_{id}, and (when asked) its exact log
     * tail mass. The vocabulary pass runs over chunks of whole rows so that no temporary the size of the
     * full logits is made: the log-softmax of a chunk is gathered at once and dropped. The backward pass
     * likewise works chunk by chunk, and only the gradient itself has the full size.
     */
    private NDArray[] studentBuckets(NDArray z, NDArray idx, Shape item, long v, long k, boolean exact) {
        long n = item.size();
        NDArray z2 = z.reshape(n, v);
        NDArray i2 = idx.reshape(n, k);
        long rows = chunkElements == 0 ? n : Math.max(1, chunkElements / v);
        NDList zc;
        NDList ic;
        if (rows >= n) {
            zc = new NDList(z2);
            ic = new NDList(i2);
        } else {
            long[] cuts = new long[(int) ((n - 1) / rows)];
            for (int c = 0; c < cuts.length; c++) {
                cuts[c] = (c + 1) * rows;
            }
            zc = z2.split(cuts, 0);
            ic = i2.split(cuts, 0);
        }
        NDList heads = new NDList(zc.size());
        NDList tails = new NDList(exact ? zc.size() : 0);
        for (int c = 0; c < zc.size(); c++) {
            NDArray zz = temperature == 1 ? zc.get(c) : Scalars.div(zc.get(c), temperature);
            heads.add(zz.logSoftmax(-1).gather(ic.get(c), -1));
            if (exact) {
                NDArray masked = zz.scatter(ic.get(c), zz.getManager().full(ic.get(c).getShape(),
                        Float.NEGATIVE_INFINITY, zz.getDataType()), -1);
                NDArray m = zz.max(new int[] {-1}, true).stopGradient();
                NDArray mt = masked.max(new int[] {-1}, true).stopGradient();
                NDArray lseAll = zz.sub(m).exp().sum(new int[] {-1}).log();
                NDArray lseTail = masked.sub(mt).exp().sum(new int[] {-1}).log();
                tails.add(lseTail.sub(lseAll).add(mt.sub(m).squeeze(-1)));
            }
        }
        NDArray lqk = (heads.size() == 1 ? heads.get(0) : NDArrays.concat(heads, 0)).reshape(item.add(k));
        NDArray lqt = exact ? (tails.size() == 1 ? tails.get(0) : NDArrays.concat(tails, 0)).reshape(item) : null;
        return new NDArray[] {lqk, lqt};
    }

    @Override
    public NDArray itemMask(NDList labels, NDList predictions) {
        return maskAt("sparse-topk-kl", labels, 3, itemShape(predictions), predictions.head());
    }

    /** @return the student temperature T */
    public double temperature() {
        return temperature;
    }

    /** @return whether the K+1-bucket form (with the tail) is used */
    public boolean tail() {
        return tail;
    }

    /** @return how many logits one chunk of the vocabulary pass holds (0: no chunking) */
    public long chunkElements() {
        return chunkElements;
    }

    /** @return whether the student's tail is computed exactly by a masked logsumexp */
    public boolean exactTail() {
        return exactTail;
    }

    @Override
    public List<Label> labels() {
        return List.of(Label.TOP_K_IDS, Label.TOP_K_LOG_PROBABILITIES, Label.TOP_K_LOG_TAIL);
    }
}

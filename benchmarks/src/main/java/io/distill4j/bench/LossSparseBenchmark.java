package io.distill4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.loss.Loss;
import io.distill4j.loss.KlDivergenceLoss;
import io.distill4j.loss.SparseTopKKlLoss;
import io.distill4j.loss.TeacherForm;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Sparse top-K KL with a tail bucket against the dense KL over the whole vocabulary, on the CPU: 512 tokens
 * (batch 4 x 128), vocabulary V = 32,000, K = 64 (issue 4: sparse must be at least 5x faster).
 *
 * <p>Kinds:
 * <ul>
 *   <li>{@code dense-logprobs}: {@link KlDivergenceLoss} with the teacher's full log-probabilities
 *       (4, 128, 32000), the form a dense cache holds;</li>
 *   <li>{@code dense-probs}: the same with the teacher's full probabilities;</li>
 *   <li>{@code sparse}: {@link SparseTopKKlLoss}, K+1 buckets, fast tail;</li>
 *   <li>{@code sparse-exact}: the same with the exact (masked logsumexp) student tail;</li>
 *   <li>{@code sparse-notail}: top-K renormalised on both sides;</li>
 *   <li>{@code sparse-validated}: {@code sparse} with its value checks on.</li>
 * </ul>
 * Value checks are off in the others (the dense ones would add passes over (4, 128, 32000)).
 * {@code pass}: {@code forward} (the loss value) or {@code backward} (value and gradient with respect to
 * the student logits).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 10, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--add-opens=java.base/java.nio=ALL-UNNAMED", "-Dai.djl.offline=true", "-Xmx6g"})
public class LossSparseBenchmark {

    static final int B = 4;
    static final int T = 128;
    static final int V = 32_000;
    static final int K = 64;

    @Param({"dense-logprobs", "dense-probs", "sparse", "sparse-exact", "sparse-notail", "sparse-validated"})
    public String kind;

    @Param({"forward", "backward"})
    public String pass;

    NDManager manager;
    NDArray studentLogits;
    NDList labels;
    Loss loss;

    @Setup(Level.Trial)
    public void setUp() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(7);
        studentLogits = manager.randomNormal(0, 2, new Shape(B, T, V), DataType.FLOAT32);
        NDArray teacherLogits = manager.randomNormal(0, 2, new Shape(B, T, V), DataType.FLOAT32);
        NDArray teacherLogProbs = teacherLogits.logSoftmax(2);
        if (kind.startsWith("dense")) {
            boolean logs = kind.equals("dense-logprobs");
            labels = new NDList(logs ? teacherLogProbs : teacherLogProbs.exp());
            loss = new KlDivergenceLoss(logs ? TeacherForm.LOG_PROBABILITIES : TeacherForm.PROBABILITIES, 1)
                    .setValidate(false);
        } else {
            NDList top = teacherLogProbs.topK(K, 2, true, true);
            NDArray lp = top.get(0);
            NDArray ids = top.get(1).toType(DataType.INT64, false);
            NDArray lt = lp.exp().sum(new int[] {2}).neg().add(1).maximum(1e-30f).log();
            labels = new NDList(ids, lp, lt);
            loss = new SparseTopKKlLoss(1, !kind.equals("sparse-notail"), kind.equals("sparse-exact"))
                    .setValidate(kind.equals("sparse-validated"));
        }
        if (pass.equals("backward")) {
            studentLogits.setRequiresGradient(true);
        }
        teacherLogits.close();
        if (kind.startsWith("sparse")) {
            teacherLogProbs.close();
        }
    }

    @Benchmark
    public float loss() {
        try (NDManager sub = manager.newSubManager()) {
            NDArray z = studentLogits;
            z.tempAttach(sub);
            labels.tempAttach(sub);
            if (pass.equals("forward")) {
                return loss.evaluate(labels, new NDList(z)).getFloat();
            }
            float v;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = loss.evaluate(labels, new NDList(z));
                v = l.getFloat();
                gc.backward(l);
            }
            return v + z.getGradient().getFloat(0, 0, 0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }
}

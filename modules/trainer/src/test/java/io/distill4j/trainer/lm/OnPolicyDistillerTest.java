package io.distill4j.trainer.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.Generation;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.models.lm.Lora;
import io.distill4j.models.lm.LoraConfig;
import io.distill4j.trainer.TrainingSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GKD on tiny models: the loss is the generalised JSD over response positions computed here in plain double
 * Java from the two models' logits, lmbda = 0 never generates, lmbda = 1 trains on the student's own samples,
 * the update follows the gradient's sign (finite differences), inverse-variance weights are as computed by
 * hand, LoRA students update only their adapters, and distillation lowers the divergence.
 */
class OnPolicyDistillerTest {
    static final int V = 23;
    NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    CausalLm student(int seed) {
        Engine.getInstance().setRandomSeed(seed);
        CausalLm m = new CausalLm(CausalLmConfig.builder(LmFamily.GPT2).vocabSize(V).hiddenSize(16).numLayers(1)
                .numHeads(2).maxPositions(24).dropout(0).initializerRange(0.3).build());
        m.initialize(manager);
        return m;
    }

    CausalLm teacher(int seed) {
        Engine.getInstance().setRandomSeed(seed);
        CausalLm m = new CausalLm(CausalLmConfig.builder(LmFamily.LLAMA).vocabSize(V).hiddenSize(16).numLayers(2)
                .numHeads(2).numKvHeads(1).intermediateSize(24).maxPositions(24).initializerRange(0.5).build());
        m.initialize(manager);
        return m;
    }

    static TrainingSpec spec(float lr) {
        return TrainingSpec.builder().setLearningRate(lr).optWeightDecay(0).build();
    }

    static List<LmExample> batch(long seed, int rows) {
        Random r = new Random(seed);
        List<LmExample> out = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            int[] p = new int[2 + r.nextInt(4)];
            int[] a = new int[1 + r.nextInt(6)];
            for (int j = 0; j < p.length; j++) {
                p[j] = r.nextInt(V);
            }
            for (int j = 0; j < a.length; j++) {
                a[j] = r.nextInt(V);
            }
            out.add(LmExample.of(p, a));
        }
        return out;
    }

    /** log-softmax rows (T, V) of one unpadded sequence, in double. */
    double[][] logSoftmax(CausalLm m, int[] seq) {
        try (NDManager sub = manager.newSubManager()) {
            long[][] ids = {java.util.Arrays.stream(seq).asLongStream().toArray()};
            float[] z = m.logits(new ParameterStore(sub, false), sub.create(ids), null, null, false).toFloatArray();
            double[][] out = new double[seq.length][V];
            for (int t = 0; t < seq.length; t++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < V; c++) {
                    max = Math.max(max, z[t * V + c]);
                }
                double s = 0;
                for (int c = 0; c < V; c++) {
                    s += Math.exp(z[t * V + c] - max);
                }
                for (int c = 0; c < V; c++) {
                    out[t][c] = z[t * V + c] - max - Math.log(s);
                }
            }
            return out;
        }
    }

    static double jsd(double[] lp, double[] lq, double beta) {
        double d = 0;
        for (int c = 0; c < lp.length; c++) {
            double p = Math.exp(lp[c]);
            double q = Math.exp(lq[c]);
            if (beta == 0) {
                d += p * (lp[c] - lq[c]);
            } else if (beta == 1) {
                d += q * (lq[c] - lp[c]);
            } else {
                double lm = Math.log(beta * p + (1 - beta) * q);
                d += beta * p * (lp[c] - lm) + (1 - beta) * q * (lq[c] - lm);
            }
        }
        return d;
    }

    /** Per-row sums of the JSD over response positions, and their counts. */
    double[][] rowSums(CausalLm s, CausalLm t, List<int[]> prompts, List<int[]> responses, double beta) {
        double[][] out = new double[prompts.size()][2];
        for (int r = 0; r < prompts.size(); r++) {
            int[] p = prompts.get(r);
            int[] a = responses.get(r);
            int[] seq = new int[p.length + a.length];
            System.arraycopy(p, 0, seq, 0, p.length);
            System.arraycopy(a, 0, seq, p.length, a.length);
            double[][] lq = logSoftmax(s, seq);
            double[][] lp = logSoftmax(t, seq);
            for (int i = p.length - 1; i < seq.length - 1; i++) {
                out[r][0] += jsd(lp[i], lq[i], beta);
                out[r][1]++;
            }
        }
        return out;
    }

    double reference(CausalLm s, CausalLm t, List<int[]> prompts, List<int[]> responses, double beta) {
        double sum = 0;
        double n = 0;
        for (double[] row : rowSums(s, t, prompts, responses, beta)) {
            sum += row[0];
            n += row[1];
        }
        return sum / n;
    }

    static List<int[]> prompts(List<LmExample> b) {
        return b.stream().map(LmExample::prompt).toList();
    }

    static List<int[]> answers(List<LmExample> b) {
        return b.stream().map(LmExample::answer).toList();
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, 0.3, 1})
    void lmbdaZeroIsOffPolicyJsdOnTheGivenResponses(double beta) {
        CausalLm s = student(1);
        CausalLm t = teacher(2);
        var settings = new OnPolicyDistiller.Settings(0, beta, 8, 1, 0, 1, 0, -1, 3);
        try (OnPolicyDistiller d = new OnPolicyDistiller(s, manager, t, settings, spec(1e-2f))) {
            for (int step = 0; step < 3; step++) {
                List<LmExample> b = batch(10 + step, 4);
                double want = reference(s, t, prompts(b), answers(b), beta);
                assertEquals(want, d.loss(b), 1e-5 * Math.max(1, want), "loss() at step " + step);
                OnPolicyDistiller.StepResult r = d.step(b);
                assertFalse(r.onPolicy(), "lmbda 0 generated");
                assertEquals(want, r.loss(), 1e-5 * Math.max(1, want), "step " + step + " beta " + beta);
                assertEquals(answers(b).stream().mapToInt(a -> a.length).sum(), r.tokens());
                for (int i = 0; i < b.size(); i++) {
                    assertArrayEquals(b.get(i).answer(), r.responses().get(i));
                }
            }
        }
    }

    /** A server-like teacher: the local teacher's top K per position and the tail, from its logits in double. */
    TopKScorer topK(CausalLm t, int k) {
        return new TopKScorer() {
            @Override
            public int topK() {
                return k;
            }

            @Override
            public List<Position[]> score(List<int[]> prompts, List<int[]> continuations) {
                List<Position[]> out = new ArrayList<>();
                for (int r = 0; r < prompts.size(); r++) {
                    int[] p = prompts.get(r);
                    int[] a = continuations.get(r);
                    int[] seq = new int[p.length + a.length];
                    System.arraycopy(p, 0, seq, 0, p.length);
                    System.arraycopy(a, 0, seq, p.length, a.length);
                    double[][] lp = logSoftmax(t, seq);
                    Position[] row = new Position[a.length];
                    for (int i = 0; i < a.length; i++) {
                        double[] d = lp[p.length - 1 + i];
                        int[] ids = java.util.stream.IntStream.range(0, V).boxed()
                                .sorted((x, y) -> Double.compare(d[y], d[x])).limit(k).mapToInt(Integer::intValue).toArray();
                        float[] l = new float[k];
                        double mass = 0;
                        for (int q = 0; q < k; q++) {
                            l[q] = (float) d[ids[q]];
                            mass += Math.exp(d[ids[q]]);
                        }
                        row[i] = new Position(ids, l, mass >= 1 ? Double.NEGATIVE_INFINITY : Math.log1p(-mass));
                    }
                    out.add(row);
                }
                return out;
            }
        };
    }

    /** The JSD over the teacher's top K and a tail bucket, in double: the reference of the top-K loss. */
    double topKReference(CausalLm s, CausalLm t, List<int[]> prompts, List<int[]> responses, double beta, int k) {
        double sum = 0;
        int n = 0;
        for (int r = 0; r < prompts.size(); r++) {
            int[] p = prompts.get(r);
            int[] a = responses.get(r);
            int[] seq = new int[p.length + a.length];
            System.arraycopy(p, 0, seq, 0, p.length);
            System.arraycopy(a, 0, seq, p.length, a.length);
            double[][] lq = logSoftmax(s, seq);
            double[][] lp = logSoftmax(t, seq);
            for (int i = p.length - 1; i < seq.length - 1; i++) {
                double[] d = lp[i];
                int[] ids = java.util.stream.IntStream.range(0, V).boxed()
                        .sorted((x, y) -> Double.compare(d[y], d[x])).limit(k).mapToInt(Integer::intValue).toArray();
                double[] bp = new double[k + 1];
                double[] bq = new double[k + 1];
                double mp = 0;
                double mq = 0;
                for (int q = 0; q < k; q++) {
                    bp[q] = d[ids[q]];
                    bq[q] = lq[i][ids[q]];
                    mp += Math.exp(bp[q]);
                    mq += Math.exp(bq[q]);
                }
                bp[k] = Math.log(Math.max(1 - mp, 1e-30));
                bq[k] = Math.log(Math.max(1 - mq, 1e-30));
                sum += jsd(bp, bq, beta);
                n++;
            }
        }
        return sum / n;
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, 0.4, 1})
    void aTopKTeacherIsComparedOverItsTopKAndTheTail(double beta) {
        CausalLm s = student(6);
        CausalLm t = teacher(7);
        var settings = new OnPolicyDistiller.Settings(0, beta, 8, 1, 0, 1, 0, -1, 3);
        OnPolicyBatches batches = new OnPolicyBatches(s, manager, topK(t, 5), settings);
        List<LmExample> b = batch(31, 4);
        double want = topKReference(s, t, prompts(b), answers(b), beta, 5);
        assertEquals(want, batches.evaluate(b), 1e-5 * Math.max(1, want), "evaluate, beta " + beta);
        // the training loss on a built batch: the same value through the labels the engine sees
        try (NDManager sub = manager.newSubManager()) {
            OnPolicyBatches.Built built = batches.build(sub, b, new Random(1));
            ai.djl.ndarray.NDArray z = s.logits(new ParameterStore(sub, false), built.batch().inputs().get(0),
                    built.batch().inputs().get(1), null, false);
            double got = OnPolicyBatches.loss(beta, 0, true).evaluate(built.batch().labels(), new ai.djl.ndarray.NDList(z))
                    .getFloat();
            assertEquals(want, got, 1e-5 * Math.max(1, want), "loss(), beta " + beta);
        }
        // with every id in the top K the tail is empty and the loss is the dense one
        OnPolicyBatches all = new OnPolicyBatches(s, manager, topK(t, V), settings);
        double dense = reference(s, t, prompts(b), answers(b), beta);
        assertEquals(dense, all.evaluate(b), 1e-4 * Math.max(1, dense), "K = V, beta " + beta);
    }

    @Test
    void lmbdaOneTrainsOnTheStudentsOwnGreedyContinuations() {
        CausalLm s = student(4);
        CausalLm t = teacher(5);
        var settings = new OnPolicyDistiller.Settings(1, 0.5, 6, 0, 0, 1, 0, -1, 0);
        try (OnPolicyDistiller d = new OnPolicyDistiller(s, manager, t, settings, spec(1e-2f))) {
            for (int step = 0; step < 2; step++) {
                List<LmExample> b = batch(20 + step, 3);
                List<int[]> greedy = new ArrayList<>();
                for (LmExample e : b) {
                    greedy.add(Generation.greedy(s, manager, e.prompt(), 6, -1));
                }
                double want = reference(s, t, prompts(b), greedy, 0.5);
                OnPolicyDistiller.StepResult r = d.step(b);
                assertTrue(r.onPolicy());
                for (int i = 0; i < b.size(); i++) {
                    assertArrayEquals(greedy.get(i), r.responses().get(i), "row " + i);
                    assertEquals(6, r.responses().get(i).length);
                }
                assertEquals(want, r.loss(), 1e-5 * Math.max(1, want), "step " + step);
            }
        }
    }

    @Test
    void theUpdateFollowsTheFiniteDifferenceGradient() {
        CausalLm s = student(6);
        CausalLm t = teacher(7);
        List<LmExample> b = batch(30, 3);
        double beta = 0.4;
        // finite differences of the plain-Java loss in a few weights of the first attention projection
        Parameter w = s.namedParameters().get("transformer.h.0.attn.c_attn.weight");
        float[] base = w.getArray().toFloatArray();
        int[] elements = {0, 7, 19, 40, 77, 130, 201, 333, 400, 511};
        double[] fd = new double[elements.length];
        float h = 1e-2f;
        for (int i = 0; i < elements.length; i++) {
            float[] v = base.clone();
            v[elements[i]] += h;
            w.getArray().set(v);
            double up = reference(s, t, prompts(b), answers(b), beta);
            v[elements[i]] -= 2 * h;
            w.getArray().set(v);
            double down = reference(s, t, prompts(b), answers(b), beta);
            fd[i] = (up - down) / (2 * h);
        }
        w.getArray().set(base);
        var settings = new OnPolicyDistiller.Settings(0, beta, 4, 1, 0, 1, 0, -1, 0);
        float lr = 1e-4f;
        try (OnPolicyDistiller d = new OnPolicyDistiller(s, manager, t, settings, spec(lr))) {
            d.step(b);
        }
        float[] after = s.namedParameters().get("transformer.h.0.attn.c_attn.weight").getArray().toFloatArray();
        int checked = 0;
        for (int i = 0; i < elements.length; i++) {
            if (Math.abs(fd[i]) < 1e-3) {
                continue; // Adam's first step is -lr * g / (|g| + eps): only the sign is informative
            }
            double moved = after[elements[i]] - base[elements[i]];
            assertEquals(-Math.signum(fd[i]) * lr, moved, 0.05 * lr, "element " + elements[i] + ", fd " + fd[i]);
            checked++;
        }
        assertTrue(checked >= 5, "only " + checked + " elements had a gradient above 1e-3");
    }

    @Test
    void inverseVarianceWeightsComeFromTheSpreadOfTheSamples() {
        CausalLm s = student(8);
        CausalLm t = teacher(9);
        int k = 3;
        double eps = 1e-3;
        var settings = new OnPolicyDistiller.Settings(1, 0.5, 5, 1.0, 0, k, eps, -1, 11);
        List<LmExample> b = batch(40, 3);
        try (OnPolicyDistiller d = new OnPolicyDistiller(s, manager, t, settings, spec(1e-3f))) {
            // the reference reads the student before the step: compute it from the step's own responses
            List<int[]> prompts = new ArrayList<>();
            for (LmExample e : b) {
                for (int j = 0; j < k; j++) {
                    prompts.add(e.prompt());
                }
            }
            CausalLm before = student(8);
            OnPolicyDistiller.StepResult r = d.step(b);
            assertTrue(r.onPolicy());
            assertEquals(b.size() * k, r.responses().size());
            double[][] rows = rowSums(before, t, prompts, r.responses(), 0.5);
            double[] w = new double[rows.length];
            for (int p = 0; p < b.size(); p++) {
                double[] m = new double[k];
                double mean = 0;
                for (int j = 0; j < k; j++) {
                    m[j] = rows[p * k + j][0] / rows[p * k + j][1];
                    mean += m[j] / k;
                }
                double var = 0;
                for (int j = 0; j < k; j++) {
                    var += (m[j] - mean) * (m[j] - mean) / (k - 1);
                }
                for (int j = 0; j < k; j++) {
                    w[p * k + j] = 1 / (var + eps);
                }
            }
            double wsum = 0;
            for (double x : w) {
                wsum += x;
            }
            double num = 0;
            double den = 0;
            for (int i = 0; i < rows.length; i++) {
                assertEquals(w[i] * rows.length / wsum, r.weights()[i], 1e-4 * w[i] * rows.length / wsum, "row " + i);
                num += w[i] * rows[i][0];
                den += w[i] * rows[i][1];
            }
            assertEquals(num / den, r.loss(), 1e-5 * Math.max(1, num / den));
            // the weights differ between prompts: the test is not one of equal weights
            assertNotEquals(r.weights()[0], r.weights()[k], 1e-3f);
        }
    }

    @Test
    void aLoraStudentUpdatesOnlyItsAdapters() {
        CausalLm s = student(12);
        CausalLm t = teacher(13);
        Map<String, float[]> base = new java.util.LinkedHashMap<>();
        s.namedParameters().forEach((n, p) -> base.put(n, p.getArray().toFloatArray()));
        Lora lora = Lora.attach(s, LoraConfig.of(2, 4, "q", "o", "mlp"));
        Map<String, float[]> adapters = new java.util.LinkedHashMap<>();
        lora.namedParameters().forEach((n, p) -> adapters.put(n, p.getArray().toFloatArray()));
        var settings = new OnPolicyDistiller.Settings(0.5, 0.5, 4, 1.0, 0, 2, 1e-3, -1, 5);
        try (OnPolicyDistiller d = new OnPolicyDistiller(s, manager, t, settings, spec(1e-2f))) {
            for (int step = 0; step < 3; step++) {
                d.step(batch(50 + step, 2));
            }
        }
        s.namedParameters().forEach((n, p) -> assertArrayEquals(base.get(n), p.getArray().toFloatArray(), 0f, n));
        lora.namedParameters().forEach((n, p) -> {
            if (n.endsWith("lora_B.weight")) {
                assertFalse(java.util.Arrays.equals(adapters.get(n), p.getArray().toFloatArray()), n + " unchanged");
            }
        });
    }

    @Test
    void distillationLowersTheDivergenceOnHeldOutPrompts() {
        CausalLm s = student(14);
        CausalLm t = teacher(15);
        List<LmExample> heldOut = batch(99, 6);
        var settings = new OnPolicyDistiller.Settings(0.5, 0.5, 6, 1.0, 0, 1, 0, -1, 2);
        try (OnPolicyDistiller d = new OnPolicyDistiller(s, manager, t, settings, spec(3e-2f))) {
            double before = d.loss(heldOut);
            int onPolicy = 0;
            for (int step = 0; step < 30; step++) {
                onPolicy += d.step(batch(step, 4)).onPolicy() ? 1 : 0;
            }
            double after = d.loss(heldOut);
            assertTrue(after < 0.8 * before, "held-out JSD " + before + " -> " + after);
            assertTrue(onPolicy > 5 && onPolicy < 25, onPolicy + " of 30 batches on-policy at lmbda 0.5");
        }
    }
}

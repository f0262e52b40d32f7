package io.distill4j.experiments;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.Generation;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.trainer.TrainingSession;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.lm.AnswerLoss;
import io.distill4j.trainer.lm.OnPolicyDistiller;
import io.distill4j.pipeline.Plots;
import io.distill4j.pipeline.RunInfo;
import io.distill4j.trainer.stats.Summary;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.knowm.xchart.XYChart;

/**
 * On-policy against off-policy distillation of a causal LM (GKD, Agarwal et al. 2024), at equal steps.
 *
 * <p>A GPT-2-family teacher is trained by distill4j (next-token cross-entropy, AdamW through the engine's
 * {@link TrainingSession}) on sequences of a random sparse Markov chain (each token has a few likely
 * successors). Students of one architecture, initialised alike per seed, are distilled from it on the same
 * training prompts for the same number of steps with {@link OnPolicyDistiller} and the same generalised JSD
 * loss: <b>off-policy</b> (lmbda = 0) on continuations sampled once from the teacher (supervised KD on
 * teacher samples), <b>on-policy</b> (lmbda as configured) on the student's own samples. Measured on held-out
 * prompts: the sequence-level reverse KL(q_S || p_T) of fixed-length continuations, estimated as the mean of
 * log q_S(y|x) - log p_T(y|x) over continuations sampled from the student (temperature 1), and the forward
 * KL(p_T || q_S) over continuations sampled from the teacher. Intervals: Student-t over seeds
 * ({@link Summary}), of each method and of the paired difference. The claim checked: on-policy gives the lower
 * reverse sequence KL.
 */
public final class OnPolicyExperiment implements Experiment {

    /**
     * A model shape.
     *
     * @param hidden width
     * @param layers layers
     * @param heads heads
     */
    public record Shape3(int hidden, int layers, int heads) {
        /**
         * Validates.
         *
         * @param hidden width
         * @param layers layers
         * @param heads heads
         */
        public Shape3 {
            if (hidden < 1 || layers < 1 || heads < 1 || hidden % heads != 0) {
                throw new IllegalArgumentException("hidden, layers and heads must be positive and hidden divisible by "
                        + "heads, got " + hidden + ", " + layers + ", " + heads);
            }
        }
    }

    /**
     * The settings ({@code experiments/on-policy.yaml}).
     *
     * @param seed seed of the chain, the teacher and (offset) the students
     * @param vocab tokens of the chain
     * @param successors likely successors per token
     * @param promptLength prompt tokens
     * @param responseLength continuation tokens (no end token: every continuation has this length)
     * @param trainPrompts training prompts
     * @param heldOutPrompts held-out prompts
     * @param teacher the teacher's shape
     * @param teacherSteps the teacher's training steps
     * @param teacherSequences the teacher's training sequences
     * @param student the students' shape
     * @param students students (seeds) per method
     * @param steps distillation steps per student
     * @param batchRows prompts per step
     * @param learningRate the students' learning rate
     * @param beta the JSD beta
     * @param lmbda the on-policy method's on-policy fraction
     * @param evalSamples continuations per held-out prompt for each KL estimate
     */
    public record Config(long seed, int vocab, int successors, int promptLength, int responseLength, int trainPrompts,
            int heldOutPrompts, Shape3 teacher, int teacherSteps, int teacherSequences, Shape3 student, int students,
            int steps, int batchRows, double learningRate, double beta, double lmbda, int evalSamples) {
        /**
         * Validates.
         *
         * @param seed seed of the chain, the teacher and (offset) the students
         * @param vocab tokens of the chain
         * @param successors likely successors per token
         * @param promptLength prompt tokens
         * @param responseLength continuation tokens (no end token: every continuation has this length)
         * @param trainPrompts training prompts
         * @param heldOutPrompts held-out prompts
         * @param teacher the teacher's shape
         * @param teacherSteps the teacher's training steps
         * @param teacherSequences the teacher's training sequences
         * @param student the students' shape
         * @param students students (seeds) per method
         * @param steps distillation steps per student
         * @param batchRows prompts per step
         * @param learningRate the students' learning rate
         * @param beta the JSD beta
         * @param lmbda the on-policy method's on-policy fraction
         * @param evalSamples continuations per held-out prompt for each KL estimate
         */
        public Config {
            if (vocab < 2 || successors < 1 || successors > vocab || promptLength < 1 || responseLength < 1
                    || trainPrompts < 1 || heldOutPrompts < 1 || teacherSteps < 1 || teacherSequences < 1
                    || students < 2 || steps < 1 || batchRows < 1 || evalSamples < 1) {
                throw new IllegalArgumentException("sizes must be positive (students at least 2, successors at most vocab)");
            }
            if (!(learningRate > 0) || !(beta >= 0 && beta <= 1) || !(lmbda > 0 && lmbda <= 1)) {
                throw new IllegalArgumentException("learningRate must be positive, beta in [0, 1], lmbda in (0, 1]; got "
                        + learningRate + ", " + beta + ", " + lmbda);
            }
        }
    }

    /** Creates the experiment. */
    public OnPolicyExperiment() {
    }

    @Override
    public String name() {
        return "on-policy";
    }

    @Override
    public Report run(ConfigFile config, boolean quick, Path outDir) throws IOException {
        Config cfg = ExperimentFile.bind(config, Config.class);
        RunInfo info = RunInfo.start(RunInfo.commandLine(), Engine.getInstance().defaultDevice());
        long t0 = System.nanoTime();
        int context = cfg.promptLength() + cfg.responseLength();
        double[][] chain = chain(cfg);
        double[] rev = new double[2 * cfg.students()];
        double[] fwd = new double[2 * cfg.students()];
        double teacherLoss;
        try (Model tm = Model.newInstance("on-policy-teacher"); NDManager base = NDManager.newBaseManager()) {
            CausalLm teacher = model(cfg.teacher(), cfg.vocab(), context, (int) cfg.seed() + 1, tm.getNDManager());
            tm.setBlock(teacher);
            teacherLoss = trainTeacher(cfg, chain, tm, context);
            Random r = new Random(cfg.seed() + 2);
            List<int[]> train = prompts(chain, cfg.trainPrompts(), cfg.promptLength(), r);
            List<int[]> heldOut = prompts(chain, cfg.heldOutPrompts(), cfg.promptLength(), r);
            // off-policy data: one teacher continuation per training prompt, sampled once
            List<LmExample> offData = new ArrayList<>();
            for (int[] p : train) {
                offData.add(LmExample.of(p, Generation.sample(teacher, base, p, cfg.responseLength(), -1, 1.0, 0, r)));
            }
            for (int s = 0; s < cfg.students(); s++) {
                for (int m = 0; m < 2; m++) {
                    try (NDManager sm = base.newSubManager()) {
                        CausalLm student = model(cfg.student(), cfg.vocab(), context, (int) cfg.seed() + 100 + s, sm);
                        var gkd = new OnPolicyDistiller.Settings(m == 0 ? 0 : cfg.lmbda(), cfg.beta(),
                                cfg.responseLength(), 1.0, 0, 1, 0, -1, cfg.seed() + 200 + s);
                        Random order = new Random(cfg.seed() + 300 + s);
                        try (OnPolicyDistiller d = new OnPolicyDistiller(student, sm, teacher, gkd,
                                TrainingSpec.builder().setLearningRate((float) cfg.learningRate()).optWeightDecay(0)
                                        .build())) {
                            for (int step = 0; step < cfg.steps(); step++) {
                                List<LmExample> b = new ArrayList<>();
                                for (int i = 0; i < cfg.batchRows(); i++) {
                                    b.add(offData.get(order.nextInt(offData.size())));
                                }
                                d.step(b);
                            }
                        }
                        Random er = new Random(cfg.seed() + 400 + s);
                        rev[2 * s + m] = sequenceKl(student, teacher, heldOut, cfg, sm, er, true);
                        fwd[2 * s + m] = sequenceKl(student, teacher, heldOut, cfg, sm, er, false);
                    }
                }
            }
        }
        return report(cfg, quick, teacherLoss, rev, fwd, (System.nanoTime() - t0) / 1e9, outDir,
                r -> r.provenance(info.finish(), config.root()).seed("seed", cfg.seed()));
    }

    private static Report report(Config cfg, boolean quick, double teacherLoss, double[] rev, double[] fwd,
            double seconds, Path outDir, java.util.function.Consumer<Report> provenance) throws IOException {
        int n = cfg.students();
        double[][] byMethod = new double[4][n];
        double[] dRev = new double[n];
        double[] dFwd = new double[n];
        for (int s = 0; s < n; s++) {
            byMethod[0][s] = rev[2 * s];
            byMethod[1][s] = rev[2 * s + 1];
            byMethod[2][s] = fwd[2 * s];
            byMethod[3][s] = fwd[2 * s + 1];
            dRev[s] = rev[2 * s + 1] - rev[2 * s];
            dFwd[s] = fwd[2 * s + 1] - fwd[2 * s];
        }
        Summary offR = Summary.of(byMethod[0]);
        Summary onR = Summary.of(byMethod[1]);
        Summary offF = Summary.of(byMethod[2]);
        Summary onF = Summary.of(byMethod[3]);
        Summary diffR = Summary.of(dRev);
        Summary diffF = Summary.of(dFwd);
        Report r = new Report("On-policy vs off-policy distillation of a causal LM (GKD)" + (quick ? " (quick)" : ""));
        r.paragraph(String.format(Locale.ROOT, "Teacher: GPT-2 family, %d layers x %d, trained by distill4j for %d steps "
                + "on %d sequences of a random Markov chain over %d tokens (%d likely successors each); last training "
                + "loss %.3f nats/token. Students: %d layers x %d, %d seeds per method, %d steps of %d prompts each, "
                + "AdamW at %.4g, generalised JSD with beta %.2f. Off-policy: lmbda 0 on one teacher continuation per "
                + "training prompt (sampled once at temperature 1). On-policy: lmbda %.2f, the student's own samples "
                + "(temperature 1). Prompts of %d tokens, continuations of %d; %d held-out prompts, %d continuations "
                + "each per estimate. %.0f s.", cfg.teacher().layers(), cfg.teacher().hidden(), cfg.teacherSteps(),
                cfg.teacherSequences(), cfg.vocab(), cfg.successors(), teacherLoss, cfg.student().layers(),
                cfg.student().hidden(), n, cfg.steps(), cfg.batchRows(), cfg.learningRate(), cfg.beta(), cfg.lmbda(),
                cfg.promptLength(), cfg.responseLength(), cfg.heldOutPrompts(), cfg.evalSamples(), seconds));
        r.paragraph("Sequence-level KL in nats per continuation; ± is the " + offR.meaning("seeds")
                + "; the difference is paired by seed (same initialisation and prompt order).");
        r.table(List.of("metric", "off-policy", "on-policy", "on - off"), List.of(
                List.of("reverse KL(q_S || p_T) (student samples)", offR.format(3), onR.format(3), diffR.formatSigned(3)),
                List.of("forward KL(p_T || q_S) (teacher samples)", offF.format(3), onF.format(3), diffF.formatSigned(3))));
        boolean holds = diffR.high() < 0;
        r.check("on-policy students reach a lower reverse sequence-level KL to the teacher than off-policy ones at "
                + "equal steps", holds, "paired difference " + diffR.formatSigned(3)
                + (holds ? " (interval below 0)" : " (interval not below 0: the claim is not shown)"));
        r.paragraph(holds ? "The claim holds in this run." : "The claim does not hold in this run.");
        List<Summary> shown = List.of(offR, onR, offF, onF);
        XYChart chart = Plots.intervals("Sequence-level KL to the teacher on held-out prompts", "method and direction",
                "KL, nats (mean, 95% t interval, " + n + " seeds)",
                List.of("off-policy, reverse KL", "on-policy, reverse KL", "off-policy, forward KL",
                        "on-policy, forward KL"),
                shown.stream().mapToDouble(Summary::mean).toArray(), shown.stream().mapToDouble(Summary::low).toArray(),
                shown.stream().mapToDouble(Summary::high).toArray());
        chart.getStyler().setYAxisDecimalPattern("0.0##");
        r.plot("on-policy-kl", chart);
        r.data("reverseKl", rev).data("forwardKl", fwd).data("teacherLoss", teacherLoss)
                .data("reverseDifference", dRev).data("forwardDifference", dFwd);
        provenance.accept(r);
        r.write(outDir);
        return r;
    }

    /** Row-stochastic transitions: each token's successors get Dirichlet(1) weights, the rest 0. */
    static double[][] chain(Config cfg) {
        Random r = new Random(cfg.seed());
        double[][] p = new double[cfg.vocab()][cfg.vocab()];
        for (double[] row : p) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < cfg.vocab(); i++) {
                ids.add(i);
            }
            java.util.Collections.shuffle(ids, r);
            double sum = 0;
            for (int j = 0; j < cfg.successors(); j++) {
                double g = -Math.log(1 - r.nextDouble());
                row[ids.get(j)] = g;
                sum += g;
            }
            for (int j = 0; j < row.length; j++) {
                row[j] /= sum;
            }
        }
        return p;
    }

    private static int next(double[] row, Random r) {
        double u = r.nextDouble();
        double c = 0;
        for (int j = 0; j < row.length; j++) {
            c += row[j];
            if (u < c) {
                return j;
            }
        }
        int last = row.length - 1;
        while (row[last] == 0) {
            last--;
        }
        return last;
    }

    private static int[] walk(double[][] chain, int length, Random r) {
        int[] s = new int[length];
        s[0] = r.nextInt(chain.length);
        for (int i = 1; i < length; i++) {
            s[i] = next(chain[s[i - 1]], r);
        }
        return s;
    }

    private static List<int[]> prompts(double[][] chain, int n, int length, Random r) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(walk(chain, length, r));
        }
        return out;
    }

    private static CausalLm model(Shape3 s, int vocab, int context, int seed, NDManager manager) {
        Engine.getInstance().setRandomSeed(seed);
        CausalLm m = new CausalLm(CausalLmConfig.builder(LmFamily.GPT2).vocabSize(vocab).hiddenSize(s.hidden())
                .numLayers(s.layers()).numHeads(s.heads()).maxPositions(context).dropout(0).bosTokenId(-1)
                .eosTokenId(-1).build());
        m.initialize(manager);
        return m;
    }

    private static double trainTeacher(Config cfg, double[][] chain, Model tm, int context) {
        Random r = new Random(cfg.seed() + 3);
        List<int[]> seqs = prompts(chain, cfg.teacherSequences(), context + 1, r);
        int rows = 16;
        float loss = Float.NaN;
        try (TrainingSession session = new TrainingSession(tm, new AnswerLoss(0),
                TrainingSpec.builder().setLearningRate(3e-3f).optWeightDecay(0).build())) {
            long[] ids = new long[rows * context];
            long[] targets = new long[rows * context];
            float[] ones = new float[rows * context];
            Arrays.fill(ones, 1f);
            Shape shape = new Shape(rows, context);
            for (int step = 0; step < cfg.teacherSteps(); step++) {
                for (int b = 0; b < rows; b++) {
                    int[] s = seqs.get(r.nextInt(seqs.size()));
                    for (int t = 0; t < context; t++) {
                        ids[b * context + t] = s[t];
                        targets[b * context + t] = s[t + 1];
                    }
                }
                try (NDManager sub = tm.getNDManager().newSubManager()) {
                    loss = session.forwardBackward(new NDList(sub.create(ids, shape)),
                            new NDList(sub.create(targets, shape), sub.create(ones, shape)), 1f);
                    session.update(3e-3f);
                }
            }
        }
        return loss;
    }

    /**
     * Monte-Carlo sequence-level KL on held-out prompts: reverse (samples from the student) or forward (samples
     * from the teacher), mean over prompts and samples of log a(y|x) - log b(y|x), a the sampling model.
     */
    static double sequenceKl(CausalLm student, CausalLm teacher, List<int[]> prompts, Config cfg, NDManager m,
            Random r, boolean reverse) {
        CausalLm from = reverse ? student : teacher;
        CausalLm other = reverse ? teacher : student;
        double total = 0;
        int count = 0;
        for (int[] p : prompts) {
            for (int j = 0; j < cfg.evalSamples(); j++) {
                int[] y = Generation.sample(from, m, p, cfg.responseLength(), -1, 1.0, 0, r);
                int[] seq = new int[p.length + y.length];
                System.arraycopy(p, 0, seq, 0, p.length);
                System.arraycopy(y, 0, seq, p.length, y.length);
                total += logProb(from, seq, p.length, m) - logProb(other, seq, p.length, m);
                count++;
            }
        }
        return total / count;
    }

    private static double logProb(CausalLm model, int[] seq, int promptLength, NDManager m) {
        try (NDManager sub = m.newSubManager()) {
            long[][] ids = {Arrays.stream(seq).asLongStream().toArray()};
            float[] z = model.logits(new ParameterStore(sub, false), sub.create(ids), null, null, false)
                    .logSoftmax(2).toFloatArray();
            int v = model.config().vocabSize();
            double lp = 0;
            for (int t = promptLength - 1; t < seq.length - 1; t++) {
                lp += z[t * v + seq[t + 1]];
            }
            return lp;
        }
    }
}

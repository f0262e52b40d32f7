package io.distill4j.experiments;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.Generation;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.models.lm.LmPreset;
import io.distill4j.models.lm.LmTokenizer;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.Draws;
import io.distill4j.pipeline.Plots;
import io.distill4j.pipeline.RunInfo;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.pipeline.Teachers;
import io.distill4j.trainer.TrainingSession;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.lm.AnswerLoss;
import io.distill4j.trainer.lm.LmOptions;
import io.distill4j.trainer.stats.Summary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * successors) and saved as a Hugging Face folder with a word-level tokenizer (token i is the word {@code t<i>}).
 * The students are trained by the pipeline, as {@code distill4j train} trains them with {@code lm.mode: on-policy}:
 * the teacher's sample job ({@code runs/sample.yaml}) draws one continuation per prompt into a sequence cache, and
 * each method is a {@link Distillation} run ({@code runs/<method>/}: results, model card, students as Hugging Face
 * folders) whose students, of one architecture and initialised alike per seed, take the same number of updates on
 * the same training prompts with the same generalised JSD loss: <b>off-policy</b> (lmbda = 0) on the teacher's
 * cached continuations (supervised KD on teacher samples), <b>on-policy</b> (lmbda as configured) on the student's
 * own samples, scored by the teacher's folder. Measured from the saved students on the held-out prompts (the runs'
 * held-out part): the sequence-level reverse KL(q_S || p_T) of fixed-length continuations, estimated as the mean of
 * log q_S(y|x) - log p_T(y|x) over continuations sampled from the student (temperature 1), and the forward
 * KL(p_T || q_S) over continuations sampled from the teacher. Intervals: Student-t over seeds
 * ({@link Summary}), of each method and of the paired difference. The claim checked: on-policy gives the lower
 * reverse sequence KL.
 */
public final class OnPolicyExperiment implements Experiment {

    private static final org.apache.logging.log4j.Logger LOG = org.apache.logging.log4j.LogManager.getLogger(
            OnPolicyExperiment.class);

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
        Path runs = outDir.resolve("runs");
        Path teacherDir = runs.resolve(TEACHER);
        Files.createDirectories(runs);
        Path tokenizer = runs.resolve(HfFolder.TOKENIZER);
        WordTokenizer.writeWords(tokenizer, words(cfg.vocab()));
        double teacherLoss;
        try (Model tm = Model.newInstance("on-policy-teacher"); LmTokenizer tok = LmTokenizer.load(tokenizer)) {
            CausalLm teacher = model(cfg.teacher(), cfg.vocab(), context, (int) cfg.seed() + 1, tm.getNDManager());
            tm.setBlock(teacher);
            teacherLoss = trainTeacher(cfg, chain, tm, context);
            HfFolder.save(teacher, tok, teacherDir);
        }
        Random r = new Random(cfg.seed() + 2);
        List<int[]> train = prompts(chain, cfg.trainPrompts(), cfg.promptLength(), r);
        List<int[]> heldOut = prompts(chain, cfg.heldOutPrompts(), cfg.promptLength(), r);
        SampleSpec job = sampleJob(cfg, runs, train, heldOut);
        List<Long> seeds = new ArrayList<>();
        for (int s = 0; s < cfg.students(); s++) {
            seeds.add(cfg.seed() + 100 + s);
        }
        RunResult[] runResults = new RunResult[2];
        for (int m = 0; m < 2; m++) {
            runResults[m] = students(cfg, job, seeds, m == 0 ? 0 : cfg.lmbda()).fit(runs.resolve(METHODS.get(m)));
        }
        double[] rev = new double[2 * cfg.students()];
        double[] fwd = new double[2 * cfg.students()];
        try (NDManager base = NDManager.newBaseManager()) {
            CausalLm teacher = load(teacherDir, base);
            checkPrompts(job, train, heldOut);
            for (int s = 0; s < cfg.students(); s++) {
                for (int m = 0; m < 2; m++) {
                    try (NDManager sm = base.newSubManager()) {
                        CausalLm student = load(studentFolder(runs, METHODS.get(m), seeds.get(s)), sm);
                        Random er = new Random(cfg.seed() + 400 + s);
                        rev[2 * s + m] = sequenceKl(student, teacher, heldOut, cfg, sm, er, true);
                        fwd[2 * s + m] = sequenceKl(student, teacher, heldOut, cfg, sm, er, false);
                    }
                }
            }
        }
        return report(cfg, quick, teacherLoss, rev, fwd, runResults, (System.nanoTime() - t0) / 1e9, outDir,
                rep -> rep.provenance(info.finish(), config.root()).seed("seed", cfg.seed()));
    }

    /** The two methods, in report order; each is a pipeline run in {@code runs/<method>}. */
    static final List<String> METHODS = List.of("off-policy", "on-policy");
    /** The teacher's Hugging Face folder under {@code runs/}. */
    static final String TEACHER = "teacher";

    /**
     * The folder of a student a method's pipeline run saved.
     *
     * @param runs the experiment's {@code runs/} folder
     * @param method one of {@link #METHODS}
     * @param seed the student's seed
     * @return its Hugging Face folder
     */
    static Path studentFolder(Path runs, String method, long seed) {
        return runs.resolve(method).resolve("students").resolve("seed-" + seed);
    }

    /** The chain's tokens as words of the teacher's tokenizer: id i is {@code t<i>}. */
    private static List<String> words(int vocab) {
        List<String> w = new ArrayList<>(vocab);
        for (int i = 0; i < vocab; i++) {
            w.add("t" + i);
        }
        return w;
    }

    private static String text(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(sb.length() == 0 ? "" : " ").append('t').append(id);
        }
        return sb.toString();
    }

    /**
     * The teacher's sample job (written to {@code runs/sample.yaml}, as {@code distill4j sample} reads it): the
     * training prompts then the held-out ones, as words of the tokenizer, and one continuation of
     * {@code responseLength} tokens per prompt sampled from the teacher folder at temperature 1 with no end token.
     */
    private static SampleSpec sampleJob(Config cfg, Path runs, List<int[]> train, List<int[]> heldOut)
            throws IOException {
        StringBuilder prompts = new StringBuilder();
        for (List<int[]> part : List.of(train, heldOut)) {
            for (int[] p : part) {
                prompts.append(text(p)).append('\n');
            }
        }
        AtomicFiles.write(runs.resolve("prompts.txt"), prompts.toString().getBytes(StandardCharsets.UTF_8));
        String yaml = String.format(Locale.ROOT, """
                # the on-policy experiment's teacher samples: one continuation per prompt (the off-policy data)
                cache: teacher-cache
                k: 1
                seed: %d
                prompts: {file: prompts.txt}
                teacher: {type: lm, folder: %s, maxTokens: %d, temperature: 1.0}
                """, cfg.seed() + 2, TEACHER, cfg.responseLength());
        Path file = runs.resolve("sample.yaml");
        AtomicFiles.write(file, yaml.getBytes(StandardCharsets.UTF_8));
        return SampleSpec.load(file);
    }

    /**
     * One method's students as a pipeline run: the sample job as teacher (its folder scores the students'
     * continuations), students of the configured shape initialised from their seeds, {@code lm.mode on-policy} with
     * the method's lmbda, the last {@code heldOutPrompts} prompts held out, shared draws (every student learns on the
     * same teacher continuation per prompt), {@code steps} updates of {@code batchRows} prompts.
     */
    static Distillation students(Config cfg, SampleSpec job, List<Long> seeds, double lmbda) {
        int context = cfg.promptLength() + cfg.responseLength();
        int prompts = cfg.trainPrompts() + cfg.heldOutPrompts();
        int perEpoch = (cfg.trainPrompts() + cfg.batchRows() - 1) / cfg.batchRows();
        var lm = new LmOptions(LmOptions.Mode.ON_POLICY, null, null, null, (double) cfg.heldOutPrompts() / prompts,
                lmbda, cfg.beta(), 1, 0.0, cfg.responseLength(), 1.0);
        TrainingSpec spec = TrainingSpec.builder().setEpochs((cfg.steps() + perEpoch - 1) / perEpoch)
                .optMaxSteps(cfg.steps()).setBatchSize(cfg.batchRows()).setLearningRate((float) cfg.learningRate())
                .optWeightDecay(0).optLogEvery(0).optProgressBar(false).build();
        return Distillation.builder().name(lmbda == 0 ? METHODS.get(0) : METHODS.get(1)).teacher(Teachers.sampleJob(job))
                .student(LmPreset.of(config(cfg.student(), cfg.vocab(), context))).lm(lm).seeds(seeds)
                .draws(Draws.SHARED).samples(1).training(spec).log(LOG::debug).build();
    }

    /** Checks that the sample job's cache holds the experiment's prompts as token ids (the tokenizer's round trip). */
    private static void checkPrompts(SampleSpec job, List<int[]> train, List<int[]> heldOut) {
        List<int[]> all = new ArrayList<>(train);
        all.addAll(heldOut);
        try (SequenceCacheReader reader = TeacherCache.open(job.cache()).sequence()) {
            for (int i = 0; i < all.size(); i++) {
                if (!Arrays.equals(reader.read(i).prompt(), all.get(i))) {
                    throw new IllegalStateException(job.cache() + ": prompt " + i + " is "
                            + Arrays.toString(reader.read(i).prompt()) + ", the experiment's " + Arrays.toString(all.get(i)));
                }
            }
        }
    }

    private static CausalLm load(Path folder, NDManager manager) {
        HfFolder.Loaded loaded = HfFolder.load(folder, manager);
        loaded.close();
        return loaded.model();
    }

    private static Report report(Config cfg, boolean quick, double teacherLoss, double[] rev, double[] fwd,
            RunResult[] runs, double seconds, Path outDir, java.util.function.Consumer<Report> provenance) throws IOException {
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
                + "loss %.3f nats/token; saved as a Hugging Face folder with a word-level tokenizer (token i is the word "
                + "t<i>). Students: trained by the pipeline (Distillation, lm mode on-policy), one run per method under "
                + "runs/off-policy and runs/on-policy, each student saved as a Hugging Face folder and measured from it; "
                + "%d layers x %d, %d seeds per method (initialised alike per seed), %d updates of %d prompts each (each "
                + "epoch a permutation of the %d training prompts drawn from the seed), AdamW at %.4g, generalised JSD "
                + "with beta %.2f. Off-policy: lmbda 0 on the one teacher continuation per training prompt that the "
                + "pipeline's sample job drew (runs/sample.yaml, temperature 1). On-policy: lmbda %.2f, the student's "
                + "own samples (temperature 1) scored by the teacher's folder. Prompts of %d tokens, continuations of "
                + "%d; %d held-out prompts, %d continuations each per estimate. %.0f s.", cfg.teacher().layers(),
                cfg.teacher().hidden(), cfg.teacherSteps(), cfg.teacherSequences(), cfg.vocab(), cfg.successors(),
                teacherLoss, cfg.student().layers(), cfg.student().hidden(), n, cfg.steps(), cfg.batchRows(),
                cfg.trainPrompts(), cfg.learningRate(), cfg.beta(), cfg.lmbda(), cfg.promptLength(),
                cfg.responseLength(), cfg.heldOutPrompts(), cfg.evalSamples(), seconds));
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
                .data("reverseDifference", dRev).data("forwardDifference", dFwd)
                .data("heldOutNll", new double[][] {nll(runs[0]), nll(runs[1])});
        provenance.accept(r);
        r.write(outDir);
        return r;
    }

    /** The pipeline's per-student NLL of the teacher's held-out continuations, in seed order. */
    private static double[] nll(RunResult run) {
        return run.result().students().stream().mapToDouble(st -> st.metrics().get("nll")).toArray();
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

    /** A GPT-2-family architecture of a shape, without dropout and without BOS/EOS ids (the chain has none). */
    static CausalLmConfig config(Shape3 s, int vocab, int context) {
        return CausalLmConfig.builder(LmFamily.GPT2).vocabSize(vocab).hiddenSize(s.hidden()).numLayers(s.layers())
                .numHeads(s.heads()).maxPositions(context).dropout(0).bosTokenId(-1).eosTokenId(-1).build();
    }

    private static CausalLm model(Shape3 s, int vocab, int context, int seed, NDManager manager) {
        Engine.getInstance().setRandomSeed(seed);
        CausalLm m = new CausalLm(config(s, vocab, context));
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

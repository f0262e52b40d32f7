package io.distill4j.experiments;

import io.distill4j.data.Numbers;
import io.distill4j.pipeline.Plots;
import io.distill4j.models.lm.LmPreset;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.Draws;
import io.distill4j.pipeline.RunResult;
import io.distill4j.pipeline.SampleJob;
import io.distill4j.pipeline.SampleSpec;
import io.distill4j.pipeline.Teachers;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.pipeline.RunInfo;
import io.distill4j.trainer.stats.Summary;
import io.distill4j.trainer.stats.Descriptive;
import io.distill4j.models.lm.SentenceEmbedder;


import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.datasets.TextCorpus;
import io.distill4j.teacher.lm.CausalLmTeacher;
import io.distill4j.teacher.lm.SamplingConfig;
import io.distill4j.trainer.LrSchedule;
import io.distill4j.models.lm.LmActivation;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.lm.AnswerMetrics;
import io.distill4j.trainer.lm.LmFineTuner;
import io.distill4j.trainer.lm.LmOptions;
import io.distill4j.models.lm.LmTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.knowm.xchart.XYChart;

/**
 * Cui &amp; Pei 2026, "How Is Uncertainty Propagated in Knowledge Distillation?" (arXiv 2601.18909), the LLM
 * setting, on a synthetic knowledge base instead of BioASQ.
 *
 * <p>A small GPT-2-family teacher is trained by distill4j ({@link LmFineTuner}, supervised, answer-only loss)
 * on a {@link KnowledgeBase} whose facts appear with graded certainty (a fact of grade g is seen with its true
 * value in a share g of its copies, with wrong values otherwise) plus real text (Moby Dick, or the shipped
 * sample passages). It answers every question k_max times ({@link CausalLmTeacher}: T = 1, top-k 50,
 * repetition penalty 1.2, as the paper) into a sequence cache with top-K log-probabilities; k in the
 * configured list uses the first k of those answers (nested, so k = 1, 3, 5 are paired).
 *
 * <p>The teacher is then written as a Hugging Face folder with its word-level {@code tokenizer.json} and sampled by
 * an {@code lm} sample job ({@link SampleJob}, as {@code distill4j sample}). Per k and method, R smaller students
 * (seeds 0..R-1; every method starts student r from the same initialisation) are trained by the library pipeline
 * ({@link Distillation} with an LM student, the code of {@code distill4j train}) on the first k cached answers
 * ({@code draws: shared}): <b>multi-response</b> is {@code lm.mode sft-all} (all k answers as examples),
 * <b>mean</b> {@code sft-mean} (the answer closest to the mean sentence embedding), <b>inverse-variance</b>
 * {@code sft-inverse-variance} (closest to a_T mu_T + a_S mu_S, mu_S from k samples of the untrained student) and
 * <b>token-kd</b> {@code token-kd} (token-level top-K distillation on all k answers). The selection rules train E
 * epochs on one answer per question; multi-response and token-kd train {@link #allAnswerEpochs} epochs on all k.
 * The students are read back from the runs' saved Hugging Face folders.
 * Each student answers every question greedily once and m times sampled (the teacher's sampling). Answers are
 * compared with the truth by cosine similarity of all-MiniLM-L6-v2 embeddings ({@link SentenceEmbedder}) and
 * judged against the knowledge base ({@link KnowledgeBase#judge}).
 */
public final class LlmExperiment implements Experiment {
    private static final Logger LOG = LogManager.getLogger(LlmExperiment.class);
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    /** The methods a configuration may list. */
    static final List<String> METHODS = List.of("multi-response", "mean", "inverse-variance", "token-kd");

    /**
     * A causal LM's shape and its fine-tuning.
     *
     * @param hidden width d
     * @param layers decoder layers
     * @param heads attention heads (d must divide by them)
     * @param dropout GPT-2's dropout (embeddings, residuals, attention)
     * @param epochs passes over the training set (students: over one answer per question)
     * @param batchRows rows per step
     * @param learningRate peak learning rate (cosine decay, 10 warm-up steps)
     */
    public record ModelConfig(int hidden, int layers, int heads, double dropout, int epochs, int batchRows,
            double learningRate) {
        /**
         * Validates the settings.
         *
         * @param hidden width d
         * @param layers decoder layers
         * @param heads attention heads (d must divide by them)
         * @param dropout GPT-2's dropout (embeddings, residuals, attention)
         * @param epochs passes over the training set (students: over one answer per question)
         * @param batchRows rows per step
         * @param learningRate peak learning rate (cosine decay, 10 warm-up steps)
         */
        public ModelConfig {
            if (hidden < 1 || layers < 1 || heads < 1 || hidden % heads != 0) {
                throw new IllegalArgumentException("hidden, layers and heads must be positive and hidden divisible by heads, "
                        + "got " + hidden + ", " + layers + ", " + heads);
            }
            if (!(dropout >= 0 && dropout < 1) || epochs < 1 || batchRows < 1 || !(learningRate > 0)) {
                throw new IllegalArgumentException("dropout must be in [0, 1), epochs, batchRows and learningRate positive; "
                        + "got " + dropout + ", " + epochs + ", " + batchRows + ", " + learningRate);
            }
        }
    }

    /**
     * How answers are sampled (teacher and students' sampled answers).
     *
     * @param temperature softmax temperature
     * @param topK top-k filter (0 for none)
     * @param topP nucleus mass
     * @param repetitionPenalty CTRL repetition penalty
     * @param maxNewTokens the most tokens per answer
     */
    public record Sampling(double temperature, int topK, double topP, double repetitionPenalty, int maxNewTokens) {
        /**
         * Validates through {@link SamplingConfig}.
         *
         * @param temperature softmax temperature
         * @param topK top-k filter (0 for none)
         * @param topP nucleus mass
         * @param repetitionPenalty CTRL repetition penalty
         * @param maxNewTokens the most tokens per answer
         */
        public Sampling {
            new SamplingConfig(maxNewTokens, temperature, topK, topP, repetitionPenalty, 1, -1);
        }
    }

    /**
     * The experiment's configuration.
     *
     * @param seed the seed of the knowledge base, the teacher and (offset) the students
     * @param entities entities of the knowledge base
     * @param relations relations per entity, in [1, 5]
     * @param grades the certainty grades dealt to the facts
     * @param repeats the teacher's training copies of each fact
     * @param distractors distinct wrong values per fact
     * @param corpus the real-text corpus (relative to the experiment file's folder; empty for none)
     * @param corpusFallback used when the corpus is missing (a shipped sample), or empty
     * @param corpusChunks passages of real text in the teacher's training set
     * @param corpusWords words per passage (at most context - 1)
     * @param corpusVocab the most frequent corpus words given their own token (others are {@code <unk>})
     * @param context the models' context length
     * @param teacher the teacher's shape and training
     * @param topLogprobs K of the cached top-K distributions
     * @param student the students' shape and training
     * @param students students R per method and k, at least 2
     * @param kdAlpha the distillation weight of token-kd (1: pure top-K KL)
     * @param allAnswerEpochShare f in [0, 1]: multi-response and token-kd, which train on all k answers, get
     *     round(E (1 + f (k - 1)) / k) epochs (f = 1: the paper's equal epochs; f = 0: equal steps)
     * @param ks the response counts k, ascending, at least two
     * @param methods the methods compared
     * @param sampling the paper's sampling (teacher, students' sampled answers, the untrained student)
     * @param evalSamples sampled answers m per question and student, at least 2
     */
    public record Config(long seed, int entities, int relations, List<Double> grades, int repeats, int distractors,
            String corpus, String corpusFallback, int corpusChunks, int corpusWords, int corpusVocab, int context,
            ModelConfig teacher, int topLogprobs, ModelConfig student, int students, double kdAlpha,
            double allAnswerEpochShare, List<Integer> ks,
            List<String> methods, Sampling sampling, int evalSamples) {
        /**
         * Validates the configuration.
         *
         * @param seed the seed of the knowledge base, the teacher and (offset) the students
         * @param entities entities of the knowledge base
         * @param relations relations per entity, in [1, 5]
         * @param grades the certainty grades dealt to the facts
         * @param repeats the teacher's training copies of each fact
         * @param distractors distinct wrong values per fact
         * @param corpus the real-text corpus (relative to the distill4j home; empty for none)
         * @param corpusFallback used when the corpus is missing (a shipped sample), or empty
         * @param corpusChunks passages of real text in the teacher's training set
         * @param corpusWords words per passage (at most context - 1)
         * @param corpusVocab the most frequent corpus words given their own token (others are {@code <unk>})
         * @param context the models' context length
         * @param teacher the teacher's shape and training
         * @param topLogprobs K of the cached top-K distributions
         * @param student the students' shape and training
         * @param students students R per method and k, at least 2
         * @param kdAlpha the distillation weight of token-kd (1: pure top-K KL)
         * @param allAnswerEpochShare f in [0, 1]: multi-response and token-kd, which train on all k answers, get round(E (1 + f (k - 1)) / k) epochs (f = 1: the paper's equal epochs; f = 0: equal steps)
         * @param ks the response counts k, ascending, at least two
         * @param methods the methods compared
         * @param sampling the paper's sampling (teacher, students' sampled answers, the untrained student)
         * @param evalSamples sampled answers m per question and student, at least 2
         */
        public Config {
            grades = List.copyOf(grades);
            ks = List.copyOf(ks);
            methods = List.copyOf(methods);
            if (ks.size() < 2 || ks.get(0) < 1) {
                throw new IllegalArgumentException("ks must list at least two positive response counts, got " + ks);
            }
            for (int i = 1; i < ks.size(); i++) {
                if (ks.get(i) <= ks.get(i - 1)) {
                    throw new IllegalArgumentException("ks must be ascending, got " + ks);
                }
            }
            if (methods.isEmpty() || !METHODS.containsAll(methods)) {
                throw new IllegalArgumentException("methods must be some of " + METHODS + ", got " + methods);
            }
            if (students < 2 || evalSamples < 2) {
                throw new IllegalArgumentException("students and evalSamples must be at least 2, got " + students + " and "
                        + evalSamples);
            }
            if (context < 16 || corpusWords < 2 || corpusWords >= context || corpusChunks < 0 || corpusVocab < 0) {
                throw new IllegalArgumentException("context must be >= 16, corpusWords in [2, context), corpusChunks and "
                        + "corpusVocab >= 0; got " + context + ", " + corpusWords + ", " + corpusChunks + ", " + corpusVocab);
            }
            if (!(allAnswerEpochShare >= 0 && allAnswerEpochShare <= 1)) {
                throw new IllegalArgumentException("allAnswerEpochShare must be in [0, 1], got " + allAnswerEpochShare);
            }
            if (topLogprobs < 1 || !(kdAlpha > 0 && kdAlpha <= 1)) {
                throw new IllegalArgumentException("topLogprobs must be positive and kdAlpha in (0, 1], got " + topLogprobs
                        + " and " + kdAlpha);
            }
        }

        int kMax() {
            return ks.get(ks.size() - 1);
        }
    }


    /**
     * Creates the experiment.
     *
     * @param home the distill4j home (unused: paths in the file are relative to the file; kept so that every
     *     experiment is made the same way)
     */
    public LlmExperiment(Path home) {
    }

    @Override
    public String name() {
        return "llm";
    }

    /** One student's answers to every question: greedy text and m sampled texts. */
    record Answers(String[] greedy, String[][] sampled) {
    }

    /** One (method, k) cell: R students' answers and their NLL per answer token (the pipeline's score). */
    record Cell(String method, int k, List<Answers> students, double[] nll, double seconds, String note) {
    }

    @Override
    public Report run(ConfigFile config, boolean quick, Path outDir) throws IOException {
        Config cfg = ExperimentFile.bind(config, Config.class);
        SentenceEmbedder embedder = SentenceEmbedder.load(); // before any work: says what to add when it is missing
        RunInfo info = RunInfo.start(RunInfo.commandLine(), ai.djl.engine.Engine.getInstance().defaultDevice());
        restarts.clear();
        long t0 = System.nanoTime();
        KnowledgeBase kb = KnowledgeBase.generate(cfg.entities(), cfg.relations(), cfg.grades(), cfg.repeats(),
                cfg.distractors(), cfg.seed());
        String[] corpusNote = new String[1];
        List<String> passages = passages(config, cfg, corpusNote);
        Path work = Files.createTempDirectory("distill4j-llm");
        try {
            StringBuilder factLines = new StringBuilder();
            kb.facts().forEach(f -> factLines.append(f.prompt()).append('\t').append(f.value()).append('\n'));
            return run(cfg, quick, outDir, kb, passages, corpusNote[0], work, t0, embedder, r -> r
                    .provenance(info.finish(), config.root())
                    .seed("seed", cfg.seed()).dataset("knowledge base (prompt TAB answer per line)", factLines.toString())
                    .dataset("corpus passages (one per line)", String.join("\n", passages)));
        } finally {
            deleteTree(work);
        }
    }

    private Report run(Config cfg, boolean quick, Path outDir, KnowledgeBase kb, List<String> passages, String corpusNote,
            Path work, long t0, SentenceEmbedder embedder, java.util.function.Consumer<Report> provenance)
            throws IOException {
        List<KnowledgeBase.Fact> facts = kb.facts();
        List<String> prompts = facts.stream().map(KnowledgeBase.Fact::prompt).toList();
        Set<String> words = new LinkedHashSet<>();
        prompts.forEach(p -> words.addAll(WordTokenizer.pieces(p)));
        words.addAll(kb.values());
        words.addAll(WordTokenizer.frequent(passages, cfg.corpusVocab()));
        Path tokFile = work.resolve("tokenizer.json");
        int vocab = WordTokenizer.write(tokFile, words);
        try (LmTokenizer tok = LmTokenizer.load(tokFile); NDManager manager = NDManager.newBaseManager()) {
            int eos = tok.encodePlain(WordTokenizer.EOS)[0];
            if (eos != 1) {
                throw new IllegalStateException("the tokenizer gives <eos> the id " + eos + ", expected 1");
            }
            // the teacher
            List<LmExample> teacherData = teacherExamples(cfg, kb, passages, tok, eos);
            CausalLm[] holder = new CausalLm[1];
            LmFineTuner.Result tr = trainWithRestarts(cfg.teacher(), vocab, cfg.context(), eos, cfg.seed() + 17, manager,
                    teacherData, training(cfg.teacher(), cfg.teacher().epochs(), cfg.seed() + 19),
                    teacherOptions(cfg.context()), holder, "teacher");
            CausalLm teacher = holder[0];
            LOG.info(String.format(Locale.ROOT, "llm: teacher trained (%d steps, %.1f s, last loss %.3f)", tr.steps(),
                    tr.seconds(), tr.lastMean(20)));
            SamplingConfig paper = samplingConfig(cfg.sampling(), cfg.topLogprobs(), eos);
            // the teacher as `distill4j sample` and `train` take it: a Hugging Face folder with the word-level
            // tokenizer.json, the questions as a prompt file, an `lm` sample job into the run's sequence cache
            Path teacherDir = work.resolve("teacher");
            HfFolder.save(teacher, tok, teacherDir);
            close(teacher);
            Path promptFile = work.resolve("prompts.jsonl");
            StringBuilder jsonl = new StringBuilder();
            for (String p : prompts) {
                jsonl.append(JSON.writeValueAsString(Map.of("prompt", p))).append('\n');
            }
            Files.writeString(promptFile, jsonl);
            SampleSpec job = new SampleSpec("experiment llm (teacher " + teacherDir + ")", work.resolve("teacher-cache"),
                    cfg.kMax(), cfg.seed() + 23, 1, 64, 256, null, null,
                    new SampleSpec.SequenceSpec(promptFile, "prompt", null, 0, teacherDir, paper, null));
            long ts = System.nanoTime();
            SampleJob.run(job, Engine.getInstance().defaultDevice(), SampleProgress.NONE, LOG::info);
            double sampleSeconds = (System.nanoTime() - ts) / 1e9;
            List<SequenceItem> items = new ArrayList<>();
            try (SequenceCacheReader rd = TeacherCache.open(job.cache()).sequence()) {
                for (long i = 0; i < rd.items(); i++) {
                    items.add(rd.read(i));
                }
            }
            String[][] teacherText = new String[facts.size()][cfg.kMax()];
            for (int q = 0; q < facts.size(); q++) {
                for (int j = 0; j < cfg.kMax(); j++) {
                    teacherText[q][j] = tok.decode(items.get(q).samples().get(j).tokens()).strip();
                }
            }
            double[] trueProb = firstTokenTruthProbability(items, facts, tok, cfg.topLogprobs());
            // the students: one pipeline run (distill4j train with an LM student) per method and k, on the first k
            // cached answers; every run uses the same seeds, so student r starts from the same initialisation
            List<Cell> cells = new ArrayList<>();
            LmPreset studentPreset = LmPreset.of(modelConfig(cfg.student(), vocab, cfg.context(), eos));
            List<Long> seeds = new ArrayList<>();
            for (int r = 0; r < cfg.students(); r++) {
                seeds.add(studentSeed(cfg, r));
            }
            for (int k : cfg.ks()) {
                Map<String, List<Answers>> byMethod = new LinkedHashMap<>();
                for (String method : cfg.methods()) {
                    long tc = System.nanoTime();
                    boolean sameAsSingle = k == 1 && (method.equals("mean") || method.equals("inverse-variance"))
                            && byMethod.containsKey("multi-response");
                    List<Answers> answers = new ArrayList<>();
                    String note = "";
                    double[] nll = null;
                    if (sameAsSingle) {
                        answers = byMethod.get("multi-response");
                        note = "k = 1: one answer to select, the same students as multi-response";
                        nll = cells.stream().filter(c -> c.method().equals("multi-response") && c.k() == 1).findFirst()
                                .orElseThrow().nll();
                    } else {
                        boolean all = method.equals("multi-response") || method.equals("token-kd");
                        int epochs = all ? allAnswerEpochs(cfg, k) : cfg.student().epochs();
                        Path runDir = work.resolve("students").resolve(method + "-k" + k);
                        RunResult run = Distillation.builder().name("llm " + method + " k " + k)
                                .teacher(Teachers.sampleJob(job)).student(studentPreset).lm(lmOptions(method, cfg))
                                .seeds(seeds).samples(k).draws(Draws.SHARED)
                                .training(training(cfg.student(), epochs, seeds.get(0))).saveStudents(true)
                                .log(LOG::info).build().fit(runDir);
                        nll = run.result().students().stream().mapToDouble(s -> s.metrics().get("nll")).toArray();
                        keepRecord(runDir, outDir.resolve("runs").resolve(method + "-k" + k));
                        for (int r = 0; r < cfg.students(); r++) {
                            // each saved student (its Hugging Face folder) answers; its arrays are freed after
                            try (NDManager sm = manager.newSubManager();
                                    HfFolder.Loaded s = HfFolder.load(runDir.resolve("students/seed-" + seeds.get(r)), sm)) {
                                answers.add(evaluate(s.model(), tok, prompts, cfg, paper, eos, r, k, method));
                            }
                        }
                    }
                    byMethod.put(method, answers);
                    double secs = (System.nanoTime() - tc) / 1e9;
                    cells.add(new Cell(method, k, answers, nll, secs, note));
                    LOG.info(String.format(Locale.ROOT, "llm: k %d, %s: %d students in %.1f s", k, method, answers.size(),
                            secs));
                }
            }
            double minutes = (System.nanoTime() - t0) / 60e9;
            Report r = report(cfg, quick, kb, passages.size(), corpusNote, vocab, tr, sampleSeconds, teacherText, trueProb,
                    cells, embedder, minutes);
            provenance.accept(r);
            r.write(outDir);
            return r;
        }
    }

    /** The files of a pipeline run the report keeps (its students, in the work folder, are not kept). */
    static final List<String> RUN_RECORD = List.of("results.json", "results.md", "model-card.json", "model-card.md");

    /** Copies a pipeline run's results and model card into the report's {@code runs/} folder. */
    private static void keepRecord(Path runDir, Path into) throws IOException {
        Files.createDirectories(into);
        for (String f : RUN_RECORD) {
            AtomicFiles.write(into.resolve(f), Files.readAllBytes(runDir.resolve(f)));
        }
    }

    /** The teacher's restarts after a non-finite loss or gradient, each from a new seed, described in the report. */
    private final List<String> restarts = new ArrayList<>();

    /**
     * Initialises the teacher from its seed and fine-tunes it; when the run stops on a non-finite loss or gradient
     * norm (LmFineTuner and AdamWStepper refuse them), starts again from another initialisation and data order
     * (seed + 7919 per attempt), at most 3 times. (Halving the learning rate did not help: the non-finite
     * gradients came at every rate tried, see the report.)
     */
    private LmFineTuner.Result trainWithRestarts(ModelConfig m, int vocab, int context, int eos, long seed,
            NDManager manager, List<LmExample> ex, TrainingSpec ft, LmOptions lmOptions, CausalLm[] out, String what) {
        TrainingSpec c = ft;
        for (int attempt = 0;; attempt++) {
            CausalLm lm = model(m, vocab, context, eos, seed + 7919L * attempt, manager);
            try {
                LmFineTuner.Result res = LmFineTuner.train(lm, manager, ex, c, lmOptions, null);
                out[0] = lm;
                return res;
            } catch (IllegalStateException e) {
                close(lm);
                if (attempt == 3) {
                    throw new IllegalStateException(what + ": " + e.getMessage() + " in 4 attempts", e);
                }
                restarts.add(String.format(Locale.ROOT, "%s: %s (attempt %d); restarted from seed %d", what, e.getMessage(),
                        attempt + 1, seed + 7919L * (attempt + 1)));
                LOG.warn("llm: {}", restarts.get(restarts.size() - 1));
                c = c.toBuilder().setSeed(ft.seed() + 7919L * (attempt + 1)).build();
            }
        }
    }

    /**
     * Epochs of the methods that train on all k answers: round(E (1 + f (k - 1)) / k), at least 1, with E the
     * students' epochs and f the configured share: f = 1 trains as many epochs as the selection rules (k times
     * their steps, as the paper), f = 0 as many answers (the same steps).
     */
    static int allAnswerEpochs(Config cfg, int k) {
        return (int) Math.max(1, Math.round(cfg.student().epochs() * (1 + cfg.allAnswerEpochShare() * (k - 1)) / k));
    }

    private static long studentSeed(Config cfg, int r) {
        return cfg.seed() * 1000 + 101 + r;
    }

    private static void close(CausalLm m) {
        m.namedParameters().values().forEach(p -> p.getArray().close());
    }

    /** The real-text passages: consecutive windows of corpusWords pieces, evenly spread over the corpus. */
    private List<String> passages(ConfigFile config, Config cfg, String[] note) {
        if (cfg.corpus().isEmpty() || cfg.corpusChunks() == 0) {
            note[0] = "none";
            return List.of();
        }
        Path p = config.resolve(cfg.corpus());
        if (!Files.exists(p)) {
            if (cfg.corpusFallback().isEmpty()) {
                throw new BadInputException("experiment llm: field corpus: " + p + " does not exist (datasets/text/fetch.sh "
                        + "fetches Moby Dick)");
            }
            note[0] = cfg.corpusFallback() + " (shipped sample; " + cfg.corpus() + " is not fetched: datasets/text/fetch.sh)";
            p = config.resolve(cfg.corpusFallback());
        } else {
            note[0] = cfg.corpus();
        }
        List<String> pieces = new ArrayList<>();
        for (TextCorpus.Document d : TextCorpus.read(p)) {
            pieces.addAll(WordTokenizer.pieces(d.text()));
        }
        int w = cfg.corpusWords();
        int windows = Math.max(1, pieces.size() - w + 1);
        int n = Math.min(cfg.corpusChunks(), windows);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int start = (int) ((long) i * windows / n);
            out.add(String.join(" ", pieces.subList(start, Math.min(pieces.size(), start + w))));
        }
        return out;
    }

    private static List<LmExample> teacherExamples(Config cfg, KnowledgeBase kb, List<String> passages, LmTokenizer tok,
            int eos) {
        List<LmExample> out = new ArrayList<>();
        for (KnowledgeBase.Fact f : kb.facts()) {
            int[] prompt = tok.encode(f.prompt());
            for (String a : KnowledgeBase.trainingAnswers(f, cfg.repeats())) {
                out.add(LmExample.of(prompt, withEos(tok.encodePlain(a), eos)));
            }
        }
        for (String p : passages) {
            int[] ids = tok.encodePlain(p);
            if (ids.length >= 2) {
                out.add(LmExample.of(Arrays.copyOf(ids, 1), Arrays.copyOfRange(ids, 1, ids.length)));
            }
        }
        Collections.shuffle(out, new Random(cfg.seed() + 3));
        return out;
    }

    private static int[] withEos(int[] ids, int eos) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eos;
        return out;
    }

    private static CausalLm model(ModelConfig m, int vocab, int context, int eos, long seed, NDManager manager) {
        Engine.getInstance().setRandomSeed((int) seed);
        CausalLm lm = new CausalLm(modelConfig(m, vocab, context, eos));
        lm.initialize(manager);
        return lm;
    }

    /** A GPT-2-family architecture of the configured shape (the teacher's, and the students' pipeline preset). */
    private static CausalLmConfig modelConfig(ModelConfig m, int vocab, int context, int eos) {
        return CausalLmConfig.builder(LmFamily.GPT2).vocabSize(vocab).hiddenSize(m.hidden())
                .numLayers(m.layers()).numHeads(m.heads()).numKvHeads(m.heads()).headDim(m.hidden() / m.heads())
                .intermediateSize(4 * m.hidden()).maxPositions(context).activation(LmActivation.GELU_TANH)
                .dropout(m.dropout()).eosTokenId(eos).build();
    }

    /** A model's training: its batch rows and learning rate, 10 warm-up updates, cosine decay, AdamW 0.01, clip 1. */
    private static TrainingSpec training(ModelConfig m, int epochs, long seed) {
        return TrainingSpec.builder().setEpochs(epochs).setBatchSize(m.batchRows())
                .setLearningRate((float) m.learningRate()).optSchedule(LrSchedule.Kind.COSINE, 10).optWeightDecay(0.01f)
                .optMaxGradNorm(1.0f).setSeed(seed).optProgressBar(false).build();
    }

    /** The teacher's run: rows of {@code context} tokens, packed, cross-entropy on the given answers. */
    private static LmOptions teacherOptions(int context) {
        return LmOptions.of(LmOptions.Mode.SFT_ALL, null, context, true);
    }

    /**
     * A method's pipeline mode ({@code lm.mode} of {@code distill4j train}): multi-response is sft-all, the selection
     * rules sft-mean and sft-inverse-variance, token-kd token-kd with the configured alpha; rows of the configured
     * context, packed, every prompt trained on (no held-out share: the students are scored on the questions they
     * learnt, as the paper's).
     */
    static LmOptions lmOptions(String method, Config cfg) {
        LmOptions.Mode mode = switch (method) {
            case "multi-response" -> LmOptions.Mode.SFT_ALL;
            case "mean" -> LmOptions.Mode.SFT_MEAN;
            case "inverse-variance" -> LmOptions.Mode.SFT_INVERSE_VARIANCE;
            case "token-kd" -> LmOptions.Mode.TOKEN_KD;
            default -> throw new AssertionError(method);
        };
        return new LmOptions(mode, mode == LmOptions.Mode.TOKEN_KD ? cfg.kdAlpha() : null, cfg.context(), true, 0.0,
                null, null, null, null, null, null);
    }

    private static SamplingConfig samplingConfig(Sampling s, int topLogprobs, int eos) {
        return new SamplingConfig(s.maxNewTokens(), s.temperature(), s.topK(), s.topP(), s.repetitionPenalty(), topLogprobs,
                eos);
    }

    /** The teacher's probability of the true value's token as the first answer token, per fact. */
    private static double[] firstTokenTruthProbability(List<SequenceItem> items, List<KnowledgeBase.Fact> facts,
            LmTokenizer tok, int topK) {
        double[] p = new double[facts.size()];
        for (int q = 0; q < facts.size(); q++) {
            int id = tok.encodePlain(facts.get(q).value())[0];
            var s = items.get(q).samples().get(0);
            for (int r = 0; r < topK && r < s.topIds().length; r++) {
                if (s.topIds()[r] == id) {
                    p[q] = Math.exp(s.topLogprobs()[r]);
                }
            }
        }
        return p;
    }

    /** k sampled answers per prompt from a model (the untrained student's mu_S). */
    private static String[][] sampleTexts(CausalLm m, LmTokenizer tok, List<String> prompts, int k, SamplingConfig s,
            long seed) {
        String[][] out = new String[prompts.size()][];
        new CausalLmTeacher(m, tok::encode, "word-level", k, s, seed).sample(prompts, 0, item -> {
            String[] t = new String[k];
            for (int j = 0; j < k; j++) {
                t[j] = tok.decode(item.samples().get(j).tokens()).strip();
            }
            out[(int) item.item()] = t;
        }, (d, n) -> { });
        return out;
    }

    private static Answers evaluate(CausalLm s, LmTokenizer tok, List<String> prompts, Config cfg, SamplingConfig paper,
            int eos, int r, int k, String method) {
        long seed = cfg.seed() * 7919 + 1000L * k + 100L * METHODS.indexOf(method) + r;
        SamplingConfig greedy = new SamplingConfig(paper.maxNewTokens(), 0, 0, 1, 1, 1, eos);
        String[][] g = sampleTexts(s, tok, prompts, 1, greedy, seed);
        String[][] m = sampleTexts(s, tok, prompts, cfg.evalSamples(),
                new SamplingConfig(paper.maxNewTokens(), paper.temperature(), paper.topK(), paper.topP(),
                        paper.repetitionPenalty(), 1, eos), seed + 1);
        String[] greedyText = new String[prompts.size()];
        for (int q = 0; q < prompts.size(); q++) {
            greedyText[q] = g[q][0];
        }
        return new Answers(greedyText, m);
    }

    // ----- metrics -----

    /** Per-student and pooled metrics of one cell. */
    record Metrics(double[] simGreedy, double[] simSampled, double[] hallGreedy, double[] hallSampled, double[] intra,
            double inter, double systematic, double[][] simByGrade, double[][] hallByGrade) {
    }

    /**
     * Computes a cell's metrics with {@link AnswerMetrics} (similarity, hallucination rate, intra- and
     * inter-student variance, systematic noise; {@code distill4j evaluate} reports the same), the facts' true values
     * as the references and {@link KnowledgeBase#judge} as the hallucination judge, plus the sampled similarity and
     * hallucination rate per certainty grade (per student, averaged over the grade's facts).
     */
    static Metrics metrics(List<Answers> students, KnowledgeBase kb, SentenceEmbedder emb, List<Double> grades) {
        List<KnowledgeBase.Fact> facts = kb.facts();
        AnswerMetrics.Result r = AnswerMetrics.of(facts.stream().map(KnowledgeBase.Fact::value).toList(),
                students.stream().map(Answers::greedy).toList(), students.stream().map(Answers::sampled).toList(), emb,
                (q, answer) -> kb.judge(facts.get(q), answer) == AnswerMetrics.Verdict.CONTRADICTS);
        int n = students.size();
        double[][] byGrade = new double[n][grades.size()];
        double[][] hallByGrade = new double[n][grades.size()];
        int[] gradeCount = new int[grades.size()];
        for (KnowledgeBase.Fact f : facts) {
            gradeCount[grades.indexOf(f.certainty())]++;
        }
        for (int q = 0; q < facts.size(); q++) {
            int gi = grades.indexOf(facts.get(q).certainty());
            for (int s = 0; s < n; s++) {
                byGrade[s][gi] += r.similaritySampledByQuestion()[q][s] / gradeCount[gi];
                hallByGrade[s][gi] += r.hallucinationSampledByQuestion()[q][s] / gradeCount[gi];
            }
        }
        return new Metrics(r.similarityGreedy(), r.similaritySampled(), r.hallucinationGreedy(),
                r.hallucinationSampled(), r.intraStudentVariance(), r.interStudentVariance(), r.systematicNoise(),
                byGrade, hallByGrade);
    }

    // ----- report -----

    private Report report(Config cfg, boolean quick, KnowledgeBase kb, int passages, String corpusNote, int vocab,
            LmFineTuner.Result tr, double sampleSeconds, String[][] teacherText, double[] trueProb, List<Cell> cells,
            SentenceEmbedder emb, double minutes) {
        List<KnowledgeBase.Fact> facts = kb.facts();
        Report r = new Report("Uncertainty in LLM distillation: k sampled answers, selection rules and token-level KD"
                + (quick ? " (quick)" : ""));
        r.paragraph("Cui & Pei 2026, \"How Is Uncertainty Propagated in Knowledge Distillation?\" (arXiv 2601.18909), the "
                + "LLM setting, reproduced on a synthetic knowledge base (the paper uses BioASQ and a fine-tuned GPT-2 "
                + "teacher with distilgpt2 students; neither is reachable offline, so distill4j trains its own).");
        r.paragraph("## Setup\n\n"
                + String.format(Locale.ROOT, "- Knowledge base: %d entities x %d relations = %d facts (seed %d); each fact's "
                        + "answer is one word from its relation's 8 values. Question format as the paper: "
                        + "`Question: what is the favourite colour of <entity>?\\nAnswer:`.%n", cfg.entities(),
                        cfg.relations(), facts.size(), cfg.seed())
                + String.format(Locale.ROOT, "- Graded certainty: each fact appears %d times in the teacher's training data; "
                        + "a fact of grade g carries its true value in round(g x %d) copies and one of %d wrong values of "
                        + "its relation (in turn) in the rest. Grades %s, dealt in turn after a shuffle.%n", cfg.repeats(),
                        cfg.repeats(), cfg.distractors(), cfg.grades())
                + String.format(Locale.ROOT, "- Real text: %d passages of %d words from %s.%n", passages, cfg.corpusWords(),
                        corpusNote)
                + String.format(Locale.ROOT, "- Tokenizer: a word-level Hugging Face tokenizer.json built by the experiment "
                        + "(lower-case, Whitespace pre-tokeniser): the question words, entities, values and the %d most "
                        + "frequent corpus words, %d ids with `<unk>` and `<eos>`.%n", cfg.corpusVocab(), vocab)
                + String.format(Locale.ROOT, "- Teacher: GPT-2 family, d %d, %d layers, %d heads, context %d; SFT with "
                        + "answer-only loss, %d epochs, %d steps, %.0f s; last loss %.3f.%n", cfg.teacher().hidden(),
                        cfg.teacher().layers(), cfg.teacher().heads(), cfg.context(), cfg.teacher().epochs(), tr.steps(),
                        tr.seconds(), tr.lastMean(20))
                + String.format(Locale.ROOT, "- Teacher sampling (the paper's): T %s, top-k %d, top-p %s, repetition penalty "
                        + "%s, %d answers per question with top-%d log-probabilities into a sequence cache (%.0f s); k in %s "
                        + "uses the first k of them.%n", Numbers.brief(cfg.sampling().temperature()), cfg.sampling().topK(),
                        Numbers.brief(cfg.sampling().topP()), Numbers.brief(cfg.sampling().repetitionPenalty()), cfg.kMax(), cfg.topLogprobs(),
                        sampleSeconds, cfg.ks())
                + String.format(Locale.ROOT, "- Students: GPT-2 family, d %d, %d layers, %d heads; %d per method and k, "
                        + "student r starting from the same initialisation in every cell (paired). The selection rules train "
                        + "E = %d epochs on one answer per question; multi-response and token-kd train on all k answers for "
                        + "round(E (1 + f (k - 1)) / k) epochs with f = %s (f = 1 would be the paper's equal epochs, k times "
                        + "the steps; f = 0 equal steps), i.e. %s epochs at k = %s. Batches of %d packed rows, AdamW, "
                        + "learning rate %s. Each (method, k) is one run of the library pipeline (`distill4j train` with "
                        + "an LM student: multi-response = lm.mode sft-all, mean = sft-mean, inverse-variance = "
                        + "sft-inverse-variance, token-kd = token-kd) on the first k cached answers; a student's seed sets "
                        + "its initialisation and its data order; each run's results and model card (NLL per answer "
                        + "token of the teacher's answers, teacher-forced) are kept in `runs/<method>-k<k>/`, the "
                        + "students themselves are not. token-kd: alpha %s, "
                        + "against the cached top-%d log-probabilities and tail mass.%n", cfg.student().hidden(),
                        cfg.student().layers(), cfg.student().heads(), cfg.students(), cfg.student().epochs(),
                        Numbers.brief(cfg.allAnswerEpochShare()), cfg.ks().stream().map(k -> Integer.toString(allAnswerEpochs(cfg, k)))
                                .toList(), cfg.ks(), cfg.student().batchRows(), Numbers.brief(cfg.student().learningRate()), Numbers.brief(cfg.kdAlpha()), cfg.topLogprobs())
                + "- Inverse-variance selection: mu_VA = a_T mu_T + a_S mu_S with mu_S the mean embedding of k sampled "
                + "answers of the untrained student r (its own initialisation; the pipeline samples them at temperature 1, "
                + "without top-k or repetition penalty, up to the longest cached teacher answer of the question), w = 1/(mean "
                + "per-dimension variance + 1e-8).\n"
                + String.format(Locale.ROOT, "- Evaluation: every student answers every question once greedily and %d times "
                        + "sampled (the teacher's sampling). Embedder: %s.%n", cfg.evalSamples(), emb.name())
                + String.format(Locale.ROOT, "- Wall time %.1f minutes.%n", minutes)
                + "- Teacher restarts after a non-finite loss or gradient (a new initialisation and data order): "
                + (restarts.isEmpty() ? "none." : restarts.size() + ": " + String.join("; ", restarts) + "."));
        r.data("restarts", List.copyOf(restarts));
        r.paragraph("## Definitions\n\n"
                + "- **NLL**: the pipeline's score of a student, the teacher-forced negative log-likelihood per answer "
                + "token of all k_max cached teacher answers to every question (nats).\n"
                + "- **similarity**: cosine of the answer's sentence embedding and the true value's, averaged over questions "
                + "(greedy: the greedy answer; sampled: the mean over the m sampled answers).\n"
                + "- **hallucination rate**: the share of answers that contradict the knowledge base: they name a value of "
                + "the knowledge base (any relation's) other than the fact's. Empty answers and answers naming no value are "
                + "not counted as hallucinations (they are listed as 'no value').\n"
                + "- **inter-student variance**: per question, the variance (ddof 1) over the students of their mean "
                + "sampled similarity; averaged over questions.\n"
                + "- **intra-student variance**: per student and question, the variance (ddof 1) of the similarity over "
                + "its m sampled answers; averaged over questions, then over students.\n"
                + "- **systematic noise**: per question, 1 - cos(mean embedding of all students' sampled answers, true "
                + "value's embedding); averaged over questions. It is the error that survives averaging the students: "
                + "the part they share (the bias term of a bias/variance split in embedding space).\n"
                + "- ±: " + Summary.meaning(Summary.CONFIDENCE, cfg.students(), "students") + ".");
        // the teacher
        List<Double> grades = cfg.grades();
        List<List<String>> trows = new ArrayList<>();
        Map<String, Object> teacherJson = new LinkedHashMap<>();
        double[] teacherCorrect = new double[grades.size()];
        for (int g = 0; g < grades.size(); g++) {
            double grade = grades.get(g);
            int count = 0;
            int correct = 0;
            int contra = 0;
            int none = 0;
            double prob = 0;
            double sim = 0;
            int nf = 0;
            for (int q = 0; q < facts.size(); q++) {
                if (facts.get(q).certainty() != grade) {
                    continue;
                }
                nf++;
                prob += trueProb[q];
                for (String t : teacherText[q]) {
                    sim += SentenceEmbedder.cosine(emb.embed(t), emb.embed(facts.get(q).value()));
                    AnswerMetrics.Verdict v = kb.judge(facts.get(q), t);
                    count++;
                    correct += v == AnswerMetrics.Verdict.CORRECT ? 1 : 0;
                    contra += v == AnswerMetrics.Verdict.CONTRADICTS ? 1 : 0;
                    none += v == AnswerMetrics.Verdict.NO_VALUE ? 1 : 0;
                }
            }
            teacherCorrect[g] = correct / (double) count;
            trows.add(List.of(Numbers.brief(grade), Integer.toString(nf), Numbers.fixed(prob / nf, 3), Numbers.fixed(teacherCorrect[g], 3), Numbers.fixed(contra / (double) count, 3),
                    Numbers.fixed(none / (double) count, 3), Numbers.fixed(sim / count, 3)));
            teacherJson.put(Numbers.brief(grade), Map.of("facts", nf, "truthFirstTokenProbability", prob / nf, "correct",
                    teacherCorrect[g], "contradicts", contra / (double) count, "noValue", none / (double) count,
                    "similarity", sim / count));
        }
        r.paragraph("## The teacher's graded certainty\n\nOver its " + cfg.kMax() + " sampled answers per question. 'p(true)' "
                + "is the teacher's probability of the true value as the first answer token (from the cached top-K).");
        r.table(List.of("grade g", "facts", "p(true)", "correct", "contradicts KB", "no value", "similarity"), trows);
        r.data("teacher", teacherJson);
        // students
        Map<Cell, Metrics> ms = new LinkedHashMap<>();
        for (Cell c : cells) {
            ms.put(c, metrics(c.students(), kb, emb, grades));
        }
        List<List<String>> rows = new ArrayList<>();
        List<Map<String, Object>> json = new ArrayList<>();
        for (Cell c : cells) {
            Metrics m = ms.get(c);
            rows.add(List.of(c.method(), Integer.toString(c.k()), ci(c.nll()), ci(m.simGreedy()), ci(m.simSampled()), ci(m.hallGreedy()),
                    ci(m.hallSampled()), Numbers.fixed(m.inter(), 4), ci(m.intra()), Numbers.fixed(m.systematic(), 4)));
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("method", c.method());
            j.put("k", c.k());
            j.put("similarityGreedy", m.simGreedy());
            j.put("similaritySampled", m.simSampled());
            j.put("hallucinationGreedy", m.hallGreedy());
            j.put("hallucinationSampled", m.hallSampled());
            j.put("interStudentVariance", m.inter());
            j.put("intraStudentVariance", m.intra());
            j.put("systematicNoise", m.systematic());
            j.put("similaritySampledByGrade", m.simByGrade());
            j.put("hallucinationSampledByGrade", m.hallByGrade());
            j.put("nll", c.nll());
            j.put("seconds", c.seconds());
            json.add(j);
        }
        r.paragraph("## Students\n\n±: " + Summary.meaning(Summary.CONFIDENCE, cfg.students(), "students") + "." + (cells.stream()
                .anyMatch(c -> !c.note().isEmpty()) ? " At k = 1 there is one answer to select, so mean and "
                        + "inverse-variance selection train the same students as multi-response (the rows repeat it)." : ""));
        r.table(List.of("method", "k", "NLL", "similarity (greedy)", "similarity (sampled)", "hallucination (greedy)",
                "hallucination (sampled)", "inter-student var", "intra-student var", "systematic noise"), rows);
        r.data("cells", json);
        List<String> gh = new ArrayList<>(List.of("method", "k"));
        grades.forEach(g -> gh.add("similarity, g " + Numbers.brief(g)));
        grades.forEach(g -> gh.add("hallucination, g " + Numbers.brief(g)));
        List<List<String>> grows = new ArrayList<>();
        for (Cell c : cells) {
            Metrics m = ms.get(c);
            List<String> row = new ArrayList<>(List.of(c.method(), Integer.toString(c.k())));
            for (int g = 0; g < grades.size(); g++) {
                row.add(Numbers.fixed(Descriptive.mean(column(m.simByGrade(), g)), 3));
            }
            for (int g = 0; g < grades.size(); g++) {
                row.add(Numbers.fixed(Descriptive.mean(column(m.hallByGrade(), g)), 3));
            }
            grows.add(row);
        }
        r.paragraph("### By certainty grade (sampled answers, mean over students)");
        r.table(gh, grows);
        plots(cfg, cells, ms, r);
        checks(cfg, cells, ms, teacherCorrect, r);
        trends(cfg, cells, ms, r);
        return r;
    }

    private static double[] column(double[][] m, int c) {
        double[] out = new double[m.length];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i][c];
        }
        return out;
    }

    private static void plots(Config cfg, List<Cell> cells, Map<Cell, Metrics> ms, Report r) {
        charts(cfg.methods(), cfg.students(), cells, ms).forEach(r::plot);
    }

    /**
     * The report's four plots, by file name: similarity and hallucination (sampled; mean and 95% t interval over the
     * students), systematic noise and inter-student variance, against k, a line per method.
     */
    private static Map<String, XYChart> charts(List<String> methods, int students, List<Cell> cells,
            Map<Cell, Metrics> ms) {
        Map<String, XYChart> out = new LinkedHashMap<>();
        String[][] specs = {{"llm-similarity", "Similarity to the true answers (sampled)", "cosine similarity"},
            {"llm-systematic-noise", "Systematic noise (shared error)", "1 - cos(mean embedding, truth)"},
            {"llm-inter-student-variance", "Inter-student variance", "variance of similarity over students"},
            {"llm-hallucination", "Hallucination rate (sampled)", "share contradicting the KB"}};
        for (String[] sp : specs) {
            boolean perStudent = sp[0].equals("llm-similarity") || sp[0].equals("llm-hallucination");
            XYChart chart = Plots.lines(sp[1], "k (teacher answers)", sp[2] + (perStudent ? " (mean, 95% t interval over "
                    + students + " students)" : ""), false, false);
            // plain tick labels (1, 1.5, 2, ...): XChart's custom formatter labelled only the axis ends, which are
            // the dodged positions of the plots with intervals, so those showed no k at all
            chart.getStyler().setXAxisDecimalPattern("0.#");
            int n = methods.size();
            for (int i = 0; i < n; i++) {
                String method = methods.get(i);
                List<Cell> mine = cells.stream().filter(c -> c.method().equals(method))
                        .sorted(Comparator.comparingInt(Cell::k)).toList();
                double[] x = mine.stream().mapToDouble(Cell::k).toArray();
                x = perStudent ? Plots.dodge(x, i, n, 0.06, false) : x;
                double[] y = mine.stream().mapToDouble(c -> {
                    Metrics m = ms.get(c);
                    return switch (sp[0]) {
                        case "llm-similarity" -> Descriptive.mean(m.simSampled());
                        case "llm-systematic-noise" -> m.systematic();
                        case "llm-inter-student-variance" -> m.inter();
                        default -> Descriptive.mean(m.hallSampled());
                    };
                }).toArray();
                double[] low = null;
                double[] high = null;
                if (perStudent) {
                    List<Summary> s = mine.stream().map(c -> Summary.of(sp[0].equals("llm-similarity")
                            ? ms.get(c).simSampled() : ms.get(c).hallSampled())).toList();
                    low = s.stream().mapToDouble(Summary::low).toArray();
                    high = s.stream().mapToDouble(Summary::high).toArray();
                }
                Plots.addSeries(chart, method, x, y, low, high);
            }
            out.put(sp[0], chart);
        }
        return out;
    }

    /**
     * Draws a report's plots again from its {@code report.json} (the per-student values it records), into the
     * report's folder: for plots whose drawing changed after a run that took an hour. Run as
     * {@code java -cp <the CLI's class path> io.distill4j.experiments.LlmExperiment --replot reports/llm}.
     *
     * @param args {@code --replot} and the report folder
     * @throws IOException if the report cannot be read or a plot written
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 2 || !args[0].equals("--replot")) {
            System.err.println("usage: LlmExperiment --replot REPORT_FOLDER");
            System.exit(2);
        }
        Path dir = Path.of(args[1]);
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(dir.resolve("report.json").toFile());
        List<String> methods = new ArrayList<>();
        List<Cell> cells = new ArrayList<>();
        Map<Cell, Metrics> ms = new LinkedHashMap<>();
        int students = 0;
        for (com.fasterxml.jackson.databind.JsonNode c : json.get("cells")) {
            String method = c.get("method").asText();
            if (!methods.contains(method)) {
                methods.add(method);
            }
            Cell cell = new Cell(method, c.get("k").asInt(), List.of(), null, c.get("seconds").asDouble(), "");
            double[] simSampled = doubles(c.get("similaritySampled"));
            students = simSampled.length;
            cells.add(cell);
            ms.put(cell, new Metrics(doubles(c.get("similarityGreedy")), simSampled,
                    doubles(c.get("hallucinationGreedy")), doubles(c.get("hallucinationSampled")),
                    doubles(c.get("intraStudentVariance")), c.get("interStudentVariance").asDouble(),
                    c.get("systematicNoise").asDouble(), null, null));
        }
        for (Map.Entry<String, XYChart> e : charts(methods, students, cells, ms).entrySet()) {
            Plots.save(e.getValue(), dir.resolve(e.getKey() + ".png"));
            System.out.println("Wrote " + dir.resolve(e.getKey() + ".png"));
        }
    }

    private static double[] doubles(com.fasterxml.jackson.databind.JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    private static void checks(Config cfg, List<Cell> cells, Map<Cell, Metrics> ms, double[] teacherCorrect, Report r) {
        r.paragraph("## The paper's claims at this size");
        List<Double> grades = cfg.grades();
        boolean ordered = true;
        StringBuilder ev = new StringBuilder();
        for (int g = 0; g < grades.size(); g++) {
            ev.append(g == 0 ? "" : ", ").append("g ").append(Numbers.brief(grades.get(g))).append(": ").append(Numbers.fixed(teacherCorrect[g], 3));
            for (int h = 0; h < grades.size(); h++) {
                if (grades.get(h) > grades.get(g) && !(teacherCorrect[h] > teacherCorrect[g])) {
                    ordered = false;
                }
            }
        }
        r.check("the teacher learnt the graded certainty: facts of a higher grade get more correct sampled answers (the "
                + "setup's premise, not a claim of the paper)", ordered, "share correct " + ev);
        int k1 = cfg.ks().get(0);
        int kn = cfg.kMax();
        for (String method : List.of("mean", "multi-response")) {
            Cell a = find(cells, method, k1);
            Cell b = find(cells, method, kn);
            if (a == null || b == null) {
                continue;
            }
            Metrics ma = ms.get(a);
            Metrics mb = ms.get(b);
            if (method.equals("mean")) {
                // holds only where the two 95% Student-t intervals over the students do not overlap
                Summary sa = Summary.of(ma.simGreedy());
                Summary sb = Summary.of(mb.simGreedy());
                r.check("more teacher answers raise the similarity to the true answers (" + method + ", greedy, k " + k1
                        + " -> " + kn + "; the 95% Student-t intervals over the students do not overlap)",
                        sb.low() > sa.high(), "similarity " + sa.format(4) + " -> " + sb.format(4));
            }
            r.check("more teacher answers lower the systematic noise (" + method + ", k " + k1 + " -> " + kn + ")",
                    mb.systematic() < ma.systematic(), "systematic noise " + Numbers.fixed(ma.systematic(), 4) + " -> " + Numbers.fixed(mb.systematic(), 4));
        }
    }

    /** Every method's change from the smallest to the largest k, as observed (asserted or not). */
    private static void trends(Config cfg, List<Cell> cells, Map<Cell, Metrics> ms, Report r) {
        int k1 = cfg.ks().get(0);
        int kn = cfg.kMax();
        List<String> lines = new ArrayList<>();
        for (String method : cfg.methods()) {
            Cell a = find(cells, method, k1);
            Cell b = find(cells, method, kn);
            if (a == null || b == null) {
                continue;
            }
            Metrics ma = ms.get(a);
            Metrics mb = ms.get(b);
            lines.add(String.format(Locale.ROOT, "%s, k %d -> %d: similarity greedy %s, sampled %s; hallucination (sampled) "
                    + "%s; systematic noise %s; inter-student variance %s; intra-student variance %s", method, k1, kn,
                    arrow(Descriptive.mean(ma.simGreedy()), Descriptive.mean(mb.simGreedy())),
                    arrow(Descriptive.mean(ma.simSampled()), Descriptive.mean(mb.simSampled())),
                    arrow(Descriptive.mean(ma.hallSampled()), Descriptive.mean(mb.hallSampled())),
                    arrow(ma.systematic(), mb.systematic()), arrow(ma.inter(), mb.inter()),
                    arrow(Descriptive.mean(ma.intra()), Descriptive.mean(mb.intra()))));
        }
        r.paragraph("Observed changes from k = " + k1 + " to k = " + kn + " (the checks above assert only some of them):\n\n- "
                + String.join("\n- ", lines));
    }

    private static String arrow(double from, double to) {
        return String.format(Locale.ROOT, "%.4f -> %.4f (%s)", from, to, to > from ? "up" : to < from ? "down" : "same");
    }

    private static Cell find(List<Cell> cells, String method, int k) {
        return cells.stream().filter(c -> c.method().equals(method) && c.k() == k).findFirst().orElse(null);
    }

    private static String ci(double[] v) {
        return Summary.of(v).format(4);
    }



    /** Deletes the work folder; a failure is logged, not thrown (the report is already written). */
    private static void deleteTree(Path dir) {
        try {
            AtomicFiles.deleteTree(dir);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", dir, e.getMessage());
        }
    }
}

package io.distill4j.pipeline;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.Errors;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.lm.AnswerSelection;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.Generation;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.LmPreset;
import io.distill4j.models.lm.LmTokenizer;
import io.distill4j.models.lm.Lora;
import io.distill4j.models.lm.io.PeftAdapter;
import io.distill4j.models.lm.SentenceEmbedder;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.teacher.http.HttpTeacher;
import io.distill4j.teacher.http.TokenStep;
import io.distill4j.trainer.MultiStudentRun;
import io.distill4j.trainer.TrainingEngine;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.Validator;
import io.distill4j.trainer.lm.AnswerLoss;
import io.distill4j.trainer.lm.CachedExamples;
import io.distill4j.trainer.lm.LmBatchSource;
import io.distill4j.trainer.lm.LmFineTuner;
import io.distill4j.trainer.lm.LmOptions;
import io.distill4j.trainer.lm.OnPolicyBatchSource;
import io.distill4j.trainer.lm.OnPolicyBatches;
import io.distill4j.trainer.lm.OnPolicyDistiller;
import io.distill4j.trainer.lm.SequencePacker;
import io.distill4j.trainer.lm.TopKScorer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The causal-LM branch of {@link Distillation#fit}: a sequence cache from a language-model sample job, M students
 * built from a {@link LmPreset} (vocabulary, context and BOS/EOS from the teacher) or a Hugging Face folder, examples
 * chosen by the {@link LmOptions.Mode}, training by {@link MultiStudentRun} on the {@link TrainingEngine} with
 * {@link AnswerLoss}, held-out NLL and perplexity per student, each saved as a Hugging Face folder with the teacher's
 * tokenizer, and the run's model card.
 */
final class LmRun {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Parameters above which the inter-student variance of parameters is not computed (two doubles each). */
    private static final long PARAMETER_VARIANCE_LIMIT = 5_000_000;

    private final Distillation run;
    private final SampleSpec spec;
    private final LmOptions options;
    private HttpTeacher.ScoringRoute scoringRoute;

    LmRun(Distillation run, SampleSpec spec) {
        this.run = run;
        this.spec = spec;
        this.options = run.lm;
    }

    /**
     * Runs the LM branch (as {@link Distillation#fit}, or {@link Distillation#fitStudents} with {@code apart}).
     *
     * @param runDir the run folder
     * @param apart null for one run; else the seeds to train apart into the run folder's student store
     *     ({@link StudentOutcomes}), merged (the run's results written) only when it holds every seed
     * @return the result, or null when {@code apart} leaves seeds out
     */
    RunResult fit(Path runDir, List<Long> apart) {
        Device device = run.training.device();
        RunInfo info = RunInfo.start(run.command, device);
        run.checkFolders(runDir);
        run.log.accept(String.format(java.util.Locale.ROOT, "%s: %d students x %d draws (%s) of %s; mode %s", run.name,
                run.seeds.size(), run.samples, run.draws.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'),
                run.teacher.describe(), options.mode()));
        if (options.mode() == LmOptions.Mode.ON_POLICY && spec.sequence().http() != null
                && spec.sequence().http().topLogprobs() == 0) {
            throw new BadInputException(spec.source() + ": field teacher.topLogprobs: 0; lm.mode on-policy scores the"
                    + " students' continuations with the server's top-K log-probabilities, so K must be positive");
        }
        try (LmTokenizer tokenizer = LmTokenizer.load(tokenizerFile())) {
            TeacherCache cache = run.teacher.fill(null, run.samples, spec.cache(), device, run.log);
            CacheManifest m = cache.manifest();
            int vocab = m.sequence().vocabSize();
            int topK = m.sequence().topK();
            if (tokenizer.vocabSize() > vocab) {
                throw new BadInputException(tokenizer.file() + ": the tokenizer's vocabulary of " + tokenizer.vocabSize()
                        + " ids does not match " + cache.dir().resolve(CacheManifest.FILE_NAME) + ": field sequence.vocabSize "
                        + vocab + " (another teacher's tokenizer?)");
            }
            // one streaming pass: every example's lengths (the longest sets the context) and, for sft-mean, each
            // training prompt's pick; training then reads its batches from the shards
            int items = (int) Math.min(Integer.MAX_VALUE, m.items());
            int held = options.heldOut() == 0 || items == 0 ? 0
                    : (int) Math.max(1, Math.round(items * options.heldOut()));
            int trainItems = items - held;
            SentenceEmbedder embedder = options.mode().selects() ? embedder() : null;
            Map<Integer, int[]> meanPicks = new HashMap<>();
            if (options.mode() == LmOptions.Mode.SFT_MEAN) {
                for (long seed : run.seeds) {
                    meanPicks.put(first(seed), new int[Math.max(0, trainItems)]);
                }
            }
            int[] longestSeen = {0};
            CachedExamples.Index index = CachedExamples.index(cache, it -> {
                for (var s : it.samples()) {
                    longestSeen[0] = Math.max(longestSeen[0], it.prompt().length + s.length());
                }
                if (!meanPicks.isEmpty() && it.item() < trainItems) {
                    for (Map.Entry<Integer, int[]> e : meanPicks.entrySet()) {
                        e.getValue()[(int) it.item()] = AnswerSelection.meanSelection(
                                embed(it, e.getKey(), run.samples, tokenizer, embedder));
                    }
                }
            });
            int longest = Math.max(longestSeen[0], 2);
            LmPreset preset = (LmPreset) run.student;
            CausalLmConfig config;
            try {
                config = run.studentFolder != null ? HfFolder.readConfig(run.studentFolder)
                        : preset.config(vocab, longest, bos(tokenizer), eos(tokenizer));
            } catch (IllegalArgumentException e) {
                throw new BadInputException("student (" + preset.describe() + "): " + e.getMessage(), e);
            }
            if (config.vocabSize() < vocab) {
                throw new BadInputException(run.studentFolder.resolve(HfFolder.CONFIG) + ": field vocab_size "
                        + config.vocabSize() + " is smaller than the teacher's vocabulary of " + vocab + " ids");
            }
            int context = options.rowLength(longest, config.maxPositions());
            if (context > config.maxPositions()) {
                throw new BadInputException("lm.context: " + context + " exceeds the student's " + config.maxPositions()
                        + " positions");
            }
            if (held >= items) {
                throw new BadInputException(spec.cache() + ": " + items + " prompts leave none to train on after "
                        + held + " held out (lm.heldOut " + options.heldOut() + ")");
            }
            // every student is scored on the same references: all k answers of the held-out prompts
            int testFrom = held > 0 ? trainItems : 0;
            CachedExamples testSft = scored(cache, index, CachedExamples.Kind.SFT, testFrom, items, context);
            CachedExamples testKd = options.mode() == LmOptions.Mode.TOKEN_KD
                    ? scored(cache, index, CachedExamples.Kind.TOP_K, testFrom, items, context) : null;
            return train(runDir, info, tokenizer, cache, index, config, context, trainItems, testSft, testKd, held,
                    embedder, meanPicks, apart);
        }
    }

    /**
     * The held-out references the students are scored on: every response of items [from, to) with at least one answer
     * token inside the row length (a prompt as long as the context leaves none: its NLL would be 0 / 0).
     */
    private CachedExamples scored(TeacherCache cache, CachedExamples.Index index, CachedExamples.Kind kind, int from,
            int to, int context) {
        CachedExamples.Builder b = CachedExamples.builder(cache, index, kind);
        int left = 0;
        for (int q = from; q < to; q++) {
            for (int j = 0; j < index.k(); j++) {
                int p = index.promptLengths()[q];
                if (SequencePacker.answerTokens(new int[] {p}, new int[] {p + index.answerLength(q, j)}, context) > 0) {
                    b.add(q, j);
                } else {
                    left++;
                }
            }
        }
        CachedExamples out = b.build();
        if (out.size() == 0) {
            throw new BadInputException("lm.context " + context + ": no held-out answer has a token inside the context"
                    + " (every held-out prompt is " + context + " tokens or longer)");
        }
        if (left > 0 && kind == CachedExamples.Kind.SFT) {
            run.log.accept(left + " held-out answers are left out of the scores: their prompts fill the context of "
                    + context + " tokens");
        }
        return out;
    }

    /** The first cached response of a student's draws: its block of the cache with per-student draws, else 0. */
    private int first(long seed) {
        return run.draws == Draws.PER_STUDENT ? run.seeds.indexOf(seed) * run.samples : 0;
    }

    private RunResult train(Path runDir, RunInfo info, LmTokenizer tokenizer, TeacherCache cache,
            CachedExamples.Index index, CausalLmConfig config, int context, int trainItems, CachedExamples testSft,
            CachedExamples testKd, int held, SentenceEmbedder embedder, Map<Integer, int[]> meanPicks,
            List<Long> apart) {
        Device device = run.training.device();
        Map<Long, NDManager> managers = new HashMap<>();
        Map<Long, CausalLm> blocks = new HashMap<>();
        Map<Long, List<Integer>> picks = new HashMap<>();
        Map<Long, Lora> loras = new HashMap<>();
        Path studentsDir = runDir.resolve("students");
        double alpha = options.lossAlpha();
        boolean onPolicy = options.mode() == LmOptions.Mode.ON_POLICY;
        int longestResponse = 1;
        for (int q = 0; q < trainItems; q++) {
            longestResponse = Math.max(longestResponse, index.longestAnswer(q));
        }
        int maxNew = longestResponse;
        boolean server = onPolicy && spec.sequence().http() != null;
        NDManager teacherManager = onPolicy && !server ? NDManager.newBaseManager(device) : null;
        try {
            CausalLm teacher = null;
            TopKScorer serverScorer = server ? serverScorer(cache) : null;
            if (onPolicy && !server) {
                HfFolder.Loaded t = HfFolder.load(spec.sequence().folder(), teacherManager);
                t.close();
                teacher = t.model();
                if (teacher.config().vocabSize() != config.vocabSize()) {
                    throw new BadInputException("lm.mode on-policy: the student's vocabulary of " + config.vocabSize()
                            + " ids differs from the teacher's (" + spec.sequence().folder() + ") " + teacher.config().vocabSize()
                            + ": the teacher scores the student's tokens, so both need the same vocabulary");
                }
            }
            CausalLm scorer = teacher;
            TrainingSpec spec = lmSpec(config, device);
            MultiStudentRun.Builder b = MultiStudentRun.builder().optName(run.name).setSeeds(run.seeds)
                    .setDataPerStudent(seed -> {
                        NDManager mgr = NDManager.newBaseManager(device);
                        managers.put(seed, mgr);
                        CausalLm lm = student(config, seed, mgr);
                        if (run.lora != null) {
                            try {
                                loras.put(seed, Lora.attach(lm, run.lora));
                            } catch (IllegalArgumentException e) {
                                throw new BadInputException("lora.targets " + run.lora.targets() + ": " + e.getMessage(), e);
                            }
                        }
                        blocks.put(seed, lm);
                        int first = first(seed);
                        List<Integer> picked = new ArrayList<>();
                        picks.put(seed, picked);
                        if (onPolicy) {
                            // off-policy batches learn on the student's first cached teacher response per prompt
                            CachedExamples.Builder firsts = CachedExamples.builder(cache, index, CachedExamples.Kind.SFT);
                            for (int q = 0; q < trainItems; q++) {
                                firsts.add(q, first);
                            }
                            CachedExamples ex = firsts.build();
                            OnPolicyDistiller.Settings settings = options.onPolicySettings(maxNew, config.eosTokenId(), seed);
                            OnPolicyBatches batches = server ? new OnPolicyBatches(lm, mgr, serverScorer, settings)
                                    : new OnPolicyBatches(lm, mgr, scorer, settings);
                            run.log.accept(String.format(java.util.Locale.ROOT, "seed %d: %d prompts, %d per batch,"
                                    + " on-policy share %.2f", seed, ex.size(), spec.batchSize(), options.lmbda()));
                            return new OnPolicyBatchSource(batches, ex, spec.batchSize());
                        }
                        CachedExamples ex = examples(cache, index, trainItems, first, lm, mgr, seed, tokenizer, embedder,
                                meanPicks, picked);
                        LmBatchSource source = new LmBatchSource(ex, context, spec.batchSize(), options.packing(),
                                spec.accumulationSteps());
                        run.log.accept(String.format(java.util.Locale.ROOT, "seed %d: %d examples in %d rows of %d tokens",
                                seed, ex.size(), source.rows(), context));
                        return source;
                    })
                    .setStudents(blocks::get)
                    .setLoss(onPolicy ? OnPolicyBatches.loss(options.beta(), options.varianceEps(), server) : new AnswerLoss(alpha))
                    .setSpec(capWarmup(spec, trainItems))
                    .setScorer((seed, model) -> {
                        CausalLm lm = (CausalLm) model.getBlock();
                        NDManager mgr = managers.get(seed);
                        Map<String, Double> metrics = new LinkedHashMap<>();
                        double[][] perExample = new double[testSft.size()][1];
                        double sum = 0;
                        long tokens = 0;
                        for (int from = 0; from < testSft.size(); from += SCORED_PER_READ) {
                            List<LmExample> chunk = testSft.read(from, Math.min(testSft.size(), from + SCORED_PER_READ));
                            for (int c = 0; c < chunk.size(); c++) {
                                int i = from + c;
                                perExample[i][0] = LmFineTuner.evaluate(lm, mgr, List.of(chunk.get(c)), context, 0);
                                // the answer tokens inside the row (all of them unless the example is cut)
                                int n = SequencePacker.answerTokens(new int[] {chunk.get(c).prompt().length},
                                        new int[] {chunk.get(c).length()}, context);
                                sum += perExample[i][0] * n;
                                tokens += n;
                            }
                        }
                        double nll = sum / tokens;
                        metrics.put("nll", nll);
                        metrics.put("perplexity", Math.exp(nll));
                        if (testKd != null) {
                            metrics.put("top-k-kl", LmFineTuner.evaluate(lm, mgr, testKd, context, 1));
                        }
                        if (run.saveStudents) {
                            save(studentsDir.resolve("seed-" + seed), lm, loras.get(seed), tokenizer, seed, metrics,
                                    picks.get(seed));
                        }
                        return new MultiStudentRun.StudentScore(metrics, perExample);
                    })
                    .optResume(run.resume).optParameterVariance(parameterVariance(config));
            if (run.training.earlyStopping() != null) {
                b.optValidator(Validator.named("loss", model -> LmFineTuner.evaluate((CausalLm) model.getBlock(),
                        model.getNDManager(), testSft, context, 0)));
            }
            if (apart != null) {
                b.optStore(new StudentOutcomes(runDir, describe(cache, config, context, held, trainItems, embedder),
                        folder(parameterVariance(config))));
            }
            MultiStudentRun students = b.build();
            if (apart != null && !apart.containsAll(run.seeds)) {
                int trained = students.trainSeeds(apart);
                run.log.accept(run.name + ": seeds " + apart + ": " + trained + " trained now, "
                        + (apart.size() - trained) + " earlier");
                return null;
            }
            MultiStudentRun.Result result = students.run();
            RunResult out = new RunResult(runDir, run.name, info.finish(), describe(cache, config, context, held,
                    trainItems, embedder), result);
            out.write();
            return out;
        } finally {
            managers.values().forEach(NDManager::close);
            if (teacherManager != null) {
                teacherManager.close();
            }
        }
    }

    private static boolean parameterVariance(CausalLmConfig config) {
        return config.parameterCount() <= PARAMETER_VARIANCE_LIMIT;
    }

    /**
     * A student stored apart, as {@link StudentOutcomes} reads it back: the trained block's parameters in its own
     * order ({@link MultiStudentRun#flatParameters}, what one run's variance takes), or none when the run computes no
     * parameter variance. A full student is its Hugging Face folder ({@code model.safetensors}, float32 as trained). A
     * LoRA student trained a block of frozen base weights with adapters attached, so its parameters are that block
     * rebuilt: the base it started from (its {@code base/} folder, saved after training, or the run's student folder)
     * with {@code adapter/} loaded onto it by {@link PeftAdapter#load}, which attaches the adapters as training did;
     * not the merged folder, whose weights fold the adapters in. The adapter, saved last, marks the student saved.
     */
    private StudentOutcomes.Folder folder(boolean parameterVariance) {
        boolean lora = run.lora != null;
        Path initial = run.studentFolder;
        return new StudentOutcomes.Folder() {
            @Override
            public String savedFile() {
                return lora ? ADAPTER + "/" + PeftAdapter.WEIGHTS : HfFolder.WEIGHTS;
            }

            @Override
            public float[] parameters(Path studentDir) {
                if (!parameterVariance) {
                    return null;
                }
                Path weights = !lora ? studentDir : initial != null ? initial : studentDir.resolve(BASE);
                try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                        HfFolder.Loaded loaded = HfFolder.load(weights, manager);
                        Model model = Model.newInstance(studentDir.getFileName().toString(), Device.cpu())) {
                    if (lora) {
                        PeftAdapter.load(loaded.model(), studentDir.resolve(ADAPTER));
                    }
                    model.setBlock(loaded.model());
                    return MultiStudentRun.flatParameters(model);
                }
            }
        };
    }

    /**
     * The sample job's server as the on-policy teacher: it scores the students' continuations with its top K
     * ({@link HttpTeacher#score}); the scoring route is settled now, on the first training prompt and its first
     * cached response, so that a server without one stops the run before any training.
     */
    private TopKScorer serverScorer(TeacherCache cache) {
        HttpTeacher http;
        try {
            http = new HttpTeacher(spec.sequence().http());
        } catch (BadInputException e) {
            throw new BadInputException(spec.source() + ": field teacher." + e.getMessage(), e);
        }
        SequenceItem first;
        try (SequenceCacheReader r = cache.sequence()) {
            first = r.read(0);
        }
        int[] answer = first.samples().get(0).tokens();
        int[] probe = java.util.Arrays.copyOf(first.prompt(), first.prompt().length + answer.length);
        System.arraycopy(answer, 0, probe, first.prompt().length, answer.length);
        if (probe.length < 2) {
            probe = new int[] {probe[0], probe[0]};
        }
        HttpTeacher.ScoringRoute route = http.scoringRoute(probe);
        run.log.accept("on-policy teacher: " + spec.sequence().http().baseUri() + " scores continuations with its top "
                + spec.sequence().http().topLogprobs() + (route == HttpTeacher.ScoringRoute.PROMPT_LOGPROBS
                        ? " (prompt_logprobs, one request per sequence)" : " (n_probs, one request per position)"));
        scoringRoute = route;
        int k = spec.sequence().http().topLogprobs();
        return new TopKScorer() {
            @Override
            public int topK() {
                return k;
            }

            @Override
            public List<Position[]> score(List<int[]> prompts, List<int[]> continuations) {
                List<List<TokenStep>> scored = http.score(prompts, continuations);
                List<Position[]> out = new ArrayList<>(scored.size());
                for (List<TokenStep> row : scored) {
                    out.add(row.stream().map(t -> new Position(t.topIds(), t.topLogprobs(), t.tailLogMass()))
                            .toArray(Position[]::new));
                }
                return out;
            }
        };
    }

    /** The run's training settings for an LM: no weight decay on vectors, as GPT-2 and Llama recipes. */
    private TrainingSpec lmSpec(CausalLmConfig config, Device device) {
        try (NDManager probe = NDManager.newBaseManager(device)) {
            CausalLm lm = new CausalLm(config);
            lm.initialize(probe);
            return run.training.toBuilder().optNoDecay(LmFineTuner.vectorParameters(lm)).build();
        }
    }

    private TrainingSpec capWarmup(TrainingSpec spec, int trainItems) {
        int perStudent = options.mode() == LmOptions.Mode.SFT_ALL || options.mode() == LmOptions.Mode.TOKEN_KD
                ? run.samples : 1; // on-policy: one batch row group per prompt
        long rows = Math.max(1, (long) trainItems * perStudent);
        long batches = (rows + spec.batchSize() - 1) / spec.batchSize();
        long total = TrainingEngine.totalSteps(spec, (int) batches);
        return spec.warmupSteps() > total ? spec.toBuilder().optSchedule(spec.schedule(), total).build() : spec;
    }

    /**
     * A student's untrained block, drawn from its seed alone: the engine is seeded first also for a student loaded from
     * a folder, so that LoRA adapters attached next draw their A from the seed, not from whatever the students trained
     * before left (one task per seed then trains the student one run trains).
     */
    private CausalLm student(CausalLmConfig config, long seed, NDManager manager) {
        Engine.getInstance().setRandomSeed((int) seed);
        if (run.studentFolder != null) {
            HfFolder.Loaded loaded = HfFolder.load(run.studentFolder, manager);
            loaded.close();
            return loaded.model();
        }
        CausalLm lm = new CausalLm(config);
        lm.initialize(manager);
        return lm;
    }

    /** Prompts scored per read of the held-out examples. */
    private static final int SCORED_PER_READ = 256;

    /**
     * A student's training examples, left in the cache: by the mode, its draws [first, first + k) of every training
     * prompt, or the one response selected per prompt (sft-mean: picked in the indexing pass; sft-inverse-variance:
     * against k answers of this untrained student, in one more pass over the training prompts).
     */
    private CachedExamples examples(TeacherCache cache, CachedExamples.Index index, int trainItems, int first,
            CausalLm student, NDManager manager, long seed, LmTokenizer tokenizer, SentenceEmbedder embedder,
            Map<Integer, int[]> meanPicks, List<Integer> picked) {
        int k = run.samples;
        CachedExamples.Kind kind = options.mode() == LmOptions.Mode.TOKEN_KD ? CachedExamples.Kind.TOP_K
                : CachedExamples.Kind.SFT;
        CachedExamples.Builder out = CachedExamples.builder(cache, index, kind);
        switch (options.mode()) {
            case SFT_ONE -> {
                for (int q = 0; q < trainItems; q++) {
                    out.add(q, first);
                }
            }
            case SFT_ALL, TOKEN_KD -> {
                for (int q = 0; q < trainItems; q++) {
                    for (int j = first; j < first + k; j++) {
                        out.add(q, j);
                    }
                }
            }
            case SFT_MEAN -> {
                int[] pick = meanPicks.get(first);
                for (int q = 0; q < trainItems; q++) {
                    picked.add(first + pick[q]);
                    out.add(q, first + pick[q]);
                }
            }
            case SFT_INVERSE_VARIANCE -> {
                Random random = new Random(seed);
                CachedExamples.visit(cache, 0, trainItems, it -> {
                    double[][] t = embed(it, first, k, tokenizer, embedder);
                    double[][] s = new double[k][];
                    int max = Math.max(1, it.samples().stream().mapToInt(x -> x.length()).max().orElse(1));
                    for (int j = 0; j < k; j++) {
                        int[] answer = Generation.sample(student, manager, it.prompt(), max,
                                student.config().eosTokenId(), 1.0, 0, random);
                        s[j] = embedder.embed(tokenizer.decode(answer));
                    }
                    int pick = AnswerSelection.inverseVarianceSelection(t, s);
                    picked.add(first + pick);
                    out.add((int) it.item(), first + pick);
                });
            }
            default -> throw new IllegalStateException("unknown mode " + options.mode());
        }
        return out.build();
    }

    /** The sentence embeddings of an item's responses [first, first + count). */
    private static double[][] embed(SequenceItem item, int first, int count, LmTokenizer tokenizer,
            SentenceEmbedder embedder) {
        double[][] out = new double[count][];
        for (int j = 0; j < count; j++) {
            out[j] = embedder.embed(tokenizer.decode(item.samples().get(first + j).tokens()));
        }
        return out;
    }

    private SentenceEmbedder embedder() {
        try {
            return SentenceEmbedder.load();
        } catch (IllegalStateException e) {
            throw new BadInputException("lm.mode " + options.mode() + ": " + e.getMessage(), e);
        }
    }

    private Path tokenizerFile() {
        if (run.tokenizer != null) {
            try {
                return io.distill4j.teacher.gguf.GgufTokenizer.asTokenizerJson(run.tokenizer);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot write the tokenizer.json of " + run.tokenizer, e);
            }
        }
        // the teacher's tokenizer the sample job kept in the cache (checked against the server or the model folder)
        if (Files.exists(spec.cache().resolve(HfFolder.TOKENIZER))) {
            return spec.cache().resolve(HfFolder.TOKENIZER);
        }
        if (spec.sequence().folder() != null && Files.exists(spec.sequence().folder().resolve(HfFolder.TOKENIZER))) {
            return spec.sequence().folder().resolve(HfFolder.TOKENIZER);
        }
        if (run.studentFolder != null && Files.exists(run.studentFolder.resolve(HfFolder.TOKENIZER))) {
            return run.studentFolder.resolve(HfFolder.TOKENIZER);
        }
        throw new BadInputException(spec.source() + ": no tokenizer for the students: this teacher ("
                + (spec.sequence().http() != null ? "http " + spec.sequence().http().baseUri() : "lm " + spec.sequence().folder())
                + ") gives token ids only; name the served model's tokenizer.json or GGUF in the sample job (teacher.tokenizer)"
                + " or in the train config (tokenizer: path)");
    }

    private int eos(LmTokenizer tokenizer) {
        if (spec.sequence().sampling() != null && spec.sequence().sampling().eosId() >= 0) {
            return spec.sequence().sampling().eosId();
        }
        if (spec.sequence().folder() != null) {
            int id = HfFolder.readConfig(spec.sequence().folder()).eosTokenId();
            if (id >= 0) {
                return id;
            }
        }
        return tokenizer.specialId(LmTokenizer.EOS_TOKENS);
    }

    private int bos(LmTokenizer tokenizer) {
        if (spec.sequence().folder() != null) {
            int id = HfFolder.readConfig(spec.sequence().folder()).bosTokenId();
            if (id >= 0) {
                return id;
            }
        }
        return tokenizer.specialId(LmTokenizer.BOS_TOKENS);
    }

    /** The file of a selecting mode's choices: per training prompt, the index of the teacher answer trained on. */
    static final String SELECTED = "selected-answers.json";

    /** The folder, inside a LoRA student's folder, of its adapter in peft's format. */
    static final String ADAPTER = "adapter";
    /** The folder, inside a LoRA student's folder, of the frozen base when the student started from a preset. */
    static final String BASE = "base";

    private void save(Path dir, CausalLm lm, Lora lora, LmTokenizer tokenizer, long seed, Map<String, Double> metrics,
            List<Integer> picked) {
        try {
            if (lora == null) {
                HfFolder.save(lm, tokenizer, dir);
            } else {
                // the merged model is the student's folder (as a fully fine-tuned one); the adapter beside it loads
                // onto its base with peft: the student folder it started from, or the preset's frozen weights
                PeftAdapter.mergeAndSave(lora, tokenizer, dir);
                String base = run.studentFolder != null ? run.studentFolder.toAbsolutePath().toString() : "../" + BASE;
                if (run.studentFolder == null) {
                    HfFolder.save(lm, tokenizer, dir.resolve(BASE));
                }
                PeftAdapter.save(lora, base, dir.resolve(ADAPTER));
            }
            if (!picked.isEmpty()) {
                AtomicFiles.write(dir.resolve(SELECTED), JSON.writeValueAsBytes(picked));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seed", seed);
            m.put("metrics", metrics);
            AtomicFiles.write(dir.resolve(SavedStudent.METRICS), JSON.writeValueAsBytes(m));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot save the student: " + Errors.reason(e), e);
        }
    }

    private Map<String, Object> describe(TeacherCache cache, CausalLmConfig config, int context, int held, int trainItems,
            SentenceEmbedder embedder) {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("prompts", spec.sequence().prompts().toString());
        d.put("trainPrompts", trainItems);
        d.put("heldOutPrompts", held);
        d.put("evaluatedOn", held > 0 ? "the last " + held + " prompts of the cache, held out"
                : "the training prompts (lm.heldOut 0)");
        d.put("fingerprint", cache.manifest().datasetFingerprint());
        m.put("data", d);
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("source", run.teacher.describe());
        t.put("cache", cache.dir().toString());
        t.put("provenance", cache.manifest().teacher());
        t.put("vocabulary", cache.manifest().sequence().vocabSize());
        t.put("topK", cache.manifest().sequence().topK());
        t.put("samplesPerStudent", run.samples);
        t.put("samplesInCache", cache.manifest().k());
        t.put("draws", run.draws.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        m.put("teacher", t);
        Map<String, Object> lm = new LinkedHashMap<>();
        lm.put("mode", options.mode().toString());
        if (options.mode() == LmOptions.Mode.TOKEN_KD) {
            lm.put("alpha", options.alpha());
        }
        if (options.mode() == LmOptions.Mode.ON_POLICY) {
            lm.put("lmbda", options.lmbda());
            lm.put("beta", options.beta());
            lm.put("continuations", options.continuations());
            lm.put("varianceEps", options.varianceEps());
            lm.put("maxNewTokens", options.maxNewTokens());
            lm.put("temperature", options.temperature());
            lm.put("teacherScoring", spec.sequence().folder() != null ? spec.sequence().folder().toString()
                    : spec.sequence().http().baseUri() + ": top " + spec.sequence().http().topLogprobs() + " and tail, "
                    + (scoringRoute == HttpTeacher.ScoringRoute.PROMPT_LOGPROBS ? "prompt_logprobs" : "n_probs per position"));
        }
        lm.put("context", context);
        lm.put("packing", options.packing());
        if (embedder != null) {
            lm.put("embedder", embedder.name());
        }
        if (run.lora != null) {
            lm.put("lora", String.format(java.util.Locale.ROOT, "rank %d, alpha %s, dropout %s, targets %s%s; only the"
                    + " adapters train; saved merged (the student's folder) and as a peft adapter (%s/)",
                    run.lora.rank(), run.lora.alpha(), run.lora.dropout(), run.lora.targets(),
                    run.lora.rslora() ? ", rsLoRA" : "", ADAPTER));
        }
        m.put("lm", lm);
        Map<String, Object> s = new LinkedHashMap<>(config.toHfConfig());
        s.values().removeIf(java.util.Objects::isNull);
        s.put("description", run.student.describe());
        s.put("parameters", config.parameterCount());
        if (run.studentFolder != null) {
            s.put("initialWeights", run.studentFolder.toString());
        }
        m.put("student", s);
        m.put("training", run.training.asMap());
        m.put("seeds", run.seeds);
        return m;
    }
}

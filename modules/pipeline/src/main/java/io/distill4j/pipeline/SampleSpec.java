package io.distill4j.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A {@code distill4j sample} job: which data, which teacher, which cache. Read from YAML by
 * {@link #load(Path)} or built from a parsed mapping by {@link #parse}; every fault names the file and
 * the dotted field.
 *
 * <pre>
 * cache: ../runs/digits-mc-dropout   # the teacher-output cache (created, or resumed); paths are relative to this file
 * k: 16                              # samples per input (an ensemble's k is its member count)
 * seed: 0                            # sampling seed
 * batchSize: 1024                    # inputs per teacher call
 * rowsPerShard: 4096                 # items per committed shard (fewer when a shard of k samples exceeds a quarter of the budget)
 * memoryBudgetMiB: 256               # the sampler's buffers: an MC-dropout teacher runs a batch in chunks of half of it
 * data:
 *   dataset: digits                  # digits, iris, wine, breast_cancer, diabetes
 *   dir: datasets/sklearn
 *   scale: 0.0625                    # multiply every feature (digits' pixels are 0..16)
 *   standardize: false               # z-score features (and regression targets) with the train part's statistics
 *   testFraction: 0.2                # the train/test split the teacher is trained on
 *   splitSeed: 0
 *   sample: train                    # which rows are sampled: train, test or all
 * teacher:
 *   type: mc-dropout                 # mc-dropout, deterministic, ensemble, laplace, output-noise
 *   output: probabilities            # probabilities or logits (classification), values (regression)
 *   temperature: 1.0                 # softmax temperature of probabilities
 *   model: {hidden: [128], dropout: 0.2}
 *   checkpoint: path/to/dir          # a saved teacher (ensemble: checkpoints: [dir, ...]); or
 *   train: {epochs: 40, batchSize: 64, learningRate: 0.01, weightDecay: 0.0001, seed: 0}
 *   members: 5                       # ensemble members to train (seed + m)
 *   laplace: {hessian: kron, priorPrecision: 1.0}
 *   noise: {a: 0.1}                  # output-noise: a * Var(y_train), or variance: [..] per output
 * </pre>
 *
 * <p>A language-model job names prompts instead of data, and writes a sequence cache:
 *
 * <pre>
 * cache: runs/qa-teacher
 * k: 4
 * seed: 0
 * rowsPerShard: 64                   # prompts per committed shard
 * prompts: {file: prompts.jsonl, field: prompt}   # or a .txt file, one prompt per line
 * teacher:
 *   type: http                       # an OpenAI-compatible server (vLLM, llama.cpp)
 *   server: http://127.0.0.1:8080
 *   endpoint: completions            # or chat (systemPrompt: ...)
 *   model: my-model                  # sent as "model"; optional for llama.cpp
 *   maxTokens: 64
 *   temperature: 1.0
 *   topP: 1.0
 *   topK: 50
 *   repetitionPenalty: 1.2
 *   topLogprobs: 5
 *   concurrency: 8
 *   maxRetries: 5
 *   requestTimeoutSeconds: 120
 *   nMode: auto                      # auto, multi (n = k) or single (k seeded requests)
 *   vocabularySize: 0                # 0: from the server's /v1/models (llama.cpp)
 *   extraBody: {return_tokens_as_token_ids: true}   # JSON fields added to every request (vLLM: token ids)
 *   apiKeyEnv: VLLM_API_KEY          # the variable holding the key (Authorization: Bearer); or
 *   # apiKeyFile: /run/secrets/key   # a file holding it, readable only by you (never the key itself)
 *   headers: {X-Org: ORG_ID}         # extra headers: name -> the variable holding the value
 *   caCertificates: certs/ca.pem     # https: trust this PEM's CAs as well as the JDK's
 * # or a local model:
 * #  type: lm
 * #  folder: path/to/hf-model        # config.json, model.safetensors, tokenizer.json
 * #  eosId: 2                        # default: the config's eos_token_id
 * </pre>
 *
 * @param source the config's file name (for messages)
 * @param cache the cache directory
 * @param k samples per input
 * @param seed the sampling seed
 * @param batchSize inputs per teacher call
 * @param rowsPerShard items per committed shard
 * @param memoryBudgetMiB the sampler's buffers, in MiB ({@link io.distill4j.teacher.TeacherSampler.Options})
 * @param data the data settings
 * @param teacher the teacher settings
 * @param sequence the language-model settings (then {@code data} and {@code teacher} are null)
 */
public record SampleSpec(String source, Path cache, int k, long seed, int batchSize, int rowsPerShard, int memoryBudgetMiB,
        DataSpec data,
        TeacherSpec teacher, SequenceSpec sequence) {

    /** The teacher types of tabular data. */
    public static final List<String> TYPES = List.of("mc-dropout", "deterministic", "ensemble", "laplace", "output-noise");
    /** The language-model teacher types (prompts into a sequence cache). */
    public static final List<String> SEQUENCE_TYPES = List.of("http", "lm");

    /** @return whether this job writes a sequence cache from prompts */
    public boolean isSequence() {
        return sequence != null;
    }

    /**
     * A language-model job: prompts in, k responses per prompt with top-K log-probabilities out.
     *
     * @param prompts the prompt file (.jsonl with a string field, or one prompt per line)
     * @param field the JSONL field holding the prompt
     * @param http the HTTP teacher's settings (type {@code http}), else null
     * @param vocabularySize V for the HTTP teacher, 0 to ask the server
     * @param folder the Hugging Face model folder (type {@code lm}), else null
     * @param sampling the local model's sampling settings (type {@code lm}), else null
     */
    public record SequenceSpec(Path prompts, String field, io.distill4j.teacher.http.HttpTeacherConfig http,
            int vocabularySize, Path folder, io.distill4j.teacher.lm.SamplingConfig sampling) {
    }

    /**
     * The data settings.
     *
     * @param dataset the bundled dataset's name
     * @param dir the folder of scikit-learn's files
     * @param scale the feature multiplier
     * @param standardize whether to z-score features (and regression targets) by the train part
     * @param testFraction the test part's fraction
     * @param splitSeed the split's seed
     * @param sample which rows are sampled: {@code train}, {@code test} or {@code all}
     */
    public record DataSpec(String dataset, Path dir, double scale, boolean standardize, double testFraction, long splitSeed,
            String sample) {
    }

    /**
     * The teacher settings.
     *
     * @param type one of {@link #TYPES}
     * @param output {@code probabilities}, {@code logits} or {@code values}; null for the task's default
     * @param temperature the softmax temperature
     * @param hidden the MLP's hidden widths
     * @param dropout the MLP's dropout rate
     * @param checkpoints saved teachers to load (one, or an ensemble's members); empty to train
     * @param train training settings when no checkpoint is given
     * @param members ensemble members to train
     * @param hessian the Laplace GGN structure: {@code kron} or {@code diagonal}
     * @param priorPrecision the Laplace prior precision
     * @param noiseA output noise relative to Var(y_train), or NaN
     * @param noiseVariance output noise variance per output, or null
     */
    public record TeacherSpec(String type, String output, float temperature, int[] hidden, float dropout,
            List<Path> checkpoints, io.distill4j.trainer.TrainingSpec train, int members, String hessian, double priorPrecision, double noiseA,
            double[] noiseVariance) {
    }

    /**
     * Reads a YAML (or JSON) config file.
     *
     * @param file the file
     * @return the job
     * @throws BadInputException if the file is missing, malformed, or a field is unknown or invalid
     */
    public static SampleSpec load(Path file) {
        Object tree;
        try {
            tree = new ObjectMapper(new YAMLFactory()).readValue(file.toFile(), Object.class);
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new BadInputException(file + ": config file not found", e);
        } catch (IOException e) {
            String msg = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new BadInputException(file + ": malformed YAML: " + msg.replace('\n', ' '), e);
        }
        if (!(tree instanceof Map<?, ?> m)) {
            throw new BadInputException(file + ": expected a mapping of settings at the top level");
        }
        Path parent = file.toAbsolutePath().getParent();
        return parse(m, file.toString(), parent == null ? Path.of("").toAbsolutePath() : parent);
    }

    /**
     * Builds a job from a parsed mapping.
     *
     * @param root the top-level mapping
     * @param source the file name used in messages
     * @param base the folder relative paths resolve against (the config file's folder); the default dataset folder
     *     is the shipped {@code datasets/sklearn}
     * @return the job
     * @throws BadInputException naming the field at fault
     */
    public static SampleSpec parse(Map<?, ?> root, String source, Path base) {
        Fields f = new Fields(source, "", root);
        Path cache = resolve(base, f.requiredString("cache"));
        Object teacherType = root.get("teacher") instanceof Map<?, ?> tm ? tm.get("type") : null;
        if (teacherType != null && SEQUENCE_TYPES.contains(String.valueOf(teacherType))) {
            return parseSequence(f, cache, source, base);
        }
        Fields d = f.child("data");
        String dataset = d.choice("dataset", null, List.of("digits", "iris", "wine", "breast_cancer", "diabetes"));
        if (dataset == null) {
            throw d.error("dataset", "required");
        }
        double testFraction = d.number("testFraction", 0.2);
        if (!(testFraction > 0 && testFraction < 1)) {
            throw d.error("testFraction", "must be in (0, 1), got " + testFraction);
        }
        DataSpec data = new DataSpec(dataset, d.has("dir") ? resolve(base, d.string("dir", null))
                : io.distill4j.data.Datasets.folder("sklearn"),
                d.positive("scale", 1.0), d.bool("standardize", false), testFraction, d.integer("splitSeed", 0),
                d.choice("sample", "train", List.of("train", "test", "all")));
        d.finish();
        Fields t = f.child("teacher");
        String type = t.choice("type", null, TYPES);
        if (type == null) {
            throw t.error("type", "required; one of " + String.join(", ", TYPES));
        }
        String output = t.choice("output", null, List.of("probabilities", "logits", "values"));
        boolean regression = dataset.equals("diabetes");
        if (output != null && regression != output.equals("values")) {
            throw t.error("output", "'" + output + "' does not fit the " + (regression ? "regression" : "classification")
                    + " dataset " + dataset);
        }
        if (type.equals("laplace") && regression) {
            throw t.error("type", "laplace is a classification teacher; dataset " + dataset + " is a regression");
        }
        if (type.equals("output-noise") && !regression) {
            throw t.error("type", "output-noise is a regression teacher; dataset " + dataset + " is a classification");
        }
        float temperature = (float) t.positive("temperature", 1.0);
        Fields model = t.child("model");
        int[] hidden = model.positiveInts("hidden", new int[] {128});
        double dropout = model.number("dropout", type.equals("mc-dropout") ? 0.2 : 0.0);
        if (!(dropout >= 0 && dropout < 1)) {
            throw model.error("dropout", "must be in [0, 1), got " + dropout);
        }
        if (type.equals("mc-dropout") && dropout == 0) {
            throw model.error("dropout", "an mc-dropout teacher needs dropout > 0");
        }
        model.finish();
        List<Path> checkpoints = new java.util.ArrayList<>();
        if (t.has("checkpoint")) {
            checkpoints.add(resolve(base, t.requiredString("checkpoint")));
        }
        List<Object> many = t.list("checkpoints");
        if (many != null) {
            many.forEach(o -> checkpoints.add(resolve(base, String.valueOf(o))));
        }
        if (!type.equals("ensemble") && checkpoints.size() > 1) {
            throw t.error("checkpoints", "only an ensemble takes several checkpoints");
        }
        Fields tr = t.child("train");
        io.distill4j.trainer.TrainingSpec train;
        try {
            train = io.distill4j.trainer.TrainingSpec.builder().setEpochs(tr.positiveInt("epochs", 40))
                    .setBatchSize(tr.positiveInt("batchSize", 64)).setLearningRate((float) tr.positive("learningRate", 0.01))
                    .optWeightDecay((float) tr.number("weightDecay", 1e-4)).setSeed(tr.integer("seed", 0)).optLogEvery(0).build();
        } catch (IllegalArgumentException e) {
            throw tr.error("", e.getMessage());
        }
        tr.finish();
        int members = type.equals("ensemble") ? (checkpoints.isEmpty() ? t.positiveInt("members", 5) : checkpoints.size()) : 1;
        if (!type.equals("ensemble") && t.has("members")) {
            throw t.error("members", "only an ensemble has members");
        }
        Fields lap = t.child("laplace");
        String hessian = lap.choice("hessian", "kron", List.of("kron", "diagonal"));
        double prior = lap.positive("priorPrecision", 1.0);
        lap.finish();
        Fields noise = t.child("noise");
        double a = noise.number("a", Double.NaN);
        double[] variance = noise.numbers("variance");
        noise.finish();
        if (type.equals("output-noise")) {
            if (Double.isNaN(a) == (variance == null)) {
                throw t.error("noise", "give exactly one of a (relative to Var(y_train)) and variance");
            }
            if (!Double.isNaN(a) && !(a >= 0)) {
                throw t.error("noise.a", "must be >= 0, got " + a);
            }
        }
        t.finish();
        TeacherSpec teacher = new TeacherSpec(type, output, temperature, hidden, (float) dropout, List.copyOf(checkpoints),
                train, members, hessian, prior, a, variance);
        long kValue = f.integer("k", type.equals("ensemble") ? members : 8);
        if (type.equals("ensemble") && kValue != members) {
            throw f.error("k", "an ensemble's k is its member count " + members + ", got " + kValue);
        }
        if (kValue <= 0 || kValue > 100_000) {
            throw f.error("k", "must be in [1, 100000], got " + kValue);
        }
        SampleSpec spec = new SampleSpec(source, cache, (int) kValue, f.integer("seed", 0), f.positiveInt("batchSize", 512),
                f.positiveInt("rowsPerShard", 4096), f.positiveInt("memoryBudgetMiB", 256), data, teacher, null);
        f.finish();
        return spec;
    }

    private static SampleSpec parseSequence(Fields f, Path cache, String source, Path base) {
        long kValue = f.integer("k", 4);
        if (kValue <= 0 || kValue > 10_000) {
            throw f.error("k", "must be in [1, 10000], got " + kValue);
        }
        int k = (int) kValue;
        long seed = f.integer("seed", 0);
        int itemsPerShard = f.positiveInt("rowsPerShard", 64);
        Fields pr = f.child("prompts");
        Path prompts = resolve(base, pr.requiredString("file"));
        String field = pr.string("field", "prompt");
        pr.finish();
        Fields t = f.child("teacher");
        String type = t.choice("type", null, SEQUENCE_TYPES);
        int maxTokens = t.positiveInt("maxTokens", 64);
        double temperature = t.number("temperature", 1.0);
        double topP = t.number("topP", 1.0);
        long topK = t.integer("topK", 0);
        double penalty = t.number("repetitionPenalty", 1.0);
        int topLogprobs = t.positiveInt("topLogprobs", 5);
        SequenceSpec seq;
        try {
            if (type.equals("http")) {
                io.distill4j.teacher.http.HttpTeacherConfig.Builder b = io.distill4j.teacher.http.HttpTeacherConfig.builder()
                        .setBaseUri(t.requiredString("server")).setK(k).optMaxTokens(maxTokens).optTemperature(temperature)
                        .optTopP(topP).optTopK((int) topK).optRepetitionPenalty(penalty).optTopLogprobs(topLogprobs)
                        .optSeed(seed).optModel(t.string("model", null)).optSystemPrompt(t.string("systemPrompt", null))
                        .optEndpoint(t.choice("endpoint", "completions", List.of("completions", "chat")).equals("chat")
                                ? io.distill4j.teacher.http.HttpTeacherConfig.Endpoint.CHAT
                                : io.distill4j.teacher.http.HttpTeacherConfig.Endpoint.COMPLETIONS)
                        .optNMode(io.distill4j.teacher.http.HttpTeacherConfig.NMode.valueOf(
                                t.choice("nMode", "auto", List.of("auto", "multi", "single")).toUpperCase(java.util.Locale.ROOT)))
                        .optConcurrency(t.positiveInt("concurrency", 8)).optMaxRetries((int) t.integer("maxRetries", 5))
                        .optRequestTimeout(java.time.Duration.ofMillis((long) (1000 * t.positive("requestTimeoutSeconds", 120))));
                if (t.has("apiKey")) {
                    throw t.error("apiKey", "a job file never holds the key itself (it is not shown); name the environment "
                            + "variable that holds it (apiKeyEnv) or a file readable only by you (apiKeyFile)");
                }
                String keyFile = t.string("apiKeyFile", null);
                String ca = t.string("caCertificates", null);
                Map<String, String> headers = t.strings("headers");
                Map<String, Object> extraBody = t.mapping("extraBody");
                if (extraBody != null) {
                    b.optExtraBody(extraBody);
                }
                b.optApiKeyEnv(t.string("apiKeyEnv", null)).optApiKeyFile(keyFile == null ? null : resolve(base, keyFile))
                        .optHeaders(headers == null ? Map.of() : headers).optCaCertificates(ca == null ? null : resolve(base, ca));
                List<Object> stop = t.list("stop");
                if (stop != null) {
                    b.optStop(stop.stream().map(String::valueOf).toList());
                }
                long v = t.integer("vocabularySize", 0);
                if (v < 0 || v > Integer.MAX_VALUE) {
                    throw t.error("vocabularySize", "must be >= 0 (0: ask the server), got " + v);
                }
                seq = new SequenceSpec(prompts, field, b.build(), (int) v, null, null);
            } else {
                Path folder = resolve(base, t.requiredString("folder"));
                long eos = t.integer("eosId", -2);
                seq = new SequenceSpec(prompts, field, null, 0, folder, new io.distill4j.teacher.lm.SamplingConfig(maxTokens,
                        temperature, (int) topK, topP, penalty, topLogprobs, (int) eos));
            }
        } catch (IllegalArgumentException e) {
            throw new BadInputException(source + ": field teacher: " + e.getMessage(), e);
        }
        t.finish();
        f.finish();
        return new SampleSpec(source, cache, k, seed, 1, itemsPerShard, 256, null, null, seq);
    }

    /** Paths in a job file are relative to the file's folder (absolute ones stay). */
    private static Path resolve(Path base, String path) {
        Path p = Path.of(path);
        return p.isAbsolute() ? p : base.resolve(p).normalize();
    }
}

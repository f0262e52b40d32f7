package io.distill4j.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.distill4j.data.BadInputException;
import io.distill4j.data.config.ConfigFile;
import io.distill4j.data.config.ConfigReader;
import io.distill4j.data.datasets.Mnist;
import io.distill4j.teacher.http.HttpTeacherConfig;
import io.distill4j.teacher.lm.SamplingConfig;
import io.distill4j.trainer.TrainingSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A {@code distill4j sample} job: which data, which teacher, which cache. Read from YAML by {@link #load(Path)}
 * (or {@link #of(ConfigFile)}, {@link #parse(Map, Path)}) through the project's one strict binding
 * ({@link ConfigFile}): an unknown key, a wrong type or an out-of-range value is one line naming
 * {@code file:line:column: field a.b}. Relative paths ({@code cache}, {@code data.dir}, {@code teacher.checkpoint},
 * {@code prompts.file}, ...) are relative to the folder of the job file, whatever the working directory.
 *
 * <pre>
 * cache: ../runs/digits-mc-dropout   # the teacher-output cache (created, or resumed); paths are relative to this file
 * k: 16                              # samples per input (an ensemble's k is its member count)
 * seed: 0                            # sampling seed
 * batchSize: 1024                    # inputs per teacher call
 * rowsPerShard: 4096                 # items per committed shard (fewer when a shard of k samples exceeds a quarter of the budget)
 * memoryBudgetMiB: 256               # the sampler's buffers: an MC-dropout teacher's chunks take at most half (and 1 MiB)
 * data:
 *   dataset: digits                  # digits, iris, wine, breast_cancer, diabetes; or mnist, fashion-mnist
 *   dir: datasets/sklearn            # mnist: datasets/mnist/raw, fashion-mnist: datasets/fashion-mnist/raw (IDX files)
 *   scale: 0.0625                    # multiply every feature (digits' pixels are 0..16; MNIST's are already in [0, 1])
 *   standardize: false               # z-score features (and regression targets) with the train part's statistics
 *   testFraction: 0.2                # the train/test split the teacher is trained on; MNIST and Fashion-MNIST
 *                                    # default to their own (60,000 train, 10,000 t10k test images), a value pools
 *                                    # the 70,000 and splits them at random like the other datasets
 *   splitSeed: 0
 *   sample: train                    # which rows are sampled: train, test or all
 * teacher:
 *   type: mc-dropout                 # mc-dropout, deterministic, ensemble, laplace, output-noise, or a type
 *                                    # registered with Teachers.register (its other keys bind to its record)
 *   output: probabilities            # probabilities or logits (classification), values (regression)
 *   temperature: 1.0                 # softmax temperature of probabilities
 *   model: {hidden: [128], dropout: 0.2}
 *   checkpoint: path/to/dir          # a saved teacher (ensemble: checkpoints: [dir, ...]); or
 *   train: {epochs: 40, batchSize: 64, learningRate: 0.01, weightDecay: 0.0001, seed: 0}   # any TrainingSpec key
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
 *   server: http://127.0.0.1:8080     # or a list of replicas of one model: [http://a:8080, http://b:8080];
 *                                    # `sample` on one machine uses the first, `sample --engine local[N]` (Spark)
 *                                    # sends prompt range (shard) i to server i mod the list's length
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
 *   tokenizer: teacher.gguf          # the served model's tokenizer.json or GGUF: checked against the server's
 *                                    # /tokenize, kept in the cache as tokenizer.json for the students
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

    /** The built-in teacher types of tabular data ({@link Teachers#register} adds more). */
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
     * @param tokenizer the served model's {@code tokenizer.json} or GGUF file (type {@code http}, optional: checked
     *     against the server's {@code /tokenize} and kept in the cache as {@code tokenizer.json}, where students find
     *     it), else null (a local model's folder holds its own)
     */
    public record SequenceSpec(Path prompts, String field, io.distill4j.teacher.http.HttpTeacherConfig http,
            int vocabularySize, Path folder, io.distill4j.teacher.lm.SamplingConfig sampling, Path tokenizer) {
    }

    /**
     * The data settings.
     *
     * @param dataset the dataset's name: one of {@link #DATASETS} or {@link #IMAGE_DATASETS}
     * @param dir the folder of scikit-learn's files, or of an image dataset's IDX files
     * @param scale the feature multiplier
     * @param standardize whether to z-score features (and regression targets) by the train part
     * @param testFraction the test part's fraction; NaN for an image dataset's own split (its t10k files)
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
     * @param settings a registered {@link TeacherType}'s bound settings (then the MLP fields are unused), else null
     */
    public record TeacherSpec(String type, String output, float temperature, int[] hidden, float dropout,
            List<Path> checkpoints, io.distill4j.trainer.TrainingSpec train, int members, String hessian, double priorPrecision, double noiseA,
            double[] noiseVariance, Object settings) {
    }

    /** The scikit-learn datasets a tabular job can name. */
    public static final List<String> DATASETS = List.of("digits", "iris", "wine", "breast_cancer", "diabetes");

    /**
     * The image datasets a tabular job can name: IDX files fetched by {@code datasets/<name>/fetch.sh} into
     * {@code datasets/<name>/raw} (read by {@link io.distill4j.data.datasets.Mnist}).
     */
    public static final List<String> IMAGE_DATASETS = List.of("mnist", "fashion-mnist");

    /**
     * Whether a dataset name is one of {@link #IMAGE_DATASETS}.
     *
     * @param dataset the name
     * @return whether its rows come from IDX files
     */
    public static boolean isImage(String dataset) {
        return IMAGE_DATASETS.contains(dataset);
    }

    /**
     * Reads a YAML (or JSON) job file.
     *
     * @param file the file
     * @return the job
     * @throws BadInputException if the file is missing or malformed, or a field is unknown or invalid
     */
    public static SampleSpec load(Path file) {
        return of(ConfigFile.load(file));
    }

    /**
     * Builds a job from settings given as a mapping (Java code, tests), as if it were the text of {@code file}.
     *
     * @param root the top-level mapping, as YAML would give it
     * @param file the file named in messages; relative paths resolve against its folder
     * @return the job
     * @throws BadInputException naming the field at fault
     */
    public static SampleSpec parse(Map<?, ?> root, Path file) {
        return of(ConfigFile.parse(file, ConfigReader.toYaml(root)));
    }

    /**
     * Binds a parsed job file.
     *
     * @param cf the file
     * @return the job
     * @throws BadInputException naming file, line, column, field and value of the first fault
     */
    public static SampleSpec of(ConfigFile cf) {
        Extension.loadInstalled();
        String type = cf.node("/teacher/type").isTextual() ? cf.node("/teacher/type").asText() : null;
        if (type != null && SEQUENCE_TYPES.contains(type)) {
            return sequence(cf);
        }
        return tabular(cf);
    }

    // ------------------------------------------------------------------ the file's shape, bound strictly

    /** The top level of a tabular job. */
    record TabularJob(Path cache, Integer k, Long seed, Integer batchSize, Integer rowsPerShard, Integer memoryBudgetMiB,
            Data data, JsonNode teacher) {
    }

    /** {@code data:} of a tabular job. */
    record Data(String dataset, Path dir, Double scale, Boolean standardize, Double testFraction, Long splitSeed,
            String sample) {
    }

    /** {@code teacher:} of a tabular job ({@code train:} is bound into a {@link TrainingSpec.Builder}). */
    record Tabular(String type, String output, Float temperature, Model model, Path checkpoint, List<Path> checkpoints,
            JsonNode train, Integer members, Laplace laplace, Noise noise) {
    }

    /** {@code teacher.model:}. */
    record Model(List<Integer> hidden, Double dropout) {
    }

    /** {@code teacher.laplace:}. */
    record Laplace(String hessian, Double priorPrecision) {
    }

    /** {@code teacher.noise:}. */
    record Noise(Double a, double[] variance) {
    }

    /** The top level of a language-model job. */
    record SequenceJob(Path cache, Integer k, Long seed, Integer rowsPerShard, PromptFile prompts, JsonNode teacher) {
    }

    /** {@code prompts:}. */
    record PromptFile(Path file, String field) {
    }

    /**
     * {@code teacher:} of type {@code http}; {@code headers} and {@code apiKey} are read by hand, naming no value;
     * {@code server} is one address or a list of them.
     */
    record Http(String type,
            @com.fasterxml.jackson.annotation.JsonFormat(with =
                    com.fasterxml.jackson.annotation.JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<String> server,
            String endpoint, String model, String systemPrompt, Integer maxTokens,
            Double temperature, Double topP, Integer topK, Double repetitionPenalty, Integer topLogprobs, Integer concurrency,
            Integer maxRetries, Double requestTimeoutSeconds, String nMode, Long vocabularySize,
            Map<String, Object> extraBody, String apiKeyEnv, Path apiKeyFile, JsonNode headers, Path caCertificates,
            List<String> stop, JsonNode apiKey, Path tokenizer) {
    }

    /** {@code teacher:} of type {@code lm}. */
    record Local(String type, Path folder, Integer maxTokens, Double temperature, Double topP, Integer topK,
            Double repetitionPenalty, Integer topLogprobs, Integer eosId) {
    }

    // ------------------------------------------------------------------ tabular jobs

    private static SampleSpec tabular(ConfigFile cf) {
        TabularJob job = cf.bind("", TabularJob.class);
        Path cache = required(cf, "/cache", job.cache(), "the teacher-output cache folder");
        Data d = cf.bind("/data", Data.class);
        List<String> names = new ArrayList<>(DATASETS);
        names.addAll(IMAGE_DATASETS);
        String dataset = oneOf(cf, "/data/dataset", d.dataset(), null, names);
        if (dataset == null) {
            throw cf.error("/data/dataset", "required; one of " + String.join(", ", names));
        }
        boolean image = isImage(dataset);
        if (d.testFraction() != null && !(d.testFraction() > 0 && d.testFraction() < 1)) {
            throw cf.error("/data/testFraction", "must be in (0, 1), got " + d.testFraction());
        }
        double testFraction = d.testFraction() != null ? d.testFraction() : image ? Double.NaN : 0.2;
        Path dir = image ? imageFolder(cf, dataset, d.dir()) : d.dir() != null ? d.dir()
                : io.distill4j.data.Datasets.folder("sklearn");
        DataSpec data = new DataSpec(dataset, dir,
                positive(cf, "/data/scale", d.scale(), 1.0), or(d.standardize(), false), testFraction, or(d.splitSeed(), 0L),
                oneOf(cf, "/data/sample", d.sample(), "train", List.of("train", "test", "all")));
        String named = cf.node("/teacher/type").isTextual() ? cf.node("/teacher/type").asText() : null;
        TeacherType<?> custom = named == null ? null : Teachers.registered(named);
        boolean regression = dataset.equals("diabetes");
        if (custom != null) {
            return custom(cf, job, cache, data, named, custom);
        }
        Tabular t = cf.bind("/teacher", Tabular.class);
        String type = oneOf(cf, "/teacher/type", t.type(), null, Teachers.types());
        if (type == null) {
            throw cf.error("/teacher/type", "required; one of " + String.join(", ", Teachers.types()));
        }
        String output = oneOf(cf, "/teacher/output", t.output(), null, List.of("probabilities", "logits", "values"));
        if (output != null && regression != output.equals("values")) {
            throw cf.error("/teacher/output", "'" + output + "' does not fit the " + (regression ? "regression"
                    : "classification") + " dataset " + dataset);
        }
        if (type.equals("laplace") && regression) {
            throw cf.error("/teacher/type", "laplace is a classification teacher; dataset " + dataset + " is a regression");
        }
        if (type.equals("output-noise") && !regression) {
            throw cf.error("/teacher/type", "output-noise is a regression teacher; dataset " + dataset
                    + " is a classification");
        }
        float temperature = (float) positive(cf, "/teacher/temperature", t.temperature() == null ? null
                : t.temperature().doubleValue(), 1.0);
        Model model = t.model() != null ? t.model() : new Model(null, null);
        int[] hidden = {128};
        if (model.hidden() != null) {
            hidden = new int[model.hidden().size()];
            for (int i = 0; i < hidden.length; i++) {
                hidden[i] = model.hidden().get(i);
                if (hidden[i] <= 0) {
                    throw cf.error("/teacher/model/hidden/" + i, "must be positive, got " + hidden[i]);
                }
            }
        }
        double dropout = or(model.dropout(), type.equals("mc-dropout") ? 0.2 : 0.0);
        if (!(dropout >= 0 && dropout < 1)) {
            throw cf.error("/teacher/model/dropout", "must be in [0, 1), got " + dropout);
        }
        if (type.equals("mc-dropout") && dropout == 0) {
            throw cf.error("/teacher/model/dropout", "an mc-dropout teacher needs dropout > 0");
        }
        List<Path> checkpoints = new ArrayList<>();
        if (t.checkpoint() != null) {
            checkpoints.add(t.checkpoint());
        }
        if (t.checkpoints() != null) {
            checkpoints.addAll(t.checkpoints());
        }
        if (!type.equals("ensemble") && checkpoints.size() > 1) {
            throw cf.error("/teacher/checkpoints", "only an ensemble takes several checkpoints");
        }
        TrainingSpec.Builder tb = TrainingSpec.builder().setEpochs(40).setBatchSize(64).setLearningRate(0.01f)
                .optWeightDecay(1e-4f).setSeed(0).optLogEvery(0);
        TrainingSpec train = cf.check("/teacher/train", () -> cf.update("/teacher/train", tb).build());
        if (!type.equals("ensemble") && t.members() != null) {
            throw cf.error("/teacher/members", "only an ensemble has members");
        }
        int members = type.equals("ensemble") ? (checkpoints.isEmpty() ? positive(cf, "/teacher/members", t.members(), 5)
                : checkpoints.size()) : 1;
        Laplace lap = t.laplace() != null ? t.laplace() : new Laplace(null, null);
        String hessian = oneOf(cf, "/teacher/laplace/hessian", lap.hessian(), "kron", List.of("kron", "diagonal"));
        double prior = positive(cf, "/teacher/laplace/priorPrecision", lap.priorPrecision(), 1.0);
        Noise noise = t.noise() != null ? t.noise() : new Noise(null, null);
        double a = or(noise.a(), Double.NaN);
        if (type.equals("output-noise")) {
            if (Double.isNaN(a) == (noise.variance() == null)) {
                throw cf.error("/teacher/noise", "give exactly one of a (relative to Var(y_train)) and variance");
            }
            if (!Double.isNaN(a) && !(a >= 0)) {
                throw cf.error("/teacher/noise/a", "must be >= 0, got " + a);
            }
        }
        TeacherSpec teacher = new TeacherSpec(type, output, temperature, hidden, (float) dropout, List.copyOf(checkpoints),
                train, members, hessian, prior, a, noise.variance(), null);
        int k = job.k() != null ? job.k() : type.equals("ensemble") ? members : 8;
        if (type.equals("ensemble") && k != members) {
            throw cf.error("/k", "an ensemble's k is its member count " + members + ", got " + k);
        }
        if (k <= 0 || k > 100_000) {
            throw cf.error("/k", "must be in [1, 100000], got " + k);
        }
        return new SampleSpec(cf.file().toString(), cache, k, or(job.seed(), 0L), positive(cf, "/batchSize", job.batchSize(),
                512), positive(cf, "/rowsPerShard", job.rowsPerShard(), 4096),
                positive(cf, "/memoryBudgetMiB", job.memoryBudgetMiB(), 256), data, teacher, null);
    }

    /**
     * The folder of an image dataset's IDX files ({@code data.dir}, else {@code datasets/<name>/raw}), checked to hold
     * both splits before any work: when they are missing, one line naming the field and value that asks for the
     * dataset's {@code fetch.sh}.
     */
    private static Path imageFolder(ConfigFile cf, String dataset, Path given) {
        Path dir = given;
        if (dir == null) {
            try {
                dir = io.distill4j.data.Datasets.folder(dataset).resolve("raw");
            } catch (BadInputException e) {
                throw cf.error("/data/dataset", dataset + ": no datasets/" + dataset + " folder under the distill4j home"
                        + " or above the working directory; run datasets/" + dataset + "/fetch.sh, or set data.dir to the"
                        + " folder of its IDX files");
            }
        }
        for (Mnist.Split split : Mnist.Split.values()) {
            if (!Mnist.present(dir, split)) {
                String where = " (" + Mnist.fileNames(split) + ", plain or .gz); run datasets/" + dataset + "/fetch.sh";
                throw given != null ? cf.error("/data/dir", dir + ": holds no " + dataset + " files" + where)
                        : cf.error("/data/dataset", dataset + ": no " + dataset + " files in " + dir + where
                        + " (or set data.dir to the folder that holds them)");
            }
        }
        return dir;
    }

    /** A registered teacher type: its section, less {@code type}, is bound to its settings record. */
    private static SampleSpec custom(ConfigFile cf, TabularJob job, Path cache, DataSpec data, String type,
            TeacherType<?> custom) {
        Object settings = cf.bind("/teacher", custom.settings(), java.util.Set.of("type"));
        int k = job.k() != null ? job.k() : 8;
        if (k <= 0 || k > 100_000) {
            throw cf.error("/k", "must be in [1, 100000], got " + k);
        }
        TeacherSpec teacher = new TeacherSpec(type, null, 1f, new int[0], 0f, List.of(), Teachers.DEFAULT_TRAINING, 1, "kron",
                1.0, Double.NaN, null, settings);
        return new SampleSpec(cf.file().toString(), cache, k, or(job.seed(), 0L), positive(cf, "/batchSize", job.batchSize(),
                512), positive(cf, "/rowsPerShard", job.rowsPerShard(), 4096),
                positive(cf, "/memoryBudgetMiB", job.memoryBudgetMiB(), 256), data, teacher, null);
    }

    // ------------------------------------------------------------------ language-model jobs

    private static SampleSpec sequence(ConfigFile cf) {
        SequenceJob job = cf.bind("", SequenceJob.class);
        Path cache = required(cf, "/cache", job.cache(), "the teacher-output cache folder");
        int k = job.k() != null ? job.k() : 4;
        if (k <= 0 || k > 10_000) {
            throw cf.error("/k", "must be in [1, 10000], got " + k);
        }
        long seed = or(job.seed(), 0L);
        int itemsPerShard = positive(cf, "/rowsPerShard", job.rowsPerShard(), 64);
        PromptFile pr = cf.bind("/prompts", PromptFile.class);
        Path prompts = required(cf, "/prompts/file", pr.file(), "the prompt file (.jsonl or .txt)");
        String field = pr.field() != null ? pr.field() : "prompt";
        String type = cf.node("/teacher/type").asText();
        SequenceSpec seq;
        if (type.equals("http")) {
            if (cf.has("/teacher/apiKey")) {
                throw cf.error("/teacher/apiKey", "a job file never holds the key itself (it is not shown); name the "
                        + "environment variable that holds it (apiKeyEnv) or a file readable only by you (apiKeyFile)");
            }
            Http h = cf.bind("/teacher", Http.class);
            List<String> servers = required(cf, "/teacher/server", h.server(), "the server's base URI (or a list of"
                    + " them)");
            if (servers.isEmpty()) {
                throw cf.error("/teacher/server", "required: the server's base URI (or a list of them), got an empty list");
            }
            Map<String, String> headers = headers(cf, h.headers());
            String endpoint = oneOf(cf, "/teacher/endpoint", h.endpoint(), "completions", List.of("completions", "chat"));
            String nMode = oneOf(cf, "/teacher/nMode", h.nMode(), "auto", List.of("auto", "multi", "single"));
            long v = or(h.vocabularySize(), 0L);
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw cf.error("/teacher/vocabularySize", "must be >= 0 (0: ask the server), got " + v);
            }
            HttpTeacherConfig http = cf.check("/teacher", () -> {
                HttpTeacherConfig.Builder b = HttpTeacherConfig.builder().setServers(servers).setK(k)
                        .optMaxTokens(positive(cf, "/teacher/maxTokens", h.maxTokens(), 64))
                        .optTemperature(or(h.temperature(), 1.0)).optTopP(or(h.topP(), 1.0)).optTopK(or(h.topK(), 0))
                        .optRepetitionPenalty(or(h.repetitionPenalty(), 1.0))
                        .optTopLogprobs(positive(cf, "/teacher/topLogprobs", h.topLogprobs(), 5)).optSeed(seed)
                        .optModel(h.model()).optSystemPrompt(h.systemPrompt())
                        .optEndpoint(endpoint.equals("chat") ? HttpTeacherConfig.Endpoint.CHAT
                                : HttpTeacherConfig.Endpoint.COMPLETIONS)
                        .optNMode(HttpTeacherConfig.NMode.valueOf(nMode.toUpperCase(Locale.ROOT)))
                        .optConcurrency(positive(cf, "/teacher/concurrency", h.concurrency(), 8))
                        .optMaxRetries(or(h.maxRetries(), 5))
                        .optRequestTimeout(java.time.Duration.ofMillis((long) (1000 * positive(cf,
                                "/teacher/requestTimeoutSeconds", h.requestTimeoutSeconds(), 120.0))))
                        .optApiKeyEnv(h.apiKeyEnv()).optApiKeyFile(h.apiKeyFile()).optHeaders(headers)
                        .optCaCertificates(h.caCertificates());
                if (h.extraBody() != null) {
                    b.optExtraBody(h.extraBody());
                }
                if (h.stop() != null) {
                    b.optStop(h.stop());
                }
                return b.build();
            });
            seq = new SequenceSpec(prompts, field, http, (int) v, null, null, h.tokenizer());
        } else {
            Local l = cf.bind("/teacher", Local.class);
            Path folder = required(cf, "/teacher/folder", l.folder(), "the Hugging Face model folder");
            SamplingConfig sampling = cf.check("/teacher", () -> new SamplingConfig(
                    positive(cf, "/teacher/maxTokens", l.maxTokens(), 64), or(l.temperature(), 1.0), or(l.topK(), 0),
                    or(l.topP(), 1.0), or(l.repetitionPenalty(), 1.0), positive(cf, "/teacher/topLogprobs", l.topLogprobs(), 5),
                    or(l.eosId(), -2)));
            seq = new SequenceSpec(prompts, field, null, 0, folder, sampling, null);
        }
        return new SampleSpec(cf.file().toString(), cache, k, seed, 1, itemsPerShard, 256, null, null, seq);
    }

    /**
     * {@code headers:} name -> the environment variable holding the value. Messages name keys, never values: a value
     * may be a secret pasted by mistake.
     */
    private static Map<String, String> headers(ConfigFile cf, JsonNode node) {
        if (node == null) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw cf.error("/teacher/headers", "expected a mapping (name: value lines)");
        }
        Map<String, String> out = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> {
            if (!e.getValue().isValueNode()) {
                throw cf.error("/teacher/headers/" + e.getKey(), "expected a text value");
            }
            out.put(e.getKey(), e.getValue().asText());
        });
        return out;
    }

    // ------------------------------------------------------------------ small checks that name the key

    private static <T> T required(ConfigFile cf, String pointer, T value, String what) {
        if (value == null || value instanceof String s && s.isBlank()) {
            throw cf.error(pointer, "required: " + what);
        }
        return value;
    }

    private static String oneOf(ConfigFile cf, String pointer, String value, String fallback, List<String> allowed) {
        if (value == null) {
            return fallback;
        }
        if (!allowed.contains(value)) {
            throw cf.error(pointer, "unknown value '" + value + "'; expected one of " + String.join(", ", allowed));
        }
        return value;
    }

    private static int positive(ConfigFile cf, String pointer, Integer value, int fallback) {
        int v = value == null ? fallback : value;
        if (v <= 0) {
            throw cf.error(pointer, "must be a positive integer, got " + v);
        }
        return v;
    }

    private static double positive(ConfigFile cf, String pointer, Double value, double fallback) {
        double v = value == null ? fallback : value;
        if (!(v > 0) || Double.isInfinite(v)) {
            throw cf.error(pointer, "must be positive and finite, got " + v);
        }
        return v;
    }

    private static <T> T or(T value, T fallback) {
        return value == null ? fallback : value;
    }
}

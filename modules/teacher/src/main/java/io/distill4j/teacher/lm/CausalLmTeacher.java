package io.distill4j.teacher.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.Sha256;
import io.distill4j.teacher.SampleProgress;
import io.distill4j.teacher.sequence.SequenceTeacher;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.KvCacheDecoder;
import io.distill4j.models.lm.LmTokenizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A local causal language model ({@link CausalLm}, trained by distill4j or imported from a Hugging Face
 * folder) as a teacher: k sampled responses per prompt with temperature, top-k, top-p and repetition
 * penalty ({@link SamplingConfig}), and per position the top-K log-probabilities and tail mass of the
 * model's own next-token distribution.
 *
 * <p>The k responses of a prompt are generated as one batch of k rows with a key/value cache
 * ({@link KvCacheDecoder}): the prompt runs once and each step appends one token per row. A row that
 * reaches the end id stops growing; the batch ends when all rows have stopped or after
 * {@code maxNewTokens}. Row j of prompt i draws from a generator seeded with the seed, i and j alone, so
 * responses do not depend on batching or resumption.
 */
public final class CausalLmTeacher implements SequenceTeacher {

    /** The text whose token ids fingerprint the tokenizer. */
    public static final String TOKENIZER_PROBE = "The quick brown fox jumps over the lazy dog. 0123456789 "
            + "Ünïcödé, 日本語; tabs\tand\nnewlines.";

    private final CausalLm model;
    private final Function<String, int[]> encoder;
    private final String tokenizerName;
    private final int k;
    private final SamplingConfig sampling;
    private final long seed;
    private final KvCacheDecoder decoder;
    private final TokenSampler sampler;
    private Map<String, Object> provenance;

    /**
     * Creates the teacher.
     *
     * @param model the initialised model
     * @param encoder turns a prompt into token ids (special tokens included, as the model saw in training)
     * @param tokenizerName names the tokenizer in the provenance (for example its file)
     * @param k responses per prompt, positive
     * @param sampling how responses are sampled
     * @param seed the sampling seed
     */
    public CausalLmTeacher(CausalLm model, Function<String, int[]> encoder, String tokenizerName, int k,
            SamplingConfig sampling, long seed) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (sampling.topLogprobs() > model.config().vocabSize()) {
            throw new IllegalArgumentException("topLogprobs " + sampling.topLogprobs() + " exceeds the vocabulary of "
                    + model.config().vocabSize());
        }
        this.model = Objects.requireNonNull(model, "model");
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        this.tokenizerName = Objects.requireNonNull(tokenizerName, "tokenizerName");
        this.k = k;
        this.sampling = sampling;
        this.seed = seed;
        this.decoder = new KvCacheDecoder(model);
        this.sampler = new TokenSampler(sampling);
    }

    /**
     * A teacher whose prompts are encoded by a Hugging Face tokenizer.
     *
     * @param model the initialised model
     * @param tokenizer the tokenizer (its vocabulary must fit the model's)
     * @param k responses per prompt
     * @param sampling how responses are sampled
     * @param seed the sampling seed
     * @return the teacher
     */
    public static CausalLmTeacher withTokenizer(CausalLm model, LmTokenizer tokenizer, int k, SamplingConfig sampling,
            long seed) {
        tokenizer.checkFits(model.config().vocabSize(), "the teacher model");
        return new CausalLmTeacher(model, tokenizer::encode, tokenizer.file().getFileName().toString(), k, sampling, seed);
    }

    @Override
    public int k() {
        return k;
    }

    @Override
    public int vocabularySize() {
        return model.config().vocabSize();
    }

    @Override
    public int topK() {
        return sampling.topLogprobs();
    }

    @Override
    public synchronized Map<String, Object> provenance() {
        if (provenance == null) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", "causal-lm");
            p.put("architecture", model.toString());
            p.put("k", k);
            p.put("seed", seed);
            p.putAll(sampling.describe());
            p.put("vocabularySize", vocabularySize());
            p.put("tokenizer", tokenizerName);
            p.put("tokenizerFingerprint", idsSha256(encoder.apply(TOKENIZER_PROBE)));
            p.put("weightsSha256", weightsSha256());
            p.put("generation", "kv-cache, k rows per prompt");
            provenance = p;
        }
        return provenance;
    }

    private String weightsSha256() {
        MessageDigest d = Sha256.newDigest();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            d.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            NDArray a = e.getValue().getArray();
            float[] v = a.toType(DataType.FLOAT32, false).toFloatArray();
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            d.update(b.array());
        }
        return HexFormat.of().formatHex(d.digest());
    }

    private static String idsSha256(int[] ids) {
        ByteBuffer b = ByteBuffer.allocate(4 * ids.length);
        for (int id : ids) {
            b.putInt(id);
        }
        return HexFormat.of().formatHex(Sha256.newDigest().digest(b.array()));
    }

    @Override
    public void sample(List<String> prompts, long from, Consumer<SequenceItem> sink, SampleProgress progress) {
        int n = prompts.size();
        if (from < 0 || from > n) {
            throw new IllegalArgumentException("from must be in [0, " + n + "], got " + from);
        }
        progress.update(from, n);
        try (NDManager manager = NDManager.newBaseManager(
                model.namedParameters().values().iterator().next().getArray().getDevice())) {
            for (int i = (int) from; i < n; i++) {
                int[] prompt = encoder.apply(prompts.get(i));
                for (int t = 0; t < prompt.length; t++) {
                    if (prompt[t] < 0 || prompt[t] >= vocabularySize()) {
                        throw new IllegalArgumentException("prompt " + i + ": token " + t + " has id " + prompt[t]
                                + ", outside the model's vocabulary of " + vocabularySize() + ": tokenizer mismatch");
                    }
                }
                sink.accept(new SequenceItem(i, prompt, generate(manager, prompt, i)));
                progress.update(i + 1L, n);
            }
        }
    }

    /**
     * Generates the k responses of one prompt.
     *
     * @param manager the manager for the generation's arrays
     * @param prompt the prompt's ids
     * @param item the prompt's index (seeds the rows)
     * @return k responses
     */
    List<SequenceSample> generate(NDManager manager, int[] prompt, long item) {
        int kk = sampling.topLogprobs();
        int room = decoder.maxPositions() - prompt.length;
        int maxNew = Math.min(sampling.maxNewTokens(), room);
        SplittableRandom[] random = new SplittableRandom[k];
        int[][] history = new int[k][prompt.length + maxNew];
        int[] length = new int[k];
        boolean[] done = new boolean[k];
        int[][] tokens = new int[k][maxNew];
        int[][] topIds = new int[k][maxNew * kk];
        float[][] topLp = new float[k][maxNew * kk];
        float[][] tail = new float[k][maxNew];
        for (int j = 0; j < k; j++) {
            random[j] = new SplittableRandom(mix(seed, item * k + j));
            System.arraycopy(prompt, 0, history[j], 0, prompt.length);
        }
        float[][] logits = new float[k][];
        try (KvCacheDecoder.State state = decoder.prefill(manager, prompt, k, logits)) {
            int[] idBuf = new int[kk];
            float[] lpBuf = new float[kk];
            for (int step = 0; step < maxNew; step++) {
                int[] next = new int[k];
                boolean any = false;
                for (int j = 0; j < k; j++) {
                    if (done[j]) {
                        next[j] = history[j][prompt.length + length[j] - 1];
                        continue;
                    }
                    double tl = TokenSampler.topK(logits[j], kk, idBuf, lpBuf);
                    int tok = sampler.draw(logits[j], history[j], prompt.length + length[j], random[j]);
                    int t = length[j];
                    tokens[j][t] = tok;
                    System.arraycopy(idBuf, 0, topIds[j], t * kk, kk);
                    System.arraycopy(lpBuf, 0, topLp[j], t * kk, kk);
                    tail[j][t] = (float) tl;
                    history[j][prompt.length + t] = tok;
                    length[j]++;
                    next[j] = tok;
                    if (tok == sampling.eosId()) {
                        done[j] = true;
                    } else {
                        any = true;
                    }
                }
                if (!any || step == maxNew - 1) {
                    break;
                }
                logits = decoder.step(manager, state, next);
            }
        }
        List<SequenceSample> out = new ArrayList<>(k);
        for (int j = 0; j < k; j++) {
            int len = length[j];
            out.add(new SequenceSample(java.util.Arrays.copyOf(tokens[j], len),
                    java.util.Arrays.copyOf(topIds[j], len * kk), java.util.Arrays.copyOf(topLp[j], len * kk),
                    java.util.Arrays.copyOf(tail[j], len)));
        }
        return out;
    }

    private static long mix(long seed, long index) {
        long z = seed + 0x9E3779B97F4A7C15L * (index + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

package io.distill4j.data.interop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.SequenceCacheReader;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.data.SequenceItem;
import io.distill4j.data.SequenceSample;
import io.distill4j.data.TeacherCache;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Sequence caches as JSONL in the shape of OpenAI chat-completion responses with logprobs.
 *
 * <p>One line per item: an object with {@code prompt_token_ids} (array of ids, optional) and
 * {@code choices}, the k sampled responses as an OpenAI API returns them with {@code n = k},
 * {@code logprobs = true}, {@code top_logprobs = K}: {@code choices[j].logprobs.content[t]} has the sampled
 * {@code token} (text), its {@code logprob}, and {@code top_logprobs}, a list of {@code {token, logprob}}.
 * Token texts map to ids through a {@link Vocabulary}. An optional per-position field
 * {@code distill4j_tail_logmass} carries the tail log-mass; without it the tail is
 * {@code log(1 - sum exp(top logprobs))}. Export writes the same shape, with the extension field, and
 * {@code logprob: null} for a sampled token outside the top-K (its probability is not stored).
 */
public final class OpenAiJsonl {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OpenAiJsonl() {
    }

    /**
     * Creates a sequence cache from a JSONL file.
     *
     * @param file the JSONL file
     * @param dir the new cache directory (must not exist)
     * @param vocab the teacher's vocabulary; every token text must be in it
     * @param topK how many top tokens to keep per position; each position must list at least this many
     * @param teacher provenance
     * @param datasetFingerprint the fingerprint of the prompts
     * @param itemsPerShard items per shard
     * @param options write options
     * @return the new cache
     * @throws BadInputException naming file, line and field of any fault (malformed or truncated JSON,
     *     a token outside the vocabulary, a k mismatch, too few top tokens, off-simplex mass)
     * @throws IOException on I/O failure
     */
    public static TeacherCache importJsonl(Path file, Path dir, Vocabulary vocab, int topK, Map<String, Object> teacher,
            String datasetFingerprint, int itemsPerShard, CacheWriteOptions options) throws IOException {
        ImportTarget.create(dir, tmp -> {
            SequenceCacheWriter w = null;
            try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                String line;
                int lineNo = 0;
                int k = -1;
                while ((line = r.readLine()) != null) {
                    lineNo++;
                    if (line.isBlank()) {
                        continue;
                    }
                    String where = file + ": line " + lineNo;
                    JsonNode root;
                    try {
                        root = JSON.readTree(line);
                    } catch (JsonProcessingException e) {
                        throw new BadInputException(where + ": malformed or truncated JSON: " + e.getOriginalMessage(), e);
                    }
                    JsonNode choices = root.path("choices");
                    if (!choices.isArray() || choices.isEmpty()) {
                        throw new BadInputException(where + ": field choices: missing or empty");
                    }
                    if (k < 0) {
                        k = choices.size();
                        w = SequenceCacheWriter.openOrCreate(tmp, k, vocab.size(), topK, teacher, datasetFingerprint,
                                itemsPerShard, options);
                    } else if (choices.size() != k) {
                        throw new BadInputException(where + ": field choices: " + choices.size()
                                + " responses, earlier lines have k=" + k);
                    }
                    int[] prompt = ids(root.path("prompt_token_ids"), where + ": field prompt_token_ids", vocab.size());
                    List<SequenceSample> samples = new ArrayList<>(k);
                    for (int j = 0; j < k; j++) {
                        samples.add(sample(choices.get(j), where + ": field choices[" + j + "]", vocab, topK));
                    }
                    try {
                        w.append(prompt, samples);
                    } catch (IllegalArgumentException e) {
                        String msg = e.getMessage();
                        int at = msg.indexOf(": item ");
                        throw new BadInputException(where + (at >= 0 ? msg.substring(at) : ": " + msg), e);
                    }
                }
                if (w == null) {
                    throw new BadInputException(file + ": no items");
                }
                w.close();
            } catch (NoSuchFileException e) {
                throw new BadInputException(file + ": file not found", e);
            }
        });
        return TeacherCache.open(dir);
    }

    private static int[] ids(JsonNode arr, String where, int vocab) {
        if (arr.isMissingNode() || arr.isNull()) {
            return new int[0];
        }
        if (!arr.isArray()) {
            throw new BadInputException(where + ": expected an array of token ids");
        }
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = arr.get(i);
            if (!v.canConvertToInt() || v.asInt() < 0 || v.asInt() >= vocab) {
                throw new BadInputException(where + "[" + i + "]: " + v + " is not a token id in [0, " + vocab + ")");
            }
            out[i] = v.asInt();
        }
        return out;
    }

    private static int id(Vocabulary vocab, JsonNode token, String where) {
        if (!token.isTextual()) {
            throw new BadInputException(where + ": missing token text");
        }
        int id = vocab.id(token.asText());
        if (id < 0) {
            throw new BadInputException(where + ": token " + JSON.valueToTree(token.asText())
                    + " is not in the vocabulary (V=" + vocab.size() + "): vocabulary mismatch");
        }
        return id;
    }

    private static SequenceSample sample(JsonNode choice, String where, Vocabulary vocab, int topK) {
        JsonNode content = choice.path("logprobs").path("content");
        if (!content.isArray()) {
            throw new BadInputException(where + ".logprobs.content: missing (request logprobs=true)");
        }
        int len = content.size();
        int[] tokens = new int[len];
        int[] ids = new int[len * topK];
        float[] lp = new float[len * topK];
        float[] tail = new float[len];
        boolean hasTail = len > 0;
        for (int t = 0; t < len; t++) {
            String pw = where + ".logprobs.content[" + t + "]";
            JsonNode pos = content.get(t);
            tokens[t] = id(vocab, pos.path("token"), pw + ".token");
            JsonNode top = pos.path("top_logprobs");
            if (!top.isArray() || top.size() < topK) {
                throw new BadInputException(pw + ".top_logprobs: " + (top.isArray() ? top.size() : 0)
                        + " entries, the cache keeps top-K=" + topK);
            }
            List<double[]> entries = new ArrayList<>();
            for (int r = 0; r < top.size(); r++) {
                String ew = pw + ".top_logprobs[" + r + "]";
                JsonNode e = top.get(r);
                JsonNode v = e.path("logprob");
                if (!v.isNumber()) {
                    throw new BadInputException(ew + ".logprob: " + v + " is not a number");
                }
                entries.add(new double[] {v.asDouble(), id(vocab, e.path("token"), ew + ".token")});
            }
            entries.sort((a, b) -> Double.compare(b[0], a[0]));
            for (int r = 0; r < topK; r++) {
                lp[t * topK + r] = (float) entries.get(r)[0];
                ids[t * topK + r] = (int) entries.get(r)[1];
            }
            JsonNode tl = pos.path("distill4j_tail_logmass");
            if (tl.isNumber()) {
                tail[t] = (float) tl.asDouble();
            } else if (tl.isTextual() && tl.asText().equals("-Infinity")) {
                tail[t] = Float.NEGATIVE_INFINITY;
            } else {
                hasTail = false;
            }
        }
        return new SequenceSample(tokens, ids, lp, hasTail ? tail : null);
    }

    /**
     * Writes a sequence cache as JSONL (one line per item), atomically.
     *
     * @param cache a sequence cache
     * @param vocab the vocabulary that names its token ids
     * @param file the JSONL file
     * @throws IOException if writing fails
     */
    public static void exportJsonl(TeacherCache cache, Vocabulary vocab, Path file) throws IOException {
        CacheManifest m = cache.manifest();
        if (!m.sequenceTask()) {
            throw new IllegalArgumentException(cache.dir() + ": JSONL export needs a sequence cache, this is "
                    + m.task());
        }
        if (vocab.size() != m.sequence().vocabSize()) {
            throw new BadInputException("vocabulary of " + vocab.size() + " tokens does not match the cache's V="
                    + m.sequence().vocabSize() + ": vocabulary mismatch");
        }
        int topK = m.sequence().topK();
        AtomicFiles.write(file, false, ch -> {
            Writer out = new BufferedWriter(Channels.newWriter(ch, StandardCharsets.UTF_8), 1 << 16);
            try (SequenceCacheReader r = cache.sequence()) {
                for (long i = 0; i < r.items(); i++) {
                    SequenceItem it = r.read(i);
                    ObjectNode line = JSON.createObjectNode();
                    line.put("item", i);
                    ArrayNode p = line.putArray("prompt_token_ids");
                    for (int v : it.prompt()) {
                        p.add(v);
                    }
                    ArrayNode choices = line.putArray("choices");
                    for (int j = 0; j < it.samples().size(); j++) {
                        SequenceSample s = it.samples().get(j);
                        ObjectNode c = choices.addObject();
                        c.put("index", j);
                        ArrayNode content = c.putObject("logprobs").putArray("content");
                        for (int t = 0; t < s.length(); t++) {
                            ObjectNode pos = content.addObject();
                            pos.put("token", vocab.token(s.tokens()[t]));
                            Float own = null;
                            ArrayNode top = pos.putArray("top_logprobs");
                            for (int q = 0; q < topK; q++) {
                                int id = s.topIds()[t * topK + q];
                                float v = s.topLogprobs()[t * topK + q];
                                top.addObject().put("token", vocab.token(id)).put("logprob", v);
                                if (id == s.tokens()[t]) {
                                    own = v;
                                }
                            }
                            if (own == null) {
                                pos.putNull("logprob");
                            } else {
                                pos.put("logprob", own);
                            }
                            float tl = s.tailLogMass()[t];
                            if (Float.isInfinite(tl)) {
                                pos.put("distill4j_tail_logmass", "-Infinity");
                            } else {
                                pos.put("distill4j_tail_logmass", tl);
                            }
                        }
                    }
                    out.write(JSON.writeValueAsString(line));
                    out.write('\n');
                }
            }
            out.flush();
        });
    }
}

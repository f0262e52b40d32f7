package io.distill4j.teacher.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A GGUF file's vocabulary ({@code tokenizer.ggml.*}) as a Hugging Face {@code tokenizer.json}, so that students
 * of a llama.cpp teacher encode text as the teacher does.
 *
 * <ul>
 *   <li>{@code tokenizer.ggml.model = gpt2} with the GPT-2 pre-tokenizer ({@code tokenizer.ggml.pre} absent,
 *       {@code default} or {@code gpt2}): a byte-level BPE with the file's merges, as GPT-2's
 *       {@code tokenizer.json}.</li>
 *   <li>{@code llama} (SentencePiece BPE): the form {@code transformers} gives Llama tokenizers: a BPE with byte
 *       fallback ({@code <0xNN>} tokens), spaces as {@code ▁} and one prepended, and merges derived from the
 *       scores as {@code transformers}' {@code SentencePieceExtractor} does (every split of a token into two
 *       tokens, ordered by the token's score, highest first); llama.cpp merges the pair whose merged token scores
 *       highest, which is the same order.</li>
 * </ul>
 * Control tokens ({@code token_type} 3) become special added tokens, user-defined ones (4) plain added tokens;
 * the BOS token is prepended when {@code tokenizer.ggml.add_bos_token} says so (default: yes for {@code llama},
 * no for {@code gpt2}), the EOS token appended when {@code add_eos_token} does. Other vocabularies
 * ({@code bert}, {@code t5}, {@code rwkv}, and {@code gpt2} with another model's pre-tokenizer such as
 * {@code llama-bpe} or {@code qwen2}, whose split expressions differ) are refused naming the field.
 */
public final class GgufTokenizer {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Set<String> GPT2_PRE = Set.of("default", "gpt2", "gpt-2");

    private GgufTokenizer() {
    }

    /**
     * A tokenizer file as a {@code tokenizer.json}: the file itself, or for a {@code .gguf} file its vocabulary converted
     * into a new temporary file (deleted when the JVM exits; the caller may delete it sooner).
     *
     * @param file a {@code tokenizer.json} or a GGUF file
     * @return the {@code tokenizer.json} to load
     * @throws BadInputException if a GGUF file's vocabulary cannot be converted (naming file, field and value)
     * @throws IOException if the temporary file cannot be written
     */
    public static Path asTokenizerJson(Path file) throws IOException {
        if (!file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")) {
            return file;
        }
        Path json = java.nio.file.Files.createTempFile("distill4j-gguf-tokenizer", ".json");
        json.toFile().deleteOnExit();
        write(file, json);
        return json;
    }

    /**
     * Converts a GGUF file's vocabulary and writes it (a temporary file, then renamed).
     *
     * @param gguf the GGUF file
     * @param target the {@code tokenizer.json} to write
     * @throws BadInputException if the file has no vocabulary or one this converter does not take (one line
     *     naming the file, field and value)
     * @throws IOException if the target cannot be written
     */
    public static void write(Path gguf, Path target) throws IOException {
        String json = JSON.writeValueAsString(toJson(GgufMetadata.read(gguf)));
        AtomicFiles.write(target, json.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The {@code tokenizer.json} of a GGUF file's vocabulary.
     *
     * @param meta the file's metadata
     * @return the tokenizer as JSON
     * @throws BadInputException as {@link #write}
     */
    public static ObjectNode toJson(GgufMetadata meta) {
        String src = meta.file().toString();
        String model = meta.string("tokenizer.ggml.model");
        List<?> tokensRaw = meta.array("tokenizer.ggml.tokens");
        if (model == null || tokensRaw == null) {
            throw new BadInputException(src + ": field tokenizer.ggml.model: missing; the file holds no vocabulary");
        }
        List<String> tokens = new ArrayList<>();
        for (Object t : tokensRaw) {
            tokens.add(String.valueOf(t));
        }
        int n = tokens.size();
        int[] types = new int[n];
        List<?> typesRaw = meta.array("tokenizer.ggml.token_type");
        for (int i = 0; i < n; i++) {
            types[i] = typesRaw != null && i < typesRaw.size() ? ((Number) typesRaw.get(i)).intValue() : 1;
        }
        long bos = meta.integer("tokenizer.ggml.bos_token_id", -1);
        long eos = meta.integer("tokenizer.ggml.eos_token_id", -1);
        long unk = meta.integer("tokenizer.ggml.unknown_token_id", -1);
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < n; i++) {
            if (types[i] == 3 || types[i] == 4 || i == unk) {
                added.addObject().put("id", i).put("content", tokens.get(i)).put("single_word", false)
                        .put("lstrip", false).put("rstrip", false).put("normalized", types[i] == 4)
                        .put("special", types[i] != 4);
            }
        }
        ObjectNode bpe = JSON.createObjectNode();
        bpe.put("type", "BPE");
        bpe.putNull("dropout");
        boolean addBos;
        switch (model) {
            case "gpt2" -> {
                String pre = meta.string("tokenizer.ggml.pre");
                if (pre != null && !GPT2_PRE.contains(pre)) {
                    throw new BadInputException(src + ": field tokenizer.ggml.pre: '" + pre + "' splits text with its own "
                            + "expression; only GPT-2's (default) is converted to tokenizer.json; give the teacher's own "
                            + "tokenizer.json instead");
                }
                addBos = meta.bool("tokenizer.ggml.add_bos_token", false);
                root.putNull("normalizer");
                root.set("pre_tokenizer", byteLevel());
                bpe.putNull("unk_token");
                bpe.put("continuing_subword_prefix", "").put("end_of_word_suffix", "").put("fuse_unk", false)
                        .put("byte_fallback", false).put("ignore_merges", false);
                List<?> merges = meta.array("tokenizer.ggml.merges");
                if (merges == null) {
                    throw new BadInputException(src + ": field tokenizer.ggml.merges: missing for a gpt2 vocabulary");
                }
                vocab(bpe, tokens);
                ArrayNode m = bpe.putArray("merges");
                for (Object merge : merges) {
                    String s = String.valueOf(merge);
                    int space = s.indexOf(' ');
                    if (space <= 0) {
                        throw new BadInputException(src + ": field tokenizer.ggml.merges: '" + s + "' is not 'left right'");
                    }
                    m.addArray().add(s.substring(0, space)).add(s.substring(space + 1));
                }
            }
            case "llama" -> {
                List<?> scoresRaw = meta.array("tokenizer.ggml.scores");
                if (scoresRaw == null || scoresRaw.size() != n) {
                    throw new BadInputException(src + ": field tokenizer.ggml.scores: missing or not one per token ("
                            + n + ") for a llama vocabulary");
                }
                addBos = meta.bool("tokenizer.ggml.add_bos_token", true);
                boolean prefix = meta.bool("tokenizer.ggml.add_space_prefix", true);
                ObjectNode norm = root.putObject("normalizer");
                norm.put("type", "Sequence");
                ArrayNode ns = norm.putArray("normalizers");
                if (prefix) {
                    ns.addObject().put("type", "Prepend").put("prepend", "▁");
                }
                ObjectNode rep = ns.addObject().put("type", "Replace");
                rep.putObject("pattern").put("String", " ");
                rep.put("content", "▁");
                root.putNull("pre_tokenizer");
                if (unk >= 0) {
                    bpe.put("unk_token", tokens.get((int) unk));
                } else {
                    bpe.putNull("unk_token");
                }
                bpe.putNull("continuing_subword_prefix").putNull("end_of_word_suffix").put("fuse_unk", true)
                        .put("byte_fallback", true).put("ignore_merges", false);
                vocab(bpe, tokens);
                ArrayNode m = bpe.putArray("merges");
                for (String[] merge : sentencePieceMerges(tokens, scoresRaw)) {
                    m.addArray().add(merge[0]).add(merge[1]);
                }
            }
            default -> throw new BadInputException(src + ": field tokenizer.ggml.model: '" + model + "' is not converted "
                    + "to tokenizer.json (gpt2 and llama are); give the teacher's own tokenizer.json instead");
        }
        boolean addEos = meta.bool("tokenizer.ggml.add_eos_token", false);
        root.set("post_processor", postProcessor(model, tokens, addBos ? bos : -1, addEos ? eos : -1));
        root.set("decoder", "gpt2".equals(model) ? byteLevel() : sentencePieceDecoder(meta.bool(
                "tokenizer.ggml.add_space_prefix", true)));
        root.set("model", bpe);
        return root;
    }

    private static void vocab(ObjectNode bpe, List<String> tokens) {
        ObjectNode v = bpe.putObject("vocab");
        for (int i = 0; i < tokens.size(); i++) {
            if (!v.has(tokens.get(i))) {
                v.put(tokens.get(i), i);
            }
        }
    }

    private static ObjectNode byteLevel() {
        ObjectNode b = JSON.createObjectNode();
        b.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        return b;
    }

    private static ObjectNode sentencePieceDecoder(boolean prefix) {
        ObjectNode d = JSON.createObjectNode();
        d.put("type", "Sequence");
        ArrayNode ds = d.putArray("decoders");
        ObjectNode rep = ds.addObject().put("type", "Replace");
        rep.putObject("pattern").put("String", "▁");
        rep.put("content", " ");
        ds.addObject().put("type", "ByteFallback");
        ds.addObject().put("type", "Fuse");
        if (prefix) {
            ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        }
        return d;
    }

    private static ObjectNode postProcessor(String model, List<String> tokens, long bos, long eos) {
        if (bos < 0 && eos < 0) {
            return "gpt2".equals(model) ? byteLevel() : null;
        }
        ObjectNode p = JSON.createObjectNode();
        p.put("type", "TemplateProcessing");
        ArrayNode single = p.putArray("single");
        ArrayNode pair = p.putArray("pair");
        ObjectNode specials = JSON.createObjectNode();
        for (ArrayNode seq : List.of(single, pair)) {
            if (bos >= 0) {
                seq.addObject().putObject("SpecialToken").put("id", tokens.get((int) bos)).put("type_id", 0);
            }
            seq.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            if (eos >= 0) {
                seq.addObject().putObject("SpecialToken").put("id", tokens.get((int) eos)).put("type_id", 0);
            }
        }
        if (bos >= 0) {
            pair.addObject().putObject("SpecialToken").put("id", tokens.get((int) bos)).put("type_id", 1);
        }
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        if (eos >= 0) {
            pair.addObject().putObject("SpecialToken").put("id", tokens.get((int) eos)).put("type_id", 1);
        }
        for (long id : new long[] {bos, eos}) {
            if (id >= 0) {
                String t = tokens.get((int) id);
                ObjectNode st = specials.putObject(t).put("id", t);
                st.putArray("ids").add(id);
                st.putArray("tokens").add(t);
            }
        }
        p.set("special_tokens", specials);
        return p;
    }

    /**
     * Merges of a SentencePiece vocabulary as {@code transformers}' {@code SentencePieceExtractor} derives them:
     * for every token, each split into two tokens of the vocabulary (ordered by the ids of left, then
     * right), all of them ordered by the token's score, highest first (stable).
     */
    static List<String[]> sentencePieceMerges(List<String> tokens, List<?> scores) {
        Map<String, Integer> id = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            id.putIfAbsent(tokens.get(i), i);
        }
        record Merge(String left, String right, int l, int r, double score) {
        }
        List<Merge> merges = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (id.get(tokens.get(i)) != i) {
                continue;
            }
            String t = tokens.get(i);
            double score = ((Number) scores.get(i)).doubleValue();
            List<Merge> local = new ArrayList<>();
            for (int cut = t.offsetByCodePoints(0, 1); cut < t.length(); cut = t.offsetByCodePoints(cut, 1)) {
                Integer l = id.get(t.substring(0, cut));
                Integer r = id.get(t.substring(cut));
                if (l != null && r != null) {
                    local.add(new Merge(t.substring(0, cut), t.substring(cut), l, r, score));
                }
            }
            local.sort(Comparator.comparingInt(Merge::l).thenComparingInt(Merge::r));
            merges.addAll(local);
        }
        merges.sort(Comparator.comparingDouble(Merge::score).reversed());
        List<String[]> out = new ArrayList<>(merges.size());
        for (Merge m : merges) {
            out.add(new String[] {m.left(), m.right()});
        }
        return out;
    }
}

package io.distill4j.teacher.gguf;

import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.LmActivation;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.models.lm.LmTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Exports a GPT-2- or Llama-family {@link CausalLm} with its Hugging Face tokenizer as GGUF for llama.cpp, in
 * float32 or float16 (matrices in float16, vectors in float32, as llama.cpp's {@code convert_hf_to_gguf.py} does).
 *
 * <p>Tensors take llama.cpp's names ({@code token_embd}, {@code blk.N.attn_q}, ...). Llama's q and k projections
 * are permuted from Hugging Face's rotate-half layout to llama.cpp's interleaved one: per head, rows
 * (i, j) with i in {0, 1}, j &lt; head_dim/2 move to (j, i), the {@code permute} of the convert script. A tied
 * GPT-2 head is written as {@code output.weight} too. The tokenizer must be a Hugging Face BPE: a byte-level one
 * becomes llama.cpp's {@code gpt2} vocabulary with its merges; a Metaspace one (SentencePiece-style, {@code ▁}) its
 * {@code llama} vocabulary, each merged token scored minus its merge rank so that merges apply in the same order.
 * Other tokenizers (Unigram, WordPiece, WordLevel) and activations llama.cpp does not compute for the family are
 * refused naming the field.
 */
public final class GgufExport {

    private GgufExport() {
    }

    /**
     * Writes a model as GGUF (atomically).
     *
     * @param model the model
     * @param tokenizer its tokenizer
     * @param file the destination
     * @param f16 store matrices as float16
     * @throws BadInputException naming the field llama.cpp cannot take
     * @throws IOException if writing fails
     */
    public static void write(CausalLm model, LmTokenizer tokenizer, Path file, boolean f16) throws IOException {
        CausalLmConfig c = model.config();
        boolean llama = c.family() == LmFamily.LLAMA;
        if (llama ? c.activation() != LmActivation.SILU : c.activation() != LmActivation.GELU_TANH) {
            throw new BadInputException("config.json: field " + (llama ? "hidden_act" : "activation_function") + ": llama.cpp's "
                    + c.family().modelType() + " computes " + (llama ? "silu" : "gelu_new") + ", got '"
                    + c.activation().hfName() + "'");
        }
        tokenizer.checkFits(c.vocabSize(), "the model being exported");
        String arch = c.family().modelType();
        GgufWriter w = new GgufWriter().putString("general.architecture", arch)
                .putString("general.name", "distill4j-" + arch)
                .putUInt32("general.file_type", f16 ? 1 : 0)
                .putUInt32(arch + ".context_length", c.maxPositions())
                .putUInt32(arch + ".embedding_length", c.hiddenSize())
                .putUInt32(arch + ".block_count", c.numLayers())
                .putUInt32(arch + ".feed_forward_length", c.intermediateSize())
                .putUInt32(arch + ".attention.head_count", c.numHeads());
        if (llama) {
            w.putUInt32("llama.attention.head_count_kv", c.numKvHeads())
                    .putFloat32("llama.attention.layer_norm_rms_epsilon", (float) c.normEps())
                    .putUInt32("llama.rope.dimension_count", c.headDim())
                    .putFloat32("llama.rope.freq_base", (float) c.ropeTheta())
                    .putUInt32("llama.vocab_size", c.vocabSize());
            if (c.headDim() * c.numHeads() != c.hiddenSize()) {
                w.putUInt32("llama.attention.key_length", c.headDim()).putUInt32("llama.attention.value_length", c.headDim());
            }
        } else {
            w.putFloat32("gpt2.attention.layer_norm_epsilon", (float) c.normEps());
        }
        vocabulary(w, tokenizer, c);
        Map<String, Parameter> params = model.namedParameters();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String name = ggufName(e.getKey(), llama);
            long[] shape = e.getValue().getArray().getShape().getShape();
            float[] values = e.getValue().getArray().toFloatArray();
            if (llama && name.endsWith("attn_q.weight")) {
                values = permuteRows(values, (int) shape[0], (int) shape[1], c.numHeads());
            } else if (llama && name.endsWith("attn_k.weight")) {
                values = permuteRows(values, (int) shape[0], (int) shape[1], c.numKvHeads());
            } else if (llama && name.endsWith("attn_q.bias")) {
                values = permuteRows(values, (int) shape[0], 1, c.numHeads());
            } else if (llama && name.endsWith("attn_k.bias")) {
                values = permuteRows(values, (int) shape[0], 1, c.numKvHeads());
            }
            w.addTensor(name, shape, values, f16 && shape.length >= 2);
            if (name.equals("token_embd.weight") && c.tieWordEmbeddings() && !llama) {
                w.addTensor("output.weight", shape, values, f16);
            }
        }
        w.write(file);
    }

    /**
     * Reorders the rows of a q or k projection from Hugging Face's rotate-half layout to llama.cpp's: within each of
     * {@code heads} blocks of rows, row {@code i * half + j} (i in {0, 1}) moves to {@code j * 2 + i}.
     *
     * @param w the (rows, cols) matrix, row-major
     * @param rows heads x head_dim
     * @param cols columns
     * @param heads the heads
     * @return the permuted matrix
     */
    public static float[] permuteRows(float[] w, int rows, int cols, int heads) {
        int hd = rows / heads;
        int half = hd / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < half; j++) {
                    int from = h * hd + i * half + j;
                    int to = h * hd + j * 2 + i;
                    System.arraycopy(w, from * cols, out, to * cols, cols);
                }
            }
        }
        return out;
    }

    /**
     * The llama.cpp name of a Hugging Face tensor name.
     *
     * @param hf the Hugging Face name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
     * @param llama the family
     * @return e.g. {@code blk.0.attn_q.weight}
     */
    public static String ggufName(String hf, boolean llama) {
        String n = hf;
        if (llama) {
            n = n.replace("model.embed_tokens.", "token_embd.").replace("model.norm.", "output_norm.")
                    .replace("lm_head.", "output.").replace("model.layers.", "blk.")
                    .replace(".input_layernorm.", ".attn_norm.").replace(".post_attention_layernorm.", ".ffn_norm.")
                    .replace(".self_attn.q_proj.", ".attn_q.").replace(".self_attn.k_proj.", ".attn_k.")
                    .replace(".self_attn.v_proj.", ".attn_v.").replace(".self_attn.o_proj.", ".attn_output.")
                    .replace(".mlp.gate_proj.", ".ffn_gate.").replace(".mlp.up_proj.", ".ffn_up.")
                    .replace(".mlp.down_proj.", ".ffn_down.");
        } else {
            n = n.replace("transformer.wte.", "token_embd.").replace("transformer.wpe.", "position_embd.")
                    .replace("transformer.ln_f.", "output_norm.").replace("lm_head.", "output.")
                    .replace("transformer.h.", "blk.").replace(".ln_1.", ".attn_norm.").replace(".ln_2.", ".ffn_norm.")
                    .replace(".attn.c_attn.", ".attn_qkv.").replace(".attn.c_proj.", ".attn_output.")
                    .replace(".mlp.c_fc.", ".ffn_up.").replace(".mlp.c_proj.", ".ffn_down.");
        }
        return n;
    }

    private static void vocabulary(GgufWriter w, LmTokenizer tokenizer, CausalLmConfig c) throws IOException {
        JsonNode root = new ObjectMapper().readTree(tokenizer.file().toFile());
        JsonNode model = root.path("model");
        String src = tokenizer.file().toString();
        if (!"BPE".equals(model.path("type").asText())) {
            throw new BadInputException(src + ": field model.type: GGUF export takes a BPE tokenizer, got '"
                    + model.path("type").asText() + "'");
        }
        String text = root.toString();
        boolean byteLevel = text.contains("\"ByteLevel\"");
        boolean metaspace = text.contains("\"Metaspace\"") || text.contains("\"▁\"");
        if (!byteLevel && !metaspace) {
            throw new BadInputException(src + ": field pre_tokenizer: GGUF export takes a byte-level or a Metaspace BPE");
        }
        int n = c.vocabSize();
        String[] tokens = new String[n];
        int[] types = new int[n];
        model.path("vocab").fields().forEachRemaining(e -> {
            int id = e.getValue().asInt();
            if (id < n) {
                tokens[id] = e.getKey();
                types[id] = e.getKey().matches("<0x[0-9A-F]{2}>") && !byteLevel ? 6 : 1;
            }
        });
        String unk = model.path("unk_token").isTextual() ? model.path("unk_token").asText() : null;
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt(-1);
            if (id >= 0 && id < n) {
                tokens[id] = t.path("content").asText();
                types[id] = t.path("special").asBoolean(false) ? 3 : 4;
            }
        }
        int unkId = -1;
        for (int i = 0; i < n; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = 5; // unused: rows of the embedding beyond the tokenizer's vocabulary
            }
            if (tokens[i].equals(unk)) {
                types[i] = 2;
                unkId = i;
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        int bos = c.bosTokenId() >= 0 ? c.bosTokenId() : tokenizer.specialId(LmTokenizer.BOS_TOKENS);
        int eos = c.eosTokenId() >= 0 ? c.eosTokenId() : tokenizer.specialId(LmTokenizer.EOS_TOKENS);
        int[] probe = tokenizer.encode("a");
        boolean addBos = bos >= 0 && probe.length > 0 && probe[0] == bos;
        w.putStringArray("tokenizer.ggml.tokens", List.of(tokens)).putInt32Array("tokenizer.ggml.token_type", types);
        if (byteLevel) {
            w.putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", "default")
                    .putStringArray("tokenizer.ggml.merges", merges);
        } else {
            Map<String, Integer> rank = new HashMap<>();
            for (int r = 0; r < merges.size(); r++) {
                rank.putIfAbsent(merges.get(r).replace(" ", ""), r);
            }
            float[] scores = new float[n];
            for (int i = 0; i < n; i++) {
                Integer r = rank.get(tokens[i]);
                scores[i] = r == null ? 0f : -1f - r;
            }
            w.putString("tokenizer.ggml.model", "llama").putFloat32Array("tokenizer.ggml.scores", scores);
            if (unkId >= 0) {
                w.putUInt32("tokenizer.ggml.unknown_token_id", unkId);
            }
        }
        if (bos >= 0) {
            w.putUInt32("tokenizer.ggml.bos_token_id", bos);
        }
        if (eos >= 0) {
            w.putUInt32("tokenizer.ggml.eos_token_id", eos);
        }
        w.putBool("tokenizer.ggml.add_bos_token", addBos).putBool("tokenizer.ggml.add_eos_token", false);
    }
}

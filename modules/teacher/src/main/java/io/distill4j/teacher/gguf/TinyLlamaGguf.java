package io.distill4j.teacher.gguf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A tiny Llama-architecture model with seeded random weights, written as GGUF for llama.cpp: the model a
 * test or benchmark serves with llama-server when no trained checkpoint is at hand (none can be downloaded
 * offline). Its tokenizer is a SentencePiece-style ({@code tokenizer.ggml.model = llama}) vocabulary of
 * the control tokens, the 256 byte-fallback tokens {@code <0xNN>}, the word boundary {@code ▁} with the
 * printable ASCII characters, and a few common English merges, so any text can be tokenized.
 *
 * <p>Weights are N(0, 0.02^2) except the RMSNorm gains (1) and the output projection (N(0, 0.25^2)), which
 * makes the next-token distribution peaked enough for top-K log-probabilities to be informative.
 *
 * @param embedding the model width, a multiple of {@code heads}
 * @param layers transformer blocks, positive
 * @param heads attention heads, positive
 * @param kvHeads key/value heads (grouped-query attention), dividing {@code heads}
 * @param feedForward the SwiGLU hidden width, positive
 * @param context the trained context length written to the metadata, positive
 * @param seed the weights' seed
 */
public record TinyLlamaGguf(int embedding, int layers, int heads, int kvHeads, int feedForward, int context, long seed) {

    private static final String[] MERGES = {"▁t", "he", "▁a", "in", "er", "an", "re", "on", "th", "▁s", "at", "en", "nd",
        "es", "or", "▁w", "▁o", "ti", "is", "▁c", "it", "▁b", "ed", "ou", "▁f", "▁p", "ar", "▁m", "▁d", "▁the", "▁of",
        "▁and", "▁to", "ing", "▁in", "▁is"};

    /** Validates the sizes. */
    public TinyLlamaGguf {
        if (embedding <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || feedForward <= 0 || context <= 0) {
            throw new IllegalArgumentException("all sizes must be positive");
        }
        if (embedding % heads != 0 || heads % kvHeads != 0 || (embedding / heads) % 2 != 0) {
            throw new IllegalArgumentException("embedding " + embedding + " must split into " + heads
                    + " heads of even width, and heads into " + kvHeads + " key/value heads");
        }
    }

    /** @return width 64, 2 layers, 4 heads (2 key/value heads), SwiGLU width 128, context 512, seed 0 */
    public static TinyLlamaGguf defaults() {
        return new TinyLlamaGguf(64, 2, 4, 2, 128, 512, 0);
    }

    /** @return the vocabulary, index = token id */
    public static List<String> vocabulary() {
        List<String> v = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            v.add(String.format(Locale.ROOT, "<0x%02X>", b));
        }
        v.add("▁");
        for (char c = 0x21; c <= 0x7E; c++) {
            v.add(String.valueOf(c));
        }
        v.addAll(List.of(MERGES));
        return v;
    }

    /**
     * Writes the model.
     *
     * @param file the .gguf destination
     * @throws IOException if writing fails
     */
    public void write(Path file) throws IOException {
        List<String> vocab = vocabulary();
        int n = vocab.size();
        float[] scores = new float[n];
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            String t = vocab.get(i);
            if (i == 0) {
                types[i] = 2; // unknown
            } else if (i < 3) {
                types[i] = 3; // control
            } else if (t.startsWith("<0x")) {
                types[i] = 6; // byte
            } else {
                types[i] = 1; // normal
                scores[i] = t.length() > 1 ? -1f * (i - 300) / 100f : -10f; // merges outrank single characters
            }
        }
        int headDim = embedding / heads;
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putString("general.name", "distill4j-tiny-llama")
                .putUInt32("general.file_type", 0)
                .putUInt32("llama.context_length", context)
                .putUInt32("llama.embedding_length", embedding)
                .putUInt32("llama.block_count", layers)
                .putUInt32("llama.feed_forward_length", feedForward)
                .putUInt32("llama.attention.head_count", heads)
                .putUInt32("llama.attention.head_count_kv", kvHeads)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putUInt32("llama.rope.dimension_count", headDim)
                .putFloat32("llama.rope.freq_base", 10000f)
                .putUInt32("llama.vocab_size", n)
                .putString("tokenizer.ggml.model", "llama")
                .putStringArray("tokenizer.ggml.tokens", vocab)
                .putFloat32Array("tokenizer.ggml.scores", scores)
                .putInt32Array("tokenizer.ggml.token_type", types)
                .putUInt32("tokenizer.ggml.unknown_token_id", 0)
                .putUInt32("tokenizer.ggml.bos_token_id", 1)
                .putUInt32("tokenizer.ggml.eos_token_id", 2)
                .putBool("tokenizer.ggml.add_bos_token", true)
                .putBool("tokenizer.ggml.add_eos_token", false)
                .putString("tokenizer.chat_template", "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'"
                        + " + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
                        + "{{ '<|im_start|>assistant\\n' }}{% endif %}");
        SplittableRandom r = new SplittableRandom(seed);
        w.addTensor("token_embd.weight", new long[] {n, embedding}, normal(r, n * embedding, 0.02));
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            w.addTensor(p + "attn_norm.weight", new long[] {embedding}, ones(embedding));
            w.addTensor(p + "attn_q.weight", new long[] {embedding, embedding}, normal(r, embedding * embedding, 0.02));
            w.addTensor(p + "attn_k.weight", new long[] {kvHeads * headDim, embedding},
                    normal(r, kvHeads * headDim * embedding, 0.02));
            w.addTensor(p + "attn_v.weight", new long[] {kvHeads * headDim, embedding},
                    normal(r, kvHeads * headDim * embedding, 0.02));
            w.addTensor(p + "attn_output.weight", new long[] {embedding, embedding}, normal(r, embedding * embedding, 0.02));
            w.addTensor(p + "ffn_norm.weight", new long[] {embedding}, ones(embedding));
            w.addTensor(p + "ffn_gate.weight", new long[] {feedForward, embedding}, normal(r, feedForward * embedding, 0.02));
            w.addTensor(p + "ffn_up.weight", new long[] {feedForward, embedding}, normal(r, feedForward * embedding, 0.02));
            w.addTensor(p + "ffn_down.weight", new long[] {embedding, feedForward}, normal(r, feedForward * embedding, 0.02));
        }
        w.addTensor("output_norm.weight", new long[] {embedding}, ones(embedding));
        w.addTensor("output.weight", new long[] {n, embedding}, normal(r, n * embedding, 0.25));
        w.write(file);
    }

    private static float[] normal(SplittableRandom r, int count, double std) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (r.nextGaussian() * std);
        }
        return v;
    }

    private static float[] ones(int count) {
        float[] v = new float[count];
        java.util.Arrays.fill(v, 1f);
        return v;
    }
}

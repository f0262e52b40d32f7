"""Makes the tiny Hugging Face checkpoints and golden logits that distill4j's LM tests compare against.

Run once from the repository root with the project's Python environment:

    .venv/bin/python modules/models/src/test/python/make_tiny_lms.py

It writes, under modules/models/src/test/resources/lm/:
  gpt2-tiny/   config.json, model.safetensors, tokenizer.json  (GPT2LMHeadModel, 2 layers, width 32, 4 heads)
  llama-tiny/  config.json, model.safetensors, tokenizer.json  (LlamaForCausalLM, 2 layers, width 32, 4 heads,
                                                                2 key/value heads, rope_theta 1000)
  <name>/expected.json  token ids of fixed sentences, fixed input ids, and the model's logits for them
                        (eval mode, float32), plus the logits of a right-padded batch with an attention mask.

Weights are drawn with a fixed seed and a larger spread than Hugging Face's initialiser (std 0.2, norm
gains 1 +- 0.2, random biases) so that the logits vary by several units and a wrong detail in the Java
implementation (a missing gain, a transposed matrix, another rotary convention) shows up well above 1e-4.
The tokenizers are tiny BPE models trained on a few sentences, so all files stay small.
Versions used are recorded in each expected.json.
"""
import json
import os
import sys

import torch
import transformers
import tokenizers
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers, processors
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "lm")

CORPUS = [
    "Question: What is distillation?\nAnswer: Training a small student to imitate a large teacher.",
    "Question: Why sample the teacher several times?\nAnswer: Averaging k samples lowers the noise by 1/k.",
    "The student learns from the teacher's probabilities, not only from the labels.",
    "Inverse-variance weighting trusts the estimate whose variance is smaller.",
    "A causal language model predicts the next token from the tokens before it.",
    "Rotary position embeddings rotate queries and keys by an angle that grows with the position.",
    "Layer normalisation and RMS normalisation keep activations at a steady scale.",
    "Hello world! Numbers like 1, 2, 3 and 42 appear too.",
]
SENTENCES = [
    "Question: What is distillation?\nAnswer:",
    "The teacher predicts the next token.",
    "Hello world, 42!",
]


def byte_level_bpe(vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok


def metaspace_bpe(vocab_size):
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return tok


def spread_weights(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "ln" in name or "norm" in name:
                if name.endswith("weight"):
                    p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
                else:
                    p.copy_(0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))


def logits_of(model, ids, mask=None):
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask)
    return out.logits.float()


def write(name, model, tok, vocab_size, seed):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d, safe_serialization=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    for extra in ("generation_config.json",):
        p = os.path.join(d, extra)
        if os.path.exists(p):
            os.remove(p)
    g = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(0, vocab_size, (2, 12), generator=g)
    logits = logits_of(model, ids)
    # right padding: row 1 has 7 real tokens; logits of real tokens must not depend on the pads
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[1, 7:] = 0
    padded = ids.clone()
    padded[1, 7:] = 0
    padded_logits = logits_of(model, padded, mask)
    enc = [tok.encode(s).ids for s in SENTENCES]
    expected = {
        "made_by": "modules/models/src/test/python/make_tiny_lms.py",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__},
        "sentences": SENTENCES,
        "sentence_ids": enc,
        "input_ids": ids.tolist(),
        "logits": [[[round(v, 7) for v in row] for row in seq] for seq in logits.tolist()],
        "padded_input_ids": padded.tolist(),
        "padded_attention_mask": mask.tolist(),
        "padded_logits": [[[round(v, 7) for v in row] for row in seq] for seq in padded_logits.tolist()],
    }
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    print(name, "logits range", float(logits.min()), float(logits.max()), "vocab", vocab_size,
          "tokenizer vocab", tok.get_vocab_size())


def main():
    torch.manual_seed(1234)
    gtok = byte_level_bpe(300)
    gvocab = gtok.get_vocab_size()
    gcfg = GPT2Config(vocab_size=gvocab, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                      activation_function="gelu_new", layer_norm_epsilon=1e-5,
                      bos_token_id=gtok.token_to_id("<|endoftext|>"), eos_token_id=gtok.token_to_id("<|endoftext|>"),
                      tie_word_embeddings=True)
    gpt2 = GPT2LMHeadModel(gcfg)
    gpt2.config._attn_implementation = "eager"
    spread_weights(gpt2, 11)
    gpt2.eval()
    write("gpt2-tiny", gpt2, gtok, gvocab, 11)

    torch.manual_seed(4321)
    ltok = metaspace_bpe(200)
    lvocab = ltok.get_vocab_size()
    lcfg = LlamaConfig(vocab_size=lvocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                       rms_norm_eps=1e-6, rope_theta=1000.0, tie_word_embeddings=False,
                       bos_token_id=ltok.token_to_id("<s>"), eos_token_id=ltok.token_to_id("</s>"))
    llama = LlamaForCausalLM(lcfg)
    llama.config._attn_implementation = "eager"
    spread_weights(llama, 22)
    llama.eval()
    write("llama-tiny", llama, ltok, lvocab, 22)


if __name__ == "__main__":
    sys.exit(main())

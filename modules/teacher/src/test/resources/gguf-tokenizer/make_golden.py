"""Golden file of GgufTokenizerTest (issue 13, item 3): two small vocabularies in llama.cpp's GGUF terms and the ids
their reference tokenizers give a few strings. Run once; the test does not need Python.

  llama: a SentencePiece BPE model with byte fallback, trained here on CORPUS; tokens, scores and token types as
         llama.cpp's convert script writes them (control 3, unknown 2, byte 6, normal 1); ids from sentencepiece
         itself with BOS prepended (llama.cpp adds BOS for llama vocabularies, and its SPM tokenizer follows
         sentencepiece's).
  gpt2:  a byte-level BPE trained with Hugging Face tokenizers (GPT-2's pre-tokenizer); tokens by id and merges as
         'left right'; ids from that tokenizer.

Usage: PYTHONPATH=<dir with sentencepiece> /work/venv/bin/python make_golden.py   (sentencepiece 0.2.2, tokenizers
0.23.2)"""
import json
import os
import tempfile

import sentencepiece as spm
from tokenizers import ByteLevelBPETokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = """The quick brown fox jumps over the lazy dog. Teachers sample k answers for every prompt.
Averaging the samples lowers the variance of the targets, and the spread of the answers is the signal.
distill4j writes the teacher's top-K log-probabilities into Arrow shards; students learn from them.
Hello world! hello World? HELLO, world... 12345 67890 the theory of the thing, there and then.
""" * 20
CASES = ["Hello world!", "The quick brown fox jumps over the lazy dog.", "  two  spaces and\ttabs\nnew lines",
         "Ünïcödé → 日本語 😀", "the theory of distillation: 42 answers", "variance"]

out = {}
with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "corpus.txt"), "w") as f:
        f.write(CORPUS)
    prefix = os.path.join(d, "sp")
    spm.SentencePieceTrainer.train(input=os.path.join(d, "corpus.txt"), model_prefix=prefix, vocab_size=400,
                                   model_type="bpe", byte_fallback=True, character_coverage=1.0,
                                   unk_id=0, bos_id=1, eos_id=2, pad_id=-1, add_dummy_prefix=True,
                                   normalization_rule_name="identity", remove_extra_whitespaces=False,
                                   split_digits=False)
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        types.append(3 if sp.is_control(i) else 2 if sp.is_unknown(i) else 6 if sp.is_byte(i) else 1)
    cases = []
    for text in CASES:
        ids = [sp.bos_id()] + sp.encode(text)
        cases.append({"text": text, "ids": ids})
    out["llama"] = {"tokens": tokens, "scores": scores, "types": types, "bos": 1, "eos": 2, "unk": 0, "cases": cases}

    bl = ByteLevelBPETokenizer()
    bl.train_from_iterator([CORPUS], vocab_size=400, min_frequency=2, special_tokens=["<|endoftext|>"])
    path = os.path.join(d, "gpt2.json")
    bl.save(path)
    tj = json.load(open(path))
    vocab = tj["model"]["vocab"]
    gtokens = [None] * len(vocab)
    for t, i in vocab.items():
        gtokens[i] = t
    merges = [m if isinstance(m, str) else m[0] + " " + m[1] for m in tj["model"]["merges"]]
    gcases = [{"text": t, "ids": bl.encode(t).ids} for t in CASES]
    out["gpt2"] = {"tokens": gtokens, "merges": merges, "types": [3 if t == "<|endoftext|>" else 1 for t in gtokens],
                   "eos": vocab["<|endoftext|>"], "cases": gcases}

with open(os.path.join(HERE, "golden.json"), "w") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
print("llama", len(out["llama"]["tokens"]), "tokens; gpt2", len(out["gpt2"]["tokens"]), "tokens;", len(CASES), "cases")

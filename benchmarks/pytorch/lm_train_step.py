"""PyTorch twin of io.distill4j.bench.LmTrainStepBenchmark: one training step of a causal-LM student.

The same architecture (read from the same models/*.yaml preset), the same operations in eager PyTorch
(manual attention with an additive causal mask, dropout in training mode, next-token cross-entropy on every
position, backward, torch.optim.AdamW with decay on matrices only, lr 1e-4, weight decay 0.01), timed per
step after warm-up steps, as JMH's single-shot mode times the Java side.

    python lm_train_step.py --preset models/gpt2-student-4x256.yaml --threads 2 [--vocab 8192] [--phase step]
        [--attention manual|sdpa] [--warmup 3] [--steps 10] [--json out.json]

--attention sdpa uses torch.nn.functional.scaled_dot_product_attention (PyTorch's fused CPU attention;
DJL 0.35.1 exposes no such op) and is reported separately, not as the twin.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml


def config(preset, vocab):
    with open(preset) as f:
        c = yaml.safe_load(f)
    if vocab:
        c["vocab_size"] = vocab
    if c["model_type"] == "gpt2":
        d = c["n_embd"]
        return dict(family="gpt2", V=c["vocab_size"], d=d, L=c["n_layer"], H=c["n_head"], kv=c["n_head"],
                    hd=d // c["n_head"], inner=c.get("n_inner") or 4 * d, T=c["n_positions"],
                    eps=c.get("layer_norm_epsilon", 1e-5), act=c.get("activation_function", "gelu_new"),
                    p=c.get("resid_pdrop", 0.1), pe=c.get("embd_pdrop", 0.1), pa=c.get("attn_pdrop", 0.1),
                    tied=c.get("tie_word_embeddings", True), theta=None)
    d = c["hidden_size"]
    H = c["num_attention_heads"]
    return dict(family="llama", V=c["vocab_size"], d=d, L=c["num_hidden_layers"], H=H,
                kv=c.get("num_key_value_heads", H), hd=c.get("head_dim", d // H), inner=c["intermediate_size"],
                T=c["max_position_embeddings"], eps=c.get("rms_norm_eps", 1e-6), act="silu", p=0.0, pe=0.0,
                pa=c.get("attention_dropout", 0.0), tied=c.get("tie_word_embeddings", False),
                theta=c.get("rope_theta", 10000.0))


def act(x, name):
    if name == "gelu":
        return F.gelu(x)
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return F.gelu(x, approximate="tanh")
    if name == "relu":
        return F.relu(x)
    return F.silu(x)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):  # as transformers' LlamaRMSNorm
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Layer(nn.Module):
    def __init__(self, c, sdpa):
        super().__init__()
        self.c = c
        self.sdpa = sdpa
        d, H, kv, hd = c["d"], c["H"], c["kv"], c["hd"]
        llama = c["family"] == "llama"
        self.norm1 = RMSNorm(d, c["eps"]) if llama else nn.LayerNorm(d, eps=c["eps"])
        self.norm2 = RMSNorm(d, c["eps"]) if llama else nn.LayerNorm(d, eps=c["eps"])
        if llama:
            self.q = nn.Linear(d, H * hd, bias=False)
            self.k = nn.Linear(d, kv * hd, bias=False)
            self.v = nn.Linear(d, kv * hd, bias=False)
            self.o = nn.Linear(H * hd, d, bias=False)
            self.gate = nn.Linear(d, c["inner"], bias=False)
            self.up = nn.Linear(d, c["inner"], bias=False)
            self.down = nn.Linear(c["inner"], d, bias=False)
        else:
            self.qkv = nn.Linear(d, 3 * H * hd)
            self.o = nn.Linear(H * hd, d)
            self.fc = nn.Linear(d, c["inner"])
            self.down = nn.Linear(c["inner"], d)

    def attention(self, x, mask, cos, sin):
        c = self.c
        B, T, _ = x.shape
        H, kv, hd = c["H"], c["kv"], c["hd"]
        if c["family"] == "llama":
            q = self.q(x).view(B, T, H, hd).transpose(1, 2)
            k = self.k(x).view(B, T, kv, hd).transpose(1, 2)
            v = self.v(x).view(B, T, kv, hd).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if kv != H:  # transformers' repeat_kv
                g = H // kv
                k = k[:, :, None].expand(B, kv, g, T, hd).reshape(B, H, T, hd)
                v = v[:, :, None].expand(B, kv, g, T, hd).reshape(B, H, T, hd)
        else:
            q, k, v = self.qkv(x).split(H * hd, dim=2)
            q = q.view(B, T, H, hd).transpose(1, 2)
            k = k.view(B, T, H, hd).transpose(1, 2)
            v = v.view(B, T, H, hd).transpose(1, 2)
        if self.sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                               dropout_p=c["pa"] if self.training else 0.0)
        else:
            att = (q * (1.0 / math.sqrt(hd))) @ k.transpose(-2, -1)
            att = (att + mask).softmax(dim=-1)
            att = F.dropout(att, c["pa"], self.training)
            y = att @ v
        return self.o(y.transpose(1, 2).reshape(B, T, H * hd))

    def forward(self, x, mask, cos, sin):
        c = self.c
        x = x + F.dropout(self.attention(self.norm1(x), mask, cos, sin), c["p"], self.training)
        h = self.norm2(x)
        if c["family"] == "llama":
            m = self.down(act(self.gate(h), "silu") * self.up(h))
        else:
            m = self.down(act(self.fc(h), c["act"]))
        return x + F.dropout(m, c["p"], self.training)


class CausalLm(nn.Module):
    def __init__(self, c, sdpa):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(c["V"], c["d"])
        self.wpe = nn.Embedding(c["T"], c["d"]) if c["family"] == "gpt2" else None
        self.layers = nn.ModuleList([Layer(c, sdpa) for _ in range(c["L"])])
        self.norm = RMSNorm(c["d"], c["eps"]) if c["family"] == "llama" else nn.LayerNorm(c["d"], eps=c["eps"])
        self.head = None if c["tied"] else nn.Linear(c["d"], c["V"], bias=False)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)
        T = c["T"]
        self.register_buffer("mask", torch.full((T, T), -1e30).triu(1)[None, None], persistent=False)
        if c["theta"] is not None:
            hd = c["hd"]
            inv = 1.0 / (c["theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
            freqs = torch.arange(T).float()[:, None] * inv[None]
            emb = torch.cat((freqs, freqs), dim=-1)
            self.register_buffer("cos", emb.cos()[None, None], persistent=False)
            self.register_buffer("sin", emb.sin()[None, None], persistent=False)
        else:
            self.cos = self.sin = None

    def forward(self, ids):
        B, T = ids.shape
        x = self.wte(ids)
        if self.wpe is not None:
            x = F.dropout(x + self.wpe(torch.arange(T)), self.c["pe"], self.training)
        mask = self.mask[:, :, :T, :T]
        cos = self.cos[:, :, :T] if self.cos is not None else None
        sin = self.sin[:, :, :T] if self.sin is not None else None
        for layer in self.layers:
            x = layer(x, mask, cos, sin)
        x = self.norm(x)
        return F.linear(x, self.wte.weight if self.head is None else self.head.weight)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", required=True)
    ap.add_argument("--vocab", type=int, default=0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--phase", default="step", choices=["step", "fwdbwd", "fwd"])
    ap.add_argument("--attention", default="manual", choices=["manual", "sdpa"])
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = config(a.preset, a.vocab)
    model = CausalLm(c, a.attention == "sdpa")
    model.train()
    params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-4)
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, c["V"], (a.batch, c["T"] + 1), generator=g)
    ids, targets = tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(ids)
        loss = F.cross_entropy(logits.view(-1, c["V"]), targets.view(-1))
        if a.phase != "fwd":
            loss.backward()
        if a.phase == "step":
            opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    res = {"family": c["family"], "preset": a.preset, "vocab": c["V"], "batch": a.batch, "context": c["T"],
           "phase": a.phase, "attention": a.attention, "threads": torch.get_num_threads(),
           "torch": torch.__version__, "parameters": params, "ms": times, "mean_ms": statistics.mean(times),
           "median_ms": statistics.median(times), "tokens_per_s": a.batch * c["T"] / (statistics.mean(times) / 1000)}
    print(f"# {c['family']} V={c['V']} {params} parameters, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {a.attention} attention, phase {a.phase}: "
          f"mean {res['mean_ms']:.1f} ms, median {res['median_ms']:.1f} ms, {res['tokens_per_s']:.0f} tokens/s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f)


if __name__ == "__main__":
    sys.exit(main())

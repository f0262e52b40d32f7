#!/usr/bin/env python3
"""PyTorch twin of benchmarks/gpu/src/.../DjlGpuBench.java (issue 8).

Same students, shapes, optimizer and dtype as the DJL program:
  mlp : 784-512-256-10, ReLU, batch 256, softmax cross-entropy, Adam(lr 1e-3)
  gpt : GPT-2-family causal LM, 4 layers, width 256, 4 heads, context 256, batch 16, learned
        positions, pre-LayerNorm, GELU (erf), additive causal mask (1,1,T,T) with separate q/k/v
        projections and explicit softmax attention (the ops DJL's ScaledDotProductAttentionBlock
        runs), LM head tied to the token embedding, next-token cross-entropy, AdamW(3e-4, wd 0.01)

Variants (each a separate JSON row):
  eager-fp32            the same ops as DJL, fp32, torch.optim default (foreach) update
  eager-fp32-noforeach  as above, optimizer with foreach=False (one small kernel chain per
                        parameter, like DJL's per-parameter adamUpdate)
  sdpa-fp32             (gpt) F.scaled_dot_product_attention(is_causal=True) instead of the
                        explicit mask: what idiomatic PyTorch runs
  sdpa-bf16-autocast    (gpt) as sdpa-fp32 under torch.autocast(bfloat16); reported separately
  eager-fp32-fwdbwd     forward and backward only (no optimizer step, gradients accumulate), the
                        twin of DjlGpuBench's phase "fwdbwd"
Timing: warm-up steps, then REPEATS blocks of STEPS steps, synchronising once per block (reading the
last loss, as the Java side does); plus a 'synced' figure that reads the loss every step.
Output: one JSON object per line on stdout; a table on stderr.
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


class Block(nn.Module):
    def __init__(self, d, h, sdpa):
        super().__init__()
        self.h, self.sdpa = h, sdpa
        self.ln1 = nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)
        self.drop = nn.Dropout(0.0)

    def attn(self, x, mask):
        b, t, d = x.shape
        hd = d // self.h
        q, k, v = (p(x).view(b, t, self.h, hd).transpose(1, 2) for p in (self.q, self.k, self.v))
        if self.sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd)) + mask
            y = self.drop(s.softmax(-1)) @ v
        return self.o(y.transpose(1, 2).reshape(b, t, d))

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class Gpt(nn.Module):
    def __init__(self, vocab, ctx, d, h, layers, sdpa):
        super().__init__()
        self.wte = nn.Parameter(torch.randn(vocab, d) * 0.02)
        self.wpe = nn.Parameter(torch.randn(ctx, d) * 0.01)
        self.blocks = nn.ModuleList(Block(d, h, sdpa) for _ in range(layers))
        self.lnf = nn.LayerNorm(d)

    def forward(self, tokens, mask):
        x = F.embedding(tokens, self.wte) + self.wpe
        for blk in self.blocks:
            x = blk(x, mask)
        x = self.lnf(x)
        return x.reshape(-1, x.shape[-1]) @ self.wte.t()  # tied LM head


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def measure(name, variant, step, warmup, repeats, steps, extra):
    t0 = time.perf_counter()
    first = step().item()
    first_ms = (time.perf_counter() - t0) * 1e3
    for _ in range(warmup - 1):
        step()
    torch.cuda.synchronize()
    ms = []
    last = float("nan")
    for _ in range(repeats):
        s = time.perf_counter()
        for i in range(steps):
            loss = step()
        last = loss.item()
        ms.append((time.perf_counter() - s) * 1e3 / steps)
    sync_steps = max(10, steps // 2)
    s = time.perf_counter()
    for _ in range(sync_steps):
        last = step().item()
    synced = (time.perf_counter() - s) * 1e3 / sync_steps
    row = dict(impl="pytorch", variant=variant, phase="fwdbwd" if variant.endswith("fwdbwd") else "step", model=name, device=torch.cuda.get_device_name(0),
               ms_median=statistics.median(ms), ms_min=min(ms), ms_all=ms, ms_synced=synced,
               repeats=repeats, steps=steps, first_step_ms=first_ms, loss_first=first, loss_last=last)
    row.update(extra)
    print(json.dumps(row), flush=True)
    print("[%s %s] median %.3f ms/step (min %.3f), synced %.3f; loss %.4f -> %.4f"
          % (name, variant, row["ms_median"], row["ms_min"], synced, first, last), file=sys.stderr, flush=True)
    return row


def run_mlp(args, variant):
    dev = torch.device("cuda:0")
    torch.manual_seed(0)
    model = mlp().to(dev)
    foreach = False if variant.endswith("noforeach") else None
    update = not variant.endswith("fwdbwd")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=foreach)
    x = torch.randn(256, 784, device=dev)
    y = torch.randint(0, 10, (256,), device=dev)

    def step():
        if update:
            opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if update:
            opt.step()
        return loss

    flops = 6 * 256 * (784 * 512 + 512 * 256 + 256 * 10)
    return measure("mlp", variant, step, args.warmup, args.repeats, args.steps * 4,
                   dict(batch=256, flops_per_step=flops))


def run_gpt(args, vocab, variant):
    dev = torch.device("cuda:0")
    torch.manual_seed(0)
    b, t, d, h, layers = 16, 256, 256, 4, 4
    sdpa = variant.startswith("sdpa")
    model = Gpt(vocab, t, d, h, layers, sdpa).to(dev)
    foreach = False if variant.endswith("noforeach") else None
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01, foreach=foreach)
    toks = torch.randint(0, vocab, (b, t + 1), device=dev)
    x, y = toks[:, :-1].contiguous(), toks[:, 1:].reshape(-1).contiguous()
    mask = torch.triu(torch.full((t, t), -1e9, device=dev), diagonal=1).view(1, 1, t, t)
    bf16 = "bf16" in variant
    update = not variant.endswith("fwdbwd")

    def step():
        if update:
            opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x, mask), y)
        loss.backward()
        if update:
            opt.step()
        return loss

    n_params = sum(p.numel() for p in model.parameters())
    tokens = b * t
    n_matmul = layers * 12 * d * d + vocab * d
    flops = 6 * n_matmul * tokens + 12 * layers * d * t * tokens
    return measure("gpt_v%d" % vocab, variant, step, args.warmup, args.repeats, args.steps,
                   dict(vocab=vocab, batch=b, ctx=t, width=d, layers=layers, heads=h, params=n_params,
                        flops_per_step=flops))


def ceilings():
    """Measured matrix-product rates on this GPU (8192^3, median of 10 after 3 warm-ups)."""
    dev = torch.device("cuda:0")
    out = {}
    for name, dtype, tf32 in (("fp32", torch.float32, False), ("tf32", torch.float32, True),
                              ("bf16", torch.bfloat16, False)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        a = torch.randn(8192, 8192, device=dev, dtype=dtype)
        b = torch.randn(8192, 8192, device=dev, dtype=dtype)
        for _ in range(3):
            a @ b
        ts = []
        for _ in range(10):
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            a @ b
            e1.record()
            torch.cuda.synchronize()
            ts.append(e0.elapsed_time(e1))
        out[name + "_matmul_tflops"] = 2 * 8192 ** 3 / (statistics.median(ts) * 1e-3) / 1e12
        del a, b
    torch.backends.cuda.matmul.allow_tf32 = False
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", default="8192")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--no-ceilings", action="store_true")
    args = ap.parse_args()
    assert torch.cuda.is_available(), "needs a CUDA GPU"
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32, as in DJL's default
    torch.backends.cudnn.allow_tf32 = False
    env = dict(impl="env", torch=torch.__version__, cuda=torch.version.cuda, device=torch.cuda.get_device_name(0),
               capability=list(torch.cuda.get_device_capability(0)))
    if not args.no_ceilings:
        env.update(ceilings())
    print(json.dumps(env), flush=True)
    print("env: %s" % env, file=sys.stderr, flush=True)
    for variant in ("eager-fp32", "eager-fp32-noforeach", "eager-fp32-fwdbwd"):
        run_mlp(args, variant)
    for v in (int(s) for s in args.vocab.split(",")):
        for variant in ("eager-fp32", "eager-fp32-noforeach", "eager-fp32-fwdbwd", "sdpa-fp32",
                        "sdpa-bf16-autocast"):
            run_gpt(args, v, variant)


if __name__ == "__main__":
    main()

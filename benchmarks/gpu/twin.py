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
Project twins (--project; the PyTorch side of ProjectGpuBench.java, the project's own code paths):
  mlp proj-adamw-ce-sync            AdamW(1e-3, wd 0.01) on all parameters (the project's AdamW with an
                                    empty no-decay list), cross-entropy, loss read every step
                                    (TrainingSession.forwardBackward reads it)
  mlp proj-adamw-softce-sync        the same with soft-target cross-entropy -sum(p log_softmax(z))
  mlp proj-adamw-ce-fp16-autocast-sync  autocast(float16) + GradScaler (the project's Precision.FP16)
  gpt proj-fused-fp16-sync          the same under autocast(float16) + GradScaler (the project's Precision.FP16);
                                    the fine-tune twins' -fp16- variants likewise (unscale before clipping)
  gpt proj-fused-sync               the project's GPT-2 student (CausalLm): fused c_attn, pre-LN, GELU,
                                    additive causal mask -1e30, head tied, dropout 0; AnswerLoss's ops
                                    (log_softmax, gather, weighted mean); AdamW(3e-4) with weight decay
                                    0.01 on matrices only (AdamWStepper); inputs copied from the host every
                                    step; loss read every step (LmFineTuner reads it)
  gpt proj-fused-fwdbwd-sync        the same without the optimizer step
  gpt proj-fused-drop0.1-clip1-sync the LmFineTuner.train twin: the preset's dropout 0.1 (embeddings,
                                    attention probabilities, residual branches), clip_grad_norm_(1.0),
                                    segment mask and explicit positions built every step
  gpt proj-fused-drop0.1-clip1-topk16kd-sync  the same with AnswerLoss(alpha 1): KL to a top-16 teacher
                                    plus the tail bucket
Timing: warm-up steps, then REPEATS blocks of STEPS steps, synchronising once per block (reading the
last loss, as the Java side does); plus a 'synced' figure that reads the loss every step.
Output: one JSON object per line on stdout; a table on stderr.
"""
import argparse
import json
import math
import statistics
import sys
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


DEVICE = os.environ.get("TWIN_DEVICE", "cuda:0")  # "cpu" only for a local check of the code


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


def measure(name, variant, step, warmup, repeats, steps, extra, sync_each=False):
    t0 = time.perf_counter()
    first = step().item()
    first_ms = (time.perf_counter() - t0) * 1e3
    for _ in range(warmup - 1):
        step()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    ms = []
    last = float("nan")
    for _ in range(repeats):
        s = time.perf_counter()
        for i in range(steps):
            loss = step()
            if sync_each:
                loss.item()
        last = loss.item()
        ms.append((time.perf_counter() - s) * 1e3 / steps)
    sync_steps = max(10, steps // 2)
    s = time.perf_counter()
    for _ in range(sync_steps):
        last = step().item()
    synced = (time.perf_counter() - s) * 1e3 / sync_steps
    row = dict(impl="pytorch", variant=variant, phase="fwdbwd" if "fwdbwd" in variant else "step", model=name, device=torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
               ms_median=statistics.median(ms), ms_min=min(ms), ms_all=ms, ms_synced=synced,
               repeats=repeats, steps=steps, first_step_ms=first_ms, loss_first=first, loss_last=last)
    row.update(extra)
    print(json.dumps(row), flush=True)
    print("[%s %s] median %.3f ms/step (min %.3f), synced %.3f; loss %.4f -> %.4f"
          % (name, variant, row["ms_median"], row["ms_min"], synced, first, last), file=sys.stderr, flush=True)
    return row


def run_mlp(args, variant):
    dev = torch.device(DEVICE)
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
    dev = torch.device(DEVICE)
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


class ProjBlock(nn.Module):
    """One decoder layer of the project's GPT-2 student (io.distill4j.trainer.lm.DecoderLayer)."""

    def __init__(self, d, h, p):
        super().__init__()
        self.h, self.p = h, p
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.attn_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, mask):
        b, t, d = x.shape
        hd = d // self.h
        q, k, v = (a.reshape(b, t, self.h, hd).transpose(1, 2)
                   for a in self.c_attn(self.ln_1(x).reshape(-1, d)).reshape(b, t, 3 * d).split(d, 2))
        s = (q * (1.0 / math.sqrt(hd))) @ k.transpose(2, 3) + mask
        pr = F.dropout(s.softmax(3), self.p, self.training)
        y = (pr @ v).transpose(1, 2).reshape(b, t, d)
        x = x + F.dropout(self.attn_proj(y.reshape(-1, d)).reshape(b, t, d), self.p, self.training)
        m = self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x).reshape(-1, d)))).reshape(b, t, d)
        return x + F.dropout(m, self.p, self.training)


class ProjGpt(nn.Module):
    def __init__(self, vocab, ctx, d, h, layers, p):
        super().__init__()
        self.p = p
        self.wte = nn.Parameter(torch.randn(vocab, d) * 0.02)
        self.wpe = nn.Parameter(torch.randn(ctx, d) * 0.02)
        self.h = nn.ModuleList(ProjBlock(d, h, p) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, ids, mask, pos=None):
        t = ids.shape[1]
        p = torch.arange(t, device=ids.device) if pos is None else pos
        x = F.dropout(F.embedding(ids, self.wte) + F.embedding(p, self.wpe), self.p, self.training)
        for blk in self.h:
            x = blk(x, mask)
        return F.linear(self.ln_f(x), self.wte)  # (B, T, V), tied head


def answer_loss(z, targets, w, top=None):
    """io.distill4j.trainer.lm.AnswerLoss: alpha 0 (top None) or 1 (top = (ids, logp, tail))."""
    logq = z.log_softmax(2)
    total = w.sum().clamp(min=1.0)
    if top is None:
        per = -logq.gather(2, targets.unsqueeze(2)).squeeze(2)
    else:
        ids, logp, tail = top
        logp, tail = logp.clamp(min=-80.0), tail.clamp(min=-80.0)
        logqk = logq.gather(2, ids)
        qtail = (1 - logqk.exp().sum(2)).clamp(min=1e-6)
        per = (logp.exp() * (logp - logqk)).sum(2) + tail.exp() * (tail - qtail.log())
    return (per * w).sum() / total


def run_mlp_project(args, variant):
    dev = torch.device(DEVICE)
    torch.manual_seed(0)
    model = mlp().to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    x = torch.randn(256, 784, device=dev)
    soft = "softce" in variant
    fp16 = "fp16" in variant
    y = torch.randn(256, 10, device=dev).mul(2).softmax(1) if soft else torch.randint(0, 10, (256,), device=dev)
    scaler = torch.amp.GradScaler("cuda", enabled=fp16)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.float16, enabled=fp16):
            z = model(x)
        z = z.float()
        loss = -(z.log_softmax(1) * y).sum(1).mean() if soft else F.cross_entropy(z, y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss

    flops = 6 * 256 * (784 * 512 + 512 * 256 + 256 * 10)
    return measure("mlp", variant, step, args.warmup, args.repeats, args.steps * 4,
                   dict(batch=256, flops_per_step=flops), sync_each=True)


def run_gpt_project(args, vocab, variant):
    dev = torch.device(DEVICE)
    torch.manual_seed(0)
    b, t, d, h, layers = getattr(args, "gpt_batch", 16), getattr(args, "ctx", 256), 256, 4, 4
    finetune = "clip1" in variant
    kd = "kd" in variant
    fp16 = "fp16" in variant  # the project's Precision.FP16: here autocast(float16) + GradScaler
    p = 0.1 if finetune else 0.0
    update = "fwdbwd" not in variant
    model = ProjGpt(vocab, t, d, h, layers, p).to(dev).train()
    decay = [q for q in model.parameters() if q.dim() >= 2]
    other = [q for q in model.parameters() if q.dim() < 2]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.01), dict(params=other, weight_decay=0.0)], lr=3e-4)
    ids = torch.randint(0, vocab, (b, t))
    targets = torch.randint(0, vocab, (b, t))
    w = torch.ones(b, t)
    seg = torch.ones(b, t, dtype=torch.long)
    pos = torch.arange(t).repeat(b, 1)
    k = 16
    top_ids = torch.randint(0, vocab, (b, t, k))
    top_lp = torch.randn(b, t, k + 1).mul(1.5).log_softmax(2)
    top_tail, top_lp = top_lp[:, :, k].contiguous(), top_lp[:, :, :k].contiguous()
    causal = torch.triu(torch.full((t, t), -1e30, device=dev), diagonal=1).view(1, 1, t, t)
    tri = torch.ones(t, t, dtype=torch.bool, device=dev).tril()
    if finetune:
        w[:, -1] = 0
    scaler = torch.amp.GradScaler("cuda", enabled=fp16)

    def step():
        if update:
            opt.zero_grad(set_to_none=True)
        x, y, ww = ids.to(dev), targets.to(dev), w.to(dev)  # the project creates each step's arrays from the host
        top = None
        with torch.autocast("cuda", dtype=torch.float16, enabled=fp16):
            if finetune:
                s, ps = seg.to(dev), pos.to(dev)
                mask = ((s.unsqueeze(2) == s.unsqueeze(1)) & tri).float().sub(1).mul(1e30).unsqueeze(1)
                top = (top_ids.to(dev), top_lp.to(dev), top_tail.to(dev)) if kd else None
                z = model(x, mask, ps)
            else:
                z = model(x, causal)
        loss = answer_loss(z.float(), y, ww, top)
        scaler.scale(loss).backward()
        if update:
            if finetune:
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
        return loss

    n_params = sum(q.numel() for q in model.parameters())
    tokens = b * t
    n_matmul = layers * 12 * d * d + vocab * d
    flops = 6 * n_matmul * tokens + 12 * layers * d * t * tokens
    return measure("gpt_v%d" % vocab, variant, step, args.warmup, args.repeats, args.steps,
                   dict(vocab=vocab, batch=b, ctx=t, width=d, layers=layers, heads=h, params=n_params,
                        flops_per_step=flops, dropout=p), sync_each=True)


def ceilings():
    """Measured matrix-product rates on this GPU (8192^3, median of 10 after 3 warm-ups)."""
    dev = torch.device(DEVICE)
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
    ap.add_argument("--project", action="store_true", help="also run the twins of ProjectGpuBench")
    ap.add_argument("--no-base", action="store_true", help="skip the twins of DjlGpuBench")
    ap.add_argument("--gpt-batch", type=int, default=16, help="project GPT twins only (small for a CPU check)")
    ap.add_argument("--ctx", type=int, default=256, help="project GPT twins only")
    args = ap.parse_args()
    assert torch.cuda.is_available(), "needs a CUDA GPU"
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32, as in DJL's default
    torch.backends.cudnn.allow_tf32 = False
    env = dict(impl="env", torch=torch.__version__, cuda=torch.version.cuda, device=torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
               capability=list(torch.cuda.get_device_capability(0)))
    if not args.no_ceilings:
        env.update(ceilings())
    print(json.dumps(env), flush=True)
    print("env: %s" % env, file=sys.stderr, flush=True)
    vocabs = [int(s) for s in args.vocab.split(",")]
    if not args.no_base:
        for variant in ("eager-fp32", "eager-fp32-noforeach", "eager-fp32-fwdbwd"):
            run_mlp(args, variant)
        for v in vocabs:
            for variant in ("eager-fp32", "eager-fp32-noforeach", "eager-fp32-fwdbwd", "sdpa-fp32",
                            "sdpa-bf16-autocast"):
                run_gpt(args, v, variant)
    if args.project:
        for variant in ("proj-adamw-ce-sync", "proj-adamw-softce-sync", "proj-adamw-ce-fp16-autocast-sync"):
            run_mlp_project(args, variant)
        for v in vocabs:
            for variant in ("proj-fused-sync", "proj-fused-fwdbwd-sync", "proj-fused-fp16-sync"):
                run_gpt_project(args, v, variant)
        for variant in ("proj-fused-drop0.1-clip1-sync", "proj-fused-drop0.1-clip1-topk16kd-sync",
                        "proj-fused-drop0.1-clip1-fp16-sync", "proj-fused-drop0.1-clip1-topk16kd-fp16-sync"):
            run_gpt_project(args, 50257, variant)


if __name__ == "__main__":
    main()

"""PyTorch twin of LossStepBenchmark / LossStepPairedBenchmark and LossSparseBenchmark (issue 4).

Same computations as the Java benchmarks, in eager PyTorch on the CPU, so that the ratios can be read side
by side:
  step:   MLP 784-512-256-10, batch 256, Adam(1e-3); losses ce, kd (Hinton T=4, alpha=0.5 on the mean of
          k=16 teacher samples), weighted-given (per-item inverse-variance weights, variance precomputed),
          weighted-samples (target and variance from the (256, 16, 10) samples in the step). Paired and
          interleaved rounds, median ratio to ce.
  sparse: student logits (4, 128, 32000); dense forward KL with the teacher's full log-probabilities or
          probabilities vs the sparse top-64 KL with a tail bucket; forward and forward+backward.

Usage: python benchmarks/pytorch/loss_twin.py [--threads N] [--rounds R] [--steps S] [--which step,sparse]
Prints one JSON object per measurement.
"""
import argparse
import json
import random
import statistics
import time

import torch
import torch.nn.functional as F

B, K, C = 256, 16, 10


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                               torch.nn.ReLU(), torch.nn.Linear(256, C))


def hinton_items(z, y, pt, t=4.0, a=0.5):
    logp = F.log_softmax(z, -1)
    logq = F.log_softmax(z / t, -1)
    kl = (torch.xlogy(pt, pt) - pt * logq).sum(-1)
    return (1 - a) * -logp.gather(-1, y[:, None]).squeeze(-1) + a * t * t * kl


def make_kind(name, gen):
    torch.manual_seed(42)
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(B, 784, generator=gen)
    y = torch.randint(0, C, (B,), generator=gen)
    base = 2 * torch.randn(B, 1, C, generator=gen)
    noise = 0.1 + torch.rand(B, 1, 1, generator=gen)
    samples = torch.softmax(base + noise * torch.randn(B, K, C, generator=gen), -1)
    mean = samples.mean(1)
    var = ((samples - mean[:, None]) ** 2).sum((1, 2)) / ((K - 1) * C)

    def step():
        opt.zero_grad(set_to_none=True)
        z = model(x)
        if name == "ce":
            loss = F.cross_entropy(z, y)
        elif name == "kd":
            loss = hinton_items(z, y, mean).mean()
        elif name == "weighted-given":
            r = var + 1e-6
            loss = (hinton_items(z, y, mean) / r).sum() / r.reciprocal().sum()
        elif name == "weighted-samples":
            m = samples.mean(1)
            v = ((samples - m[:, None]) ** 2).sum((1, 2)) / ((K - 1) * C)
            r = v + 1e-6
            loss = (hinton_items(z, y, m) / r).sum() / r.reciprocal().sum()
        else:
            raise ValueError(name)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def bench_step(rounds, steps):
    names = ["ce", "kd", "weighted-given", "weighted-samples"]
    gen = torch.Generator().manual_seed(42)
    kinds = {n: make_kind(n, gen) for n in names}
    for _ in range(3):
        for n in names:
            for _ in range(30):
                kinds[n]()
    ms = {n: [] for n in names}
    order = list(names)
    rnd = random.Random(1)
    for _ in range(rounds):
        rnd.shuffle(order)
        for n in order:
            t0 = time.perf_counter()
            for _ in range(steps):
                kinds[n]()
            ms[n].append((time.perf_counter() - t0) * 1e3 / steps)
    for n in names:
        ratios = [a / b for a, b in zip(ms[n], ms["ce"])]
        print(json.dumps({"bench": "step", "kind": n, "ms_median": statistics.median(ms[n]), "ms_min": min(ms[n]),
                          "ratio_to_ce_median": statistics.median(ratios), "rounds": rounds, "steps": steps,
                          "threads": torch.get_num_threads()}))


def bench_sparse(repeats):
    bt, t, v, k = 4, 128, 32000, 64
    g = torch.Generator().manual_seed(7)
    z0 = 2 * torch.randn(bt, t, v, generator=g)
    tlp = torch.log_softmax(2 * torch.randn(bt, t, v, generator=g), -1)
    tp = tlp.exp()
    lp, ids = tlp.topk(k, -1)
    lt = torch.log1p(-lp.exp().sum(-1).clamp(max=1 - 1e-7))

    def dense_logprobs(z):
        return (tp * (tlp - F.log_softmax(z, -1))).sum(-1).mean()

    def dense_probs(z):
        return (torch.xlogy(tp, tp) - tp * F.log_softmax(z, -1)).sum(-1).mean()

    def sparse(z):
        lqk = F.log_softmax(z, -1).gather(-1, ids)
        lqt = torch.log((1 - lqk.exp().sum(-1)).clamp(min=1e-30))
        zt = torch.logsumexp(torch.cat([lp, lt[..., None]], -1), -1)
        pk = (lp - zt[..., None]).exp()
        pt = (lt - zt).exp()
        return ((pk * (lp - zt[..., None] - lqk)).sum(-1) + pt * (lt - zt - lqt)).mean()

    for name, f in [("dense-logprobs", dense_logprobs), ("dense-probs", dense_probs), ("sparse", sparse)]:
        for backward in (False, True):
            z = z0.clone().requires_grad_(backward)
            times = []
            for i in range(repeats + 2):
                t0 = time.perf_counter()
                if backward:
                    z.grad = None
                    f(z).backward()
                else:
                    with torch.no_grad():
                        f(z).item()
                if i >= 2:
                    times.append((time.perf_counter() - t0) * 1e3)
            print(json.dumps({"bench": "sparse", "kind": name, "pass": "backward" if backward else "forward",
                              "ms_median": statistics.median(times), "ms_min": min(times), "repeats": repeats,
                              "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--which", default="step,sparse")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}))
    if "step" in a.which:
        bench_step(a.rounds, a.steps)
    if "sparse" in a.which:
        bench_sparse(a.repeats)

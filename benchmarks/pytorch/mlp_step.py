#!/usr/bin/env python3
"""PyTorch twin of benchmarks/src/main/java/io/distill4j/bench/MlpTrainStepBenchmark.java.

One training step of the MLP 784-512-256-10 (ReLU, no dropout) at batch 256 on the CPU: forward,
F.cross_entropy on integer labels, loss.item(), backward, torch.optim.AdamW(lr=1e-3, weight_decay=0.01)
step, zero_grad(set_to_none=True). PyTorch eager, float32, torch.set_num_threads(--threads) (the Java side
sets DJL's ai.djl.pytorch.num_threads to the same value), one inter-op thread.

Timing mirrors JMH's: --warmup seconds of steps, then --iterations timed windows of --seconds each; the
score of a window is its mean time per step; we report the mean and the spread of the window scores, and
the process CPU time per step (time.process_time, all threads), as the Java side does next to JMH's wall time.
Output: one JSON object on stdout.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=float, default=6.0, help="seconds of warm-up")
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds per measured window")
    ap.add_argument("--foreach", choices=["default", "true", "false"], default="default",
                    help="AdamW's foreach flag (default: PyTorch's choice, which is the per-tensor loop on CPU)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    foreach = None if a.foreach == "default" else a.foreach == "true"
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01, foreach=foreach)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(256, 784, generator=g)
    y = torch.randint(0, 10, (256,), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        value = loss.item()
        loss.backward()
        opt.step()
        return value

    end = time.perf_counter() + a.warmup
    while time.perf_counter() < end:
        step()
    scores = []
    cpu = []
    for _ in range(a.iterations):
        n = 0
        t0 = time.perf_counter()
        c0 = time.process_time()
        while True:
            step()
            n += 1
            t = time.perf_counter() - t0
            if t >= a.seconds:
                break
        cpu.append((time.process_time() - c0) / n * 1e3)
        scores.append(t / n * 1e3)
    print(json.dumps({
        "benchmark": "pytorch-eager",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "foreach": a.foreach,
        "ms_per_step": statistics.mean(scores),
        "ms_min": min(scores),
        "ms_max": max(scores),
        "scores": scores,
        "cpu_ms_per_step": statistics.mean(cpu),
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch twin of benchmarks/src/main/java/io/distill4j/bench/TeacherMcDropoutBenchmark.java (issue 6).

Same teacher and shapes: MLP 64-128-10 (Linear, ReLU, Dropout 0.2, Linear), 20,000 inputs, k = 16
MC-dropout samples per input per batch of 1024 inputs, softmax, copied to a NumPy array (the analogue of
the Java side's toFloatArray). No cache is written: this is the ceiling for the `forwardOnly` benchmark.
torch uses 2 threads.

Variants (one JSON line each):
  shared-prefix  what distill4j's McDropoutTeacher does: Linear+ReLU once on the 1024 inputs, then the
                 hidden activations repeated to (1024 * 16, 128) for dropout and the last Linear
  repeat-input   the inputs repeated to (1024 * 16, 64) and the whole network run on them
Prints items per second (median of REPEATS timed fills after WARMUP) and items per process-CPU-second
(time.process_time: all threads of the process), comparable with the Java side's cpuMicros counter.
"""
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn

ITEMS, K, BATCH, WARMUP, REPEATS = 20_000, 16, 1024, 2, 5


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    net.train()  # dropout active
    x_all = torch.rand(ITEMS, 64) * 16

    def fill(shared):
        out = np.empty((ITEMS, K, 10), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, ITEMS, BATCH):
                x = x_all[start:start + BATCH]
                b = x.shape[0]
                torch.manual_seed(7 + start)
                if shared:
                    h = net[1](net[0](x))
                    h = h.unsqueeze(1).expand(b, K, 128).reshape(b * K, 128)
                    z = net[3](net[2](h))
                else:
                    z = net(x.unsqueeze(1).expand(b, K, 64).reshape(b * K, 64))
                out[start:start + b] = torch.softmax(z, dim=1).reshape(b, K, 10).numpy()
        return out

    for variant, shared in (("shared-prefix", True), ("repeat-input", False)):
        for _ in range(WARMUP):
            fill(shared)
        times = []
        cpu = 0.0
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            c0 = time.process_time()
            fill(shared)
            cpu += time.process_time() - c0
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        print(json.dumps({"benchmark": "torch-mc-dropout-forward", "variant": variant, "torch": torch.__version__,
                          "threads": 2, "items": ITEMS, "k": K, "batch": BATCH, "seconds_median": med,
                          "items_per_s": ITEMS / med, "items_per_s_all": [ITEMS / t for t in times],
                          "items_per_cpu_s": ITEMS * REPEATS / cpu}), flush=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""PyTorch twin of benchmarks/src/main/java/io/distill4j/bench/McDropoutThroughput.java (issue 21, item 3).

Same teacher and shapes: MLP 64-128-10 (Linear, ReLU, Dropout 0.2, Linear), softmax, inputs uniform in [0, 1); a batch
of BATCH inputs is run as BATCH x K repeated rows in chunks of CHUNK rows (the chunk rows the Java side's memory budget
gave), Linear+ReLU once per input of the chunk, nn.Dropout (libtorch's Bernoulli) on the repeated hidden rows, and
each chunk's softmax copied to a NumPy array (the analogue of the Java sink). torch uses THREADS threads (1, like the
launcher's OMP_NUM_THREADS=1). Prints one JSON line: the median wall seconds and process CPU seconds (user + sys,
time.process_time) of REPEATS timed runs after one warm-up, and each run's figures.

Usage: mc_dropout_twin.py ITEMS K BATCH CHUNK REPEATS [THREADS]
"""
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def main():
    items, k, batch, chunk, repeats = (int(a) for a in sys.argv[1:6])
    threads = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    net.train()
    x_all = torch.rand(items, 64)
    out = np.empty((chunk, 10), dtype=np.float32)

    def run():
        checksum = 0.0
        with torch.no_grad():
            for start in range(0, items, batch):
                b = min(batch, items - start)
                total = b * k
                for r0 in range(0, total, chunk):
                    r = min(chunk, total - r0)
                    i0, i1 = r0 // k, (r0 + r - 1) // k
                    h = net[1](net[0](x_all[start + i0:start + i1 + 1]))
                    idx = torch.arange(r0, r0 + r) // k - i0
                    z = net[3](net[2](h.index_select(0, idx)))
                    out[:r] = torch.softmax(z, dim=1).numpy()
                    checksum += float(out[0, 0])
        return checksum

    run()
    times, cpu = [], []
    for _ in range(repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med = statistics.median(times)
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "threads": threads, "items": items, "k": k,
                      "batch": batch, "chunkRows": chunk, "seconds": round(med, 3),
                      "cpuSeconds": round(statistics.median(cpu), 3),
                      "itemsPerSecond": round(items / med, 1), "rowsPerSecond": round(items * k / med),
                      "runs": [round(t, 3) for t in times], "cpuRuns": [round(c, 3) for c in cpu]}))


if __name__ == "__main__":
    main()

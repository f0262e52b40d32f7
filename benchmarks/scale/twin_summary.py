#!/usr/bin/env python3
"""Summarises benchmarks/scale/run-twin.sh's JSON lines: per work size (items x k) and per pair, the ratios
distill4j / PyTorch of the median wall seconds and of the median process CPU seconds (user + sys) of each side's
timed runs; prints, per work size, the number of pairs and the median, quartiles and range of each ratio (above 1:
distill4j slower), a distribution-free confidence interval of the median ratio (order statistics x(j), x(n+1-j) with
the largest j whose binomial coverage is at least 95%; its coverage printed with it), how many pairs are above 1,
and each side's median items per second. Usage: twin_summary.py THROUGHPUT.jsonl
"""
import json
import math
import statistics
import sys
from collections import defaultdict


def quartiles(v):
    v = sorted(v)
    if len(v) < 4:
        return v[0], v[-1]
    q = statistics.quantiles(v, n=4)
    return q[0], q[2]


def median_interval(v, level=0.95):
    """Order-statistic interval of the median: (x(j), x(n+1-j)), largest j with P(Bin(n, 1/2) in [j, n-j]) >= level."""
    v = sorted(v)
    n = len(v)
    best = None
    for j in range(1, n // 2 + 1):
        below = sum(math.comb(n, i) for i in range(j)) / 2 ** n
        coverage = 1 - 2 * below
        if coverage >= level:
            best = (v[j - 1], v[n - j], coverage)
    return best


def main():
    sides = defaultdict(dict)
    for line in open(sys.argv[1]):
        if not line.strip():
            continue
        r = json.loads(line)
        if "pair" not in r:
            continue
        sides[(r["items"], r["k"], r["pair"])][r["impl"]] = r
    by_work = defaultdict(list)
    for (items, k, pair), s in sorted(sides.items()):
        if "distill4j" in s and "pytorch" in s:
            by_work[(items, k)].append(s)
    for (items, k), pairs in by_work.items():
        wall = [p["distill4j"]["seconds"] / p["pytorch"]["seconds"] for p in pairs]
        cpu = [p["distill4j"]["cpuSeconds"] / p["pytorch"]["cpuSeconds"] for p in pairs]
        out = {"items": items, "k": k, "pairs": len(pairs)}
        for name, v in (("wallRatio", wall), ("cpuRatio", cpu)):
            lo, hi = quartiles(v)
            out[name] = {"median": round(statistics.median(v), 3), "q1": round(lo, 3), "q3": round(hi, 3),
                         "min": round(min(v), 3), "max": round(max(v), 3), "above1": sum(1 for x in v if x > 1)}
            ci = median_interval(v)
            if ci:
                out[name]["medianInterval"] = [round(ci[0], 3), round(ci[1], 3)]
                out[name]["intervalCoverage"] = round(ci[2], 4)
        for impl in ("distill4j", "pytorch"):
            out[impl] = {"itemsPerSecond": round(statistics.median(p[impl]["itemsPerSecond"] for p in pairs), 1),
                         "cpuSeconds": round(statistics.median(p[impl]["cpuSeconds"] for p in pairs), 3),
                         "seconds": round(statistics.median(p[impl]["seconds"] for p in pairs), 3)}
        print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Table of benchmarks/run-lm-bench.sh results: DJL (JMH JSON) against the PyTorch twin (JSON), per tag."""
import glob
import json
import os
import statistics
import sys


def main(out):
    rows = []
    for tf in sorted(glob.glob(os.path.join(out, "torch-*.json"))):
        tag = os.path.basename(tf)[len("torch-"):-len(".json")]
        df = os.path.join(out, f"djl-{tag}.json")
        if not os.path.exists(df):
            continue
        t = json.load(open(tf))
        d = json.load(open(df))[0]
        raw = [x for it in d["primaryMetric"]["rawData"] for x in it]
        dmean, dmed = statistics.mean(raw), statistics.median(raw)
        tokens = t["batch"] * t["context"]
        rows.append((tag, t, dmean, dmed, tokens, len(raw)))
    print("| configuration | threads | DJL mean ms (median) | PyTorch mean ms (median) | DJL / PyTorch mean (median)"
          " | DJL tokens/s | PyTorch tokens/s | steps |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for tag, t, dmean, dmed, tokens, n in rows:
        print(f"| {tag} | {t['threads']} | {dmean:.0f} ({dmed:.0f}) | {t['mean_ms']:.0f} ({t['median_ms']:.0f}) | "
              f"{dmean / t['mean_ms']:.3f} ({dmed / t['median_ms']:.3f}) | {tokens / dmean * 1000:.0f} | "
              f"{tokens / t['mean_ms'] * 1000:.0f} | {n} / {len(t['ms'])} |")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

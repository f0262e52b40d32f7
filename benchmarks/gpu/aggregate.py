#!/usr/bin/env python3
"""Medians over several (djl.jsonl, twin.jsonl) pairs, e.g. the runs under results/.

usage: aggregate.py DJL1 TWIN1 [DJL2 TWIN2 ...]
       aggregate.py PROJECT1 TWIN1 [PROJECT2 TWIN2 ...]   (ProjectGpuBench rows: each is compared with
       the twin variant its "ref" field names, and only those twin variants are listed)
Prints a Markdown table: per model and implementation the median ms/step over the pairs, the list,
the DJL/PyTorch ratio (per pair, against PyTorch eager-fp32 or eager-fp32-fwdbwd of the same pair)
and the MFU of the median against the H100 SXM dense peaks (fp32 67, bf16 989 TFLOP/s).
"""
import json
import statistics as st
import sys

PEAK = {"fp32": 67e12, "bf16": 989e12}


def load(path):
    return [json.loads(line) for line in open(path) if line.startswith("{")]


def main():
    files = sys.argv[1:]
    table = {}
    for djl_path, twin_path in zip(files[::2], files[1::2]):
        twin = [r for r in load(twin_path) if r.get("impl") == "pytorch"]
        refs = set()
        for r in load(djl_path):
            if "error" in r:
                continue
            phase = r.get("phase", "step")
            if r.get("impl") == "project":
                want = r["ref"]
                label = "DJL project %s%s" % (r["variant"], " fwd+bwd only" if phase == "fwdbwd" else "")
            else:
                want = "eager-fp32" if phase == "step" else "eager-fp32-fwdbwd"
                label = "DJL fp32" + (" fwd+bwd only" if phase == "fwdbwd" else "")
            refs.add((r["model"], want, r.get("impl") == "project"))
            ref = next((x for x in twin if x["model"] == r["model"] and x["variant"] == want), None)
            table.setdefault((r["model"], label), []).append((r, ref))
        project = any(p for _, _, p in refs)
        for x in twin:
            if not project or (x["model"], x["variant"], True) in refs:
                table.setdefault((x["model"], "PyTorch " + x["variant"]), []).append((x, None))
    print("| model | implementation | ms/step median over runs | per run | DJL / PyTorch twin (per run) | MFU at median |")
    print("|---|---|---:|---|---|---:|")
    for (model, label), v in sorted(table.items(), key=lambda kv: (kv[0][0], not kv[0][1].startswith("DJL"), kv[0][1])):
        ms = [r["ms_median"] for r, _ in v]
        ratios = [r["ms_median"] / ref["ms_median"] for r, ref in v if ref]
        prec = "bf16" if "bf16" in label else "fp32"
        mfu = v[0][0]["flops_per_step"] / (st.median(ms) * 1e-3) / PEAK[prec]
        print("| %s | %s | %.2f | %s | %s | %.1f%% of %s peak |" % (
            model, label, st.median(ms), ", ".join("%.2f" % m for m in ms),
            (", ".join("%.2f" % q for q in ratios) + " (median %.2f)" % st.median(ratios)) if ratios else "",
            100 * mfu, prec))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Joins DjlGpuBench (djl.jsonl) and twin.py (twin.jsonl) rows into a Markdown table.

MFU (model FLOPs utilisation) = model FLOPs per step / step time / peak rate.
  Model FLOPs per step (GPT), PaLM appendix-B convention, causal positions not discounted:
    6 * N_matmul * tokens + 12 * L * d * T * tokens
    N_matmul = L * 12 * d^2 (q,k,v,o: 4d^2; MLP 8d^2) + V * d (tied LM head); tokens = B * T
  MLP: 6 * B * (784*512 + 512*256 + 256*10).
  Peaks: NVIDIA H100 SXM5 and H200 SXM datasheets (the same GH100 compute), dense: FP32 67 TFLOP/s (no
  tensor cores; fp32 runs here have TF32 off), FP16/BF16 989 TFLOP/s; rows whose variant names fp16 are
  divided by the FP16 peak. The measured 8192^3 matmul rates of the same GPU are shown beside.
usage: summarize.py djl.jsonl twin.jsonl [project.jsonl]
With project.jsonl (ProjectGpuBench) a second table compares each project row with the twin.py variant
named in its "ref" field (the same step in PyTorch; those twins read the loss every step, as the
project's loops do), and lists failed rows with their exact exception.
"""
import json
import sys

PEAK = {"fp32": 67e12, "bf16": 989e12, "fp16": 989e12}


def precision(r):
    """fp16, bf16 or fp32, from a row's variant name."""
    v = r.get("variant", "") + " " + str(r.get("ref", ""))
    return "fp16" if "fp16" in v else "bf16" if "bf16" in v else "fp32"


def rows(path):
    out = []
    try:
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def project_table(project, twin, djl, env):
    print("\n#### The project's own students and training code (ProjectGpuBench) vs the same step in PyTorch\n")
    print("| model | project path | phase | ms/step (median) | PyTorch twin | PyTorch ms/step | project / PyTorch |"
          " model TFLOP/s | MFU | PyTorch MFU | MFU vs measured fp32 matmul |")
    print("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
    measured = env.get("fp32_matmul_tflops")
    for r in project:
        if "error" in r:
            continue
        ref = next((t for t in twin if t["model"] == r["model"] and t["variant"] == r.get("ref")), None)
        rate = r["flops_per_step"] / (r["ms_median"] * 1e-3)
        prate = ref["flops_per_step"] / (ref["ms_median"] * 1e-3) if ref else float("nan")
        peak = PEAK[precision(r)]
        print("| %s | %s | %s | %.3f | %s | %s | %s | %.2f | %.1f%% (%s) | %s | %s |" % (
            r["model"], r["variant"], r.get("phase", "step"), r["ms_median"], r.get("ref", ""),
            "%.3f" % ref["ms_median"] if ref else "n/a", "%.2f" % (r["ms_median"] / ref["ms_median"]) if ref else "n/a",
            rate / 1e12, 100 * rate / peak, precision(r), "%.1f%%" % (100 * prate / peak) if ref else "",
            "%.1f%%" % (100 * rate / (measured * 1e12)) if measured and precision(r) == "fp32" else ""))
    print("\nMFU = model FLOPs per step / step time / peak: 67 TFLOP/s FP32 dense (TF32 off) or 989 TFLOP/s FP16"
          " dense (H100 SXM and H200 SXM datasheets).")
    for r in project:
        if "error" in r:
            print("\nFAILED %s %s:\n```\n%s\n```" % (r["model"], r["variant"], r["error"]))
        elif r.get("phase", "step") == "step":
            print("project %s %s loss %.4f -> %.4f%s" % (r["model"], r["variant"], r["loss_first"], r["loss_last"],
                  "; causal check max |logit change| = %g" % r["causal_leak"] if "causal_leak" in r else ""))


def main():
    djl, twin = rows(sys.argv[1]), rows(sys.argv[2])
    project = rows(sys.argv[3]) if len(sys.argv) > 3 else []
    env = next((r for r in twin if r.get("impl") == "env"), {})
    twin = [r for r in twin if r.get("impl") == "pytorch"]
    print("device: %s; torch %s (CUDA %s); measured 8192^3 matmul: fp32 %.1f, tf32 %.1f, bf16 %.1f TFLOP/s\n"
          % (env.get("device"), env.get("torch"), env.get("cuda"), env.get("fp32_matmul_tflops", float("nan")),
             env.get("tf32_matmul_tflops", float("nan")), env.get("bf16_matmul_tflops", float("nan"))))
    print("| model | implementation | ms/step (median) | ms/step (loss read every step) | DJL / PyTorch | "
          "model TFLOP/s | MFU | MFU vs measured matmul |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    models = []
    for r in djl + [t for t in twin if not t["variant"].startswith("proj-")]:
        if r["model"] not in models:
            models.append(r["model"])
    for m in models:
        refs = {"step": next((r for r in twin if r["model"] == m and r["variant"] == "eager-fp32"), None),
                "fwdbwd": next((r for r in twin if r["model"] == m and r["variant"] == "eager-fp32-fwdbwd"), None)}
        cands = [r for r in djl if r["model"] == m] + [r for r in twin if r["model"] == m
                                                       and not r["variant"].startswith("proj-")]
        for r in cands:
            phase = r.get("phase", "step")
            ref = refs.get(phase)
            name = ("DJL 0.35.1 (PyTorch engine), fp32" + (", fwd+bwd only" if phase == "fwdbwd" else "")
                    if r["impl"] == "djl" else "PyTorch " + r["variant"])
            prec = "bf16" if "bf16" in r.get("variant", "") else "fp32"
            rate = r["flops_per_step"] / (r["ms_median"] * 1e-3)
            measured = env.get(prec + "_matmul_tflops")
            ratio = "%.2f" % (r["ms_median"] / ref["ms_median"]) if (ref and r["impl"] == "djl") else ""
            print("| %s | %s | %.3f | %.3f | %s | %.2f | %.1f%% (%s peak) | %s |" % (
                m, name, r["ms_median"], r["ms_synced"], ratio, rate / 1e12, 100 * rate / PEAK[prec], prec,
                "%.1f%%" % (100 * rate / (measured * 1e12)) if measured else ""))
    print("\nDJL / PyTorch = DJL median ms/step over PyTorch eager-fp32 (same ops, same optimizer, fp32) median;"
          " for 'fwd+bwd only' rows over PyTorch eager-fp32-fwdbwd.")
    for r in djl:
        if r.get("phase", "step") != "step":
            continue
        if "causal_leak" in r:
            print("DJL %s causal check: max |logit change| at earlier positions = %g" % (r["model"], r["causal_leak"]))
        print("DJL %s loss %.4f -> %.4f over the run" % (r["model"], r["loss_first"], r["loss_last"]))
    if project:
        project_table(project, [t for t in twin if t.get("impl") == "pytorch"], djl, env)


if __name__ == "__main__":
    main()

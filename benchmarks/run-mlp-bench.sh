#!/usr/bin/env bash
# The MLP training-step benchmark, side by side: one step of 784-512-256-10 at batch 256 (forward, softmax
# cross-entropy, loss read, backward, AdamW) through distill4j's engine and DJL's stock Trainer (JMH,
# MlpTrainStepBenchmark) and through PyTorch eager (benchmarks/pytorch/mlp_step.py), with the same number
# of CPU threads, in alternating order; prints per-round numbers and the DJL / PyTorch ratios.
#
# Usage (repo root): benchmarks/run-mlp-bench.sh
# Environment: THREADS="1 2" ROUNDS=2 (repetitions, alternating which side runs first), WI=3 I=5 (JMH
# warm-up and measured iterations), W=2 R=2 (seconds each; the twin uses the same windows),
# PY=.venv/bin/python, OUT=benchmarks/target/mlp-bench, SKIP_BUILD=1 to reuse benchmarks/target/benchmarks.jar.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
THREADS=${THREADS:-"1 2"}
ROUNDS=${ROUNDS:-2}
WI=${WI:-3}
I=${I:-5}
W=${W:-2}
R=${R:-2}
PY=${PY:-$ROOT/.venv/bin/python}
OUT=${OUT:-$ROOT/benchmarks/target/mlp-bench}
mkdir -p "$OUT"
rm -f "$OUT"/jmh-*.json "$OUT"/torch-*.json
export DJL_OFFLINE=true OPT_OUT_TRACKING=true DJL_CACHE_DIR=${DJL_CACHE_DIR:-$ROOT/.djl-cache}
if [ -z "${SKIP_BUILD:-}" ] || [ ! -f benchmarks/target/benchmarks.jar ]; then
  mvn -B -q -pl benchmarks -am package -DskipTests
fi

jmh() {  # threads round
  java -Djmh.ignoreLock=true --add-opens=java.base/java.nio=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar \
    'MlpTrainStepBenchmark' -f 1 -wi "$WI" -i "$I" -w "${W}s" -r "${R}s" -p threads="$1" \
    -rf json -rff "$OUT/jmh-r$2-t$1.json" > "$OUT/jmh-r$2-t$1.log" 2>&1
}
twin() {  # threads round
  "$PY" benchmarks/pytorch/mlp_step.py --threads "$1" --warmup $((WI * W)) --iterations "$I" --seconds "$R" \
    > "$OUT/torch-r$2-t$1.json"
}

echo "$(date -u) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); threads: $THREADS; rounds: $ROUNDS" | tee "$OUT/run.txt"
for r in $(seq 1 "$ROUNDS"); do
  for t in $THREADS; do
    if (( r % 2 )); then jmh "$t" "$r"; twin "$t" "$r"; else twin "$t" "$r"; jmh "$t" "$r"; fi
    echo "round $r, $t thread(s) done; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/run.txt"
  done
done

"$PY" - "$OUT" <<'PYEOF' | tee "$OUT/summary.md"
import glob, json, os, re, statistics, sys
out = sys.argv[1]
rows = {}
for f in glob.glob(os.path.join(out, "jmh-r*-t*.json")):
    r, t = map(int, re.search(r"jmh-r(\d+)-t(\d+)\.json", f).groups())
    for b in json.load(open(f)):
        name = b["benchmark"].rsplit(".", 1)[1]
        sec = b.get("secondaryMetrics", {})
        cpu = sec["cpuMs"]["score"] / sec["steps"]["score"] if "cpuMs" in sec else float("nan")
        rows.setdefault((t, r), {})[name] = (float(b["primaryMetric"]["score"]), float(b["primaryMetric"]["scoreError"]), cpu)
for f in glob.glob(os.path.join(out, "torch-r*-t*.json")):
    r, t = map(int, re.search(r"torch-r(\d+)-t(\d+)\.json", f).groups())
    d = json.load(open(f))
    rows.setdefault((t, r), {})["torch"] = (d["ms_per_step"], (d["ms_max"] - d["ms_min"]) / 2, d["cpu_ms_per_step"])
print("| threads | round | distill4j engine ms (cpu ms) | DJL Trainer ms (cpu ms) | PyTorch eager ms (cpu ms) |"
      " engine / PyTorch wall | engine / PyTorch cpu | DJL Trainer / PyTorch wall |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
ratios = {}
for (t, r) in sorted(rows):
    d = rows[(t, r)]
    if not all(k in d for k in ("engine", "torch")):
        continue
    nan = float("nan")
    e, tr, py = d["engine"], d.get("djlTrainer", (nan, nan, nan)), d["torch"]
    rw, rc, rt = e[0] / py[0], e[2] / py[2], tr[0] / py[0]
    ratios.setdefault(t, []).append((rw, rc, rt))
    print(f"| {t} | {r} | {e[0]:.2f} ± {e[1]:.2f} ({e[2]:.2f}) | {tr[0]:.2f} ± {tr[1]:.2f} ({tr[2]:.2f}) |"
          f" {py[0]:.2f} ± {py[1]:.2f} ({py[2]:.2f}) | {rw:.3f} | {rc:.3f} | {rt:.3f} |")
print()
for t in sorted(ratios):
    rw = statistics.median(x[0] for x in ratios[t])
    rc = statistics.median(x[1] for x in ratios[t])
    rt = statistics.median(x[2] for x in ratios[t])
    print(f"{t} thread(s): median over {len(ratios[t])} round(s): engine / PyTorch = {rw:.3f} wall, {rc:.3f} cpu;"
          f" DJL Trainer / PyTorch = {rt:.3f} wall (target: engine at most 1.10)")
PYEOF

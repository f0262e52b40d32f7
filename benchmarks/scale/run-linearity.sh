#!/usr/bin/env bash
# Issue 21, item 3, "time linear in work": MNIST (60,000 training items, MC-dropout teacher 784-128-10, the scale
# benchmark's job) sampled at two k, alternating (k1, k2, k1, k2, ...) ROUNDS times so that a change in the machine's
# speed during the session shows in both, each into a fresh cache that is deleted after it is measured. Records wall
# time, CPU time (user + system, from /usr/bin/time: less sensitive than wall time to other work on the machine) and
# peak resident memory (benchmarks/scale/measure.py), and the sampling seconds `sample` prints; prints seconds per
# million teacher rows (items x k) of each run.
#
# Usage: benchmarks/scale/run-linearity.sh OUT_DIR [ROUNDS] [K1] [K2]   (default 2 rounds, k = 512 and 4,096)
#   CACHE_DIR: where the caches go (default OUT_DIR; /dev/shm takes the disk out of the measurement)
# Needs: datasets/mnist/fetch.sh, the launcher's build. OMP_NUM_THREADS=1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:?usage: run-linearity.sh OUT_DIR [ROUNDS] [K1] [K2]}"
ROUNDS="${2:-2}" K1="${3:-512}" K2="${4:-4096}"
CACHES="${CACHE_DIR:-$OUT}"
export OMP_NUM_THREADS=1 DJL_CACHE_DIR="${DJL_CACHE_DIR:-/work/.djl-cache}"
mkdir -p "$OUT" "$CACHES"
RES="$OUT/linearity.jsonl"
: > "$RES"
MEASURE="python3 $ROOT/benchmarks/scale/measure.py"
job() {   # $1 k, $2 cache, $3 extra teacher line
  cat <<YAML
cache: $2
k: $1
seed: 0
batchSize: 1024
data: {dataset: mnist, dir: $ROOT/datasets/mnist/raw, sample: train}
teacher:
  type: mc-dropout
  model: {hidden: [128], dropout: 0.2}
  train: {epochs: 2, batchSize: 64, learningRate: 0.01, weightDecay: 0.0001, seed: 0}
$3
YAML
}
job 8 "$OUT/teacher-cache" "" > "$OUT/teacher.yaml"
[ -d "$OUT/teacher-cache-teacher" ] || "$ROOT/distill4j" sample "$OUT/teacher.yaml" > "$OUT/teacher.log" 2>&1
for r in $(seq 1 "$ROUNDS"); do
  for k in "$K1" "$K2"; do
    cache="$CACHES/cache-k$k"
    rm -rf "$cache"
    job "$k" "$cache" "  checkpoint: $OUT/teacher-cache-teacher" > "$OUT/k$k.yaml"
    $MEASURE "round $r k=$k load $(cut -d' ' -f1 /proc/loadavg)" "$RES" -- "$ROOT/distill4j" sample "$OUT/k$k.yaml" \
      > "$OUT/r$r-k$k.log" 2>&1
    secs=$(grep -o 'in [0-9.]* s,' "$OUT/r$r-k$k.log" | tail -1 | tr -dc '0-9.')
    bytes=$(du -sb "$cache" | cut -f1)
    rm -rf "$cache"
    echo "{\"label\": \"sampling round $r k=$k\", \"seconds\": $secs, \"cache_bytes\": $bytes}" >> "$RES"
  done
done
python3 - "$RES" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
runs = [r for r in rows if r["label"].startswith("round")]
samp = [r for r in rows if r["label"].startswith("sampling")]
print("run | k | sampling s | wall s | CPU s | peak RSS MiB | sampling s per 1e6 rows | CPU s per 1e6 rows")
for a, b in zip(runs, samp):
    k = int(b["label"].split("k=")[1])
    mrows = 60000 * k / 1e6
    print(f'{a["label"]} | {k} | {b["seconds"]} | {a["wall_s"]} | {a["cpu_s"]} | {a["max_rss_mib"]} | '
          f'{b["seconds"] / mrows:.3f} | {a["cpu_s"] / mrows:.3f}')
PY

#!/usr/bin/env bash
# Issue 21, item 3: MC-dropout sampling throughput of distill4j (io.distill4j.bench.McDropoutThroughput, chunks of the
# default 256 MiB budget) against its PyTorch twin (benchmarks/scale/mc_dropout_twin.py, the same chunk rows), both
# on 1 thread, in PAIRS short alternating pairs per work size (the side that goes first alternates: A B, B A, ...),
# each process timing REPEATS runs after a warm-up. Every process's JSON line goes to OUT.jsonl, then
# benchmarks/scale/twin_summary.py prints, per work size, the median and range of the per-pair ratios
# distill4j / PyTorch of wall time and of process CPU time (user + sys).
#
# Usage: benchmarks/scale/run-twin.sh OUT.jsonl        (PAIRS=12, REPEATS=5 by default)
# Needs: the benchmarks jar (./mvnw -o -pl benchmarks -am package -DskipTests) and /work/venv (torch).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:?usage: run-twin.sh OUT.jsonl}"
PAIRS="${PAIRS:-12}"
REPEATS="${REPEATS:-5}"
PY="${PYTHON:-/work/venv/bin/python}"
export OMP_NUM_THREADS=1 DJL_CACHE_DIR="${DJL_CACHE_DIR:-/work/.djl-cache}" DJL_OFFLINE=true
JAVA=(java -Xmx2g --add-opens=java.base/java.nio=ALL-UNNAMED -Dai.djl.offline=true -cp "$ROOT/benchmarks/target/benchmarks.jar")
for work in "1438 64" "64 4096"; do
  read -r items k <<< "$work"
  # the chunk rows the Java side's budget gives (the twin is run with the same)
  chunk=$("${JAVA[@]}" io.distill4j.bench.McDropoutThroughput "$items" "$k" 1024 256 1 2>/dev/null | grep '^{' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["chunkRows"])')
  for pair in $(seq 1 "$PAIRS"); do
    java_side() { "${JAVA[@]}" io.distill4j.bench.McDropoutThroughput "$items" "$k" 1024 256 "$REPEATS" 2>/dev/null \
      | grep '^{' | sed "s/^{/{\"pair\": $pair, /" >> "$OUT"; }
    torch_side() { "$PY" "$ROOT/benchmarks/scale/mc_dropout_twin.py" "$items" "$k" 1024 "$chunk" "$REPEATS" 1 \
      | sed "s/^{/{\"pair\": $pair, /" >> "$OUT"; }
    if [ $((pair % 2)) = 1 ]; then java_side; torch_side; else torch_side; java_side; fi
  done
done
python3 "$ROOT/benchmarks/scale/twin_summary.py" "$OUT"

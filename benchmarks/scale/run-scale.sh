#!/usr/bin/env bash
# Issue 21, item 3: how the cost of `distill4j sample` and `distill4j train` grows with k, on scikit-learn digits
# (1,438 training items, MC-dropout teacher 64-128-10, student 64-64-10): wall time and peak resident memory of each
# run (benchmarks/scale/measure.py: /usr/bin/time -v plus /proc polling), a plot (ScalePlot, XChart), and MC-dropout
# sampling throughput against the PyTorch twin of the same teacher in the same session.
#
# Usage: benchmarks/scale/run-scale.sh [OUT_DIR] [K ...]      (default: /tmp/distill4j-scale, k = 8 64 512 4096)
# Needs: the launcher's build (./distill4j), the benchmarks jar (./mvnw -o -pl benchmarks -am package -DskipTests),
# and /work/venv (torch) for the twin. OMP_NUM_THREADS=1 on both sides.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-/tmp/distill4j-scale}"
shift || true
KS=("$@")
[ ${#KS[@]} -gt 0 ] || KS=(8 64 512 4096)
PY="${PYTHON:-/work/venv/bin/python}"
export OMP_NUM_THREADS=1 DJL_CACHE_DIR="${DJL_CACHE_DIR:-/work/.djl-cache}"
mkdir -p "$OUT"
RES="$OUT/results.jsonl"
: > "$RES"
MEASURE="python3 $ROOT/benchmarks/scale/measure.py"

sample_yaml() {   # $1 k, $2 cache, $3 extra teacher line
  cat <<YAML
cache: $2
k: $1
seed: 0
batchSize: 1024
data: {dataset: digits, dir: $ROOT/datasets/sklearn, scale: 0.0625, testFraction: 0.2, splitSeed: 0, sample: train}
teacher:
  type: mc-dropout
  model: {hidden: [128], dropout: 0.2}
  train: {epochs: 20, batchSize: 64, learningRate: 0.01, weightDecay: 0.0001, seed: 0}
$3
YAML
}

# the teacher, trained once (not timed with the sampling)
sample_yaml 8 "$OUT/teacher-cache" "" > "$OUT/teacher.yaml"
"$ROOT/distill4j" sample "$OUT/teacher.yaml" > "$OUT/teacher.log" 2>&1
for k in "${KS[@]}"; do
  sample_yaml "$k" "$OUT/cache-k$k" "  checkpoint: $OUT/teacher-cache-teacher" > "$OUT/sample-k$k.yaml"
  rm -rf "$OUT/cache-k$k"
  $MEASURE "sample k=$k" "$RES" -- "$ROOT/distill4j" sample "$OUT/sample-k$k.yaml" > "$OUT/sample-k$k.log" 2>&1
  cat > "$OUT/train-k$k.yaml" <<YAML
sample: sample-k$k.yaml
student: $ROOT/models/mlp-digits.yaml
target: mean
loss: soft-ce
students: 1
evaluationPasses: 0
out: $OUT/train-runs
training: {epochs: 1, batchSize: 64, learningRate: 1.0e-3}
YAML
  $MEASURE "train k=$k" "$RES" -- "$ROOT/distill4j" train "$OUT/train-k$k.yaml" > "$OUT/train-k$k.log" 2>&1
  du -sb "$OUT/cache-k$k" | awk -v k="$k" '{printf "{\"label\": \"cache k=%s\", \"bytes\": %s}\n", k, $1}' >> "$RES"
done

BENCH_CP="$ROOT/benchmarks/target/benchmarks.jar"
JAVA=(java -Xmx2g --add-opens=java.base/java.nio=ALL-UNNAMED -Dai.djl.offline=true -cp "$BENCH_CP")
java -cp "$BENCH_CP" io.distill4j.bench.ScalePlot "$RES" "$OUT/scale.png"

# MC-dropout sampling throughput: distill4j (chunks of the default 256 MiB budget) vs the PyTorch twin with the
# same chunk rows, alternating, 1 thread each
for k in 64 4096; do
  items=$(( k >= 4096 ? 64 : 1438 ))
  for round in 1 2; do
    j=$(DJL_OFFLINE=true "${JAVA[@]}" io.distill4j.bench.McDropoutThroughput "$items" "$k" 1024 256 3 2>/dev/null | grep '^{')
    echo "$j" | tee -a "$OUT/throughput.jsonl"
    chunk=$(echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["chunkRows"])')
    "$PY" "$ROOT/benchmarks/scale/mc_dropout_twin.py" "$items" "$k" 1024 "$chunk" 3 1 | tee -a "$OUT/throughput.jsonl"
  done
done

#!/usr/bin/env bash
# Issue 21, item 3: how the cost of `distill4j sample` and `distill4j train` grows with the work (items x k), on
# scikit-learn digits (1,438 training items, MC-dropout teacher 64-128-10) and on MNIST (60,000 training items,
# teacher 784-128-10; raw files from datasets/mnist/fetch.sh), students 64-64-10 and 784-64-10: wall time and peak
# resident memory of each run (benchmarks/scale/measure.py: /usr/bin/time -v plus /proc polling), the sampling
# seconds `sample` prints, the cache's size, a plot (ScalePlot, XChart), and MC-dropout sampling throughput against
# the PyTorch twin of the same teacher (benchmarks/scale/run-twin.sh).
#
# Usage: benchmarks/scale/run-scale.sh [OUT_DIR] [K ...]      (default: /tmp/distill4j-scale, k = 8 64 512 4096)
#   DATASETS="digits mnist" (default) chooses the data; MAX_CACHE_GB (default 20) skips a (dataset, k) whose cache
#   would be larger, or larger than half the free disk, and MAX_SAMPLE_MINUTES (default 25) one whose sampling
#   would take longer at the previous k's rate (this machine's load decides), each with a "skipped" line in the
#   JSONL; TWIN=0 skips the throughput pairs.
# Needs: the launcher's build (./distill4j), the benchmarks jar (./mvnw -o -pl benchmarks -am package -DskipTests),
# and /work/venv (torch) for the twin. OMP_NUM_THREADS=1 on both sides.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-/tmp/distill4j-scale}"
shift || true
KS=("$@")
[ ${#KS[@]} -gt 0 ] || KS=(8 64 512 4096)
read -r -a SETS <<< "${DATASETS:-digits mnist}"
MAX_CACHE_GB="${MAX_CACHE_GB:-20}"
MAX_SAMPLE_MINUTES="${MAX_SAMPLE_MINUTES:-25}"
export OMP_NUM_THREADS=1 DJL_CACHE_DIR="${DJL_CACHE_DIR:-/work/.djl-cache}"
mkdir -p "$OUT"
RES="$OUT/results.jsonl"
: > "$RES"
MEASURE="python3 $ROOT/benchmarks/scale/measure.py"

data_line() {   # $1 dataset
  case "$1" in
    digits) echo "data: {dataset: digits, dir: $ROOT/datasets/sklearn, scale: 0.0625, testFraction: 0.2, splitSeed: 0, sample: train}" ;;
    mnist) echo "data: {dataset: mnist, dir: $ROOT/datasets/mnist/raw, sample: train}" ;;
    *) echo "run-scale.sh: unknown dataset $1 (digits, mnist)" >&2; exit 2 ;;
  esac
}
items_of() { case "$1" in digits) echo 1438 ;; mnist) echo 60000 ;; esac; }
epochs_of() { case "$1" in digits) echo 20 ;; mnist) echo 2 ;; esac; }

sample_yaml() {   # $1 dataset, $2 k, $3 cache, $4 extra teacher line
  cat <<YAML
cache: $3
k: $2
seed: 0
batchSize: 1024
$(data_line "$1")
teacher:
  type: mc-dropout
  model: {hidden: [128], dropout: 0.2}
  train: {epochs: $(epochs_of "$1"), batchSize: 64, learningRate: 0.01, weightDecay: 0.0001, seed: 0}
$4
YAML
}

for ds in "${SETS[@]}"; do
  items=$(items_of "$ds")
  prev_k= prev_secs=
  echo "{\"label\": \"data $ds\", \"items\": $items}" >> "$RES"
  # the teacher, trained once (not timed with the sampling)
  sample_yaml "$ds" 8 "$OUT/$ds-teacher-cache" "" > "$OUT/$ds-teacher.yaml"
  [ -d "$OUT/$ds-teacher-cache-teacher" ] || "$ROOT/distill4j" sample "$OUT/$ds-teacher.yaml" > "$OUT/$ds-teacher.log" 2>&1
  for k in "${KS[@]}"; do
    bytes=$(( items * k * 10 * 4 ))
    free=$(df -B1 --output=avail "$OUT" | tail -1)
    if [ "$bytes" -gt $(( MAX_CACHE_GB * 1000000000 )) ] || [ "$bytes" -gt $(( free / 2 )) ]; then
      echo "{\"label\": \"skipped $ds k=$k\", \"estimated_bytes\": $bytes, \"free_bytes\": $free}" | tee -a "$RES"
      continue
    fi
    # the sampling time this k would take at the previous k's rate (rows per second): over MAX_SAMPLE_MINUTES, skip it
    if [ -n "${prev_k:-}" ] && [ -n "${prev_secs:-}" ]; then
      est=$(python3 -c "print(int($prev_secs * $k / $prev_k))")
      if [ "$est" -gt $(( MAX_SAMPLE_MINUTES * 60 )) ]; then
        echo "{\"label\": \"skipped $ds k=$k\", \"estimated_sampling_s\": $est, \"from\": \"k=$prev_k, $prev_secs s\"}" | tee -a "$RES"
        continue
      fi
    fi
    sample_yaml "$ds" "$k" "$OUT/$ds-cache-k$k" "  checkpoint: $OUT/$ds-teacher-cache-teacher" > "$OUT/$ds-sample-k$k.yaml"
    rm -rf "$OUT/$ds-cache-k$k"
    $MEASURE "sample $ds k=$k" "$RES" -- "$ROOT/distill4j" sample "$OUT/$ds-sample-k$k.yaml" > "$OUT/$ds-sample-k$k.log" 2>&1
    # the sampling seconds `sample` prints (teacher loading and JVM start excluded)
    secs=$(grep -o 'in [0-9.]* s,' "$OUT/$ds-sample-k$k.log" | tail -1 | tr -dc '0-9.')
    echo "{\"label\": \"sampling $ds k=$k\", \"seconds\": $secs}" >> "$RES"
    prev_k=$k prev_secs=$secs
    cat > "$OUT/$ds-train-k$k.yaml" <<YAML
sample: $ds-sample-k$k.yaml
student: {model_type: mlp, hidden: [64], dropout: 0.2}
target: mean
loss: soft-ce
students: 1
evaluationPasses: 0
out: $OUT/train-runs
training: {epochs: 1, batchSize: 64, learningRate: 1.0e-3}
YAML
    $MEASURE "train $ds k=$k" "$RES" -- "$ROOT/distill4j" train "$OUT/$ds-train-k$k.yaml" > "$OUT/$ds-train-k$k.log" 2>&1
    du -sb "$OUT/$ds-cache-k$k" | awk -v k="$k" -v ds="$ds" '{printf "{\"label\": \"cache %s k=%s\", \"bytes\": %s}\n", ds, k, $1}' >> "$RES"
    # the largest caches go once measured (a 60k x 4,096 cache is 9.8 GB)
    [ "$bytes" -lt 1000000000 ] || rm -rf "$OUT/$ds-cache-k$k"
  done
done

BENCH_CP="$ROOT/benchmarks/target/benchmarks.jar"
java -cp "$BENCH_CP" io.distill4j.bench.ScalePlot "$RES" "$OUT/scale.png"

# MC-dropout sampling throughput against the PyTorch twin (alternating pairs, medians)
[ "${TWIN:-1}" = 0 ] || "$ROOT/benchmarks/scale/run-twin.sh" "$OUT/throughput.jsonl"

#!/usr/bin/env bash
# Issue 21 with LM students (issue 13): peak resident memory and wall time of `distill4j train` on a causal-LM job
# against the size of its sequence cache. Samples P prompts (default 400) from the tiny Llama fixture teacher at
# k = 4 and k = 32 answers (8x the cache), then trains one student (models/llama-tiny.yaml, token-level KD with
# the top-16 distributions, 1 epoch) on each cache under benchmarks/scale/measure.py. With OLD_ROOT set to a
# checkout of an earlier build (for example `git worktree add /tmp/old 641b009`, the last in-memory LmRun, built
# with `mvn -o -pl modules/cli -am package -DskipTests`), the same `train` runs with that build too, alternating
# the two builds, so the lines are side by side. NEW_ROOT (default: this checkout) names the build of the "new" side:
# a checkout that nothing edits during the run, since the launcher rebuilds when a source is newer than its jar.
#
# Usage: benchmarks/scale/run-lm-memory.sh [OUT_DIR]     (default /tmp/distill4j-lm-memory)
#   PROMPTS (400), KS ("4 32"), ROUNDS (1: train runs per build and k). OMP_NUM_THREADS=1.
#   HEAPS ("": the launcher's -Xmx4g): one or more -Xmx values (e.g. "64m 128m 256m"); each train run then repeats at
#   each heap (DISTILL4J_JAVA_OPTS=-Xmx...), and its line records whether it fitted (rc 0) or not (OutOfMemoryError).
# Output: OUT_DIR/results.jsonl, one line per run (label "new k=32", "old k=4", ...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-/tmp/distill4j-lm-memory}"
PROMPTS="${PROMPTS:-400}"
read -r -a KS <<< "${KS:-4 32}"
ROUNDS="${ROUNDS:-1}"
export OMP_NUM_THREADS=1 DJL_CACHE_DIR="${DJL_CACHE_DIR:-/work/.djl-cache}"
mkdir -p "$OUT"
RES="$OUT/results.jsonl"
MEASURE="python3 $ROOT/benchmarks/scale/measure.py"
TEACHER="$ROOT/modules/models/src/test/resources/lm/llama-tiny"

python3 - "$OUT/prompts.txt" "$PROMPTS" <<'PY'
import random, sys
words = "the cat sat on a mat while red and blue birds sing where is it small tiny model what up".split()
r = random.Random(0)
with open(sys.argv[1], "w") as f:
    for _ in range(int(sys.argv[2])):
        f.write(" ".join(r.choice(words) for _ in range(r.randint(3, 8))) + "\n")
PY

for k in "${KS[@]}"; do
  cat > "$OUT/sample-k$k.yaml" <<YAML
cache: cache-k$k
k: $k
seed: 1
rowsPerShard: 64
prompts: {file: prompts.txt}
teacher: {type: lm, folder: $TEACHER, maxTokens: 24, topLogprobs: 16, temperature: 1.0}
YAML
  # sampling resumes a complete cache at once, so a second run of the script reuses it
  "${NEW_ROOT:-$ROOT}/distill4j" sample "$OUT/sample-k$k.yaml" > "$OUT/sample-k$k.log" 2>&1
  echo "{\"label\": \"cache k=$k\", \"bytes\": $(du -sb "$OUT/cache-k$k" | cut -f1), \"prompts\": $PROMPTS}" >> "$RES"
  cat > "$OUT/train-k$k.yaml" <<YAML
sample: sample-k$k.yaml
student: $ROOT/models/llama-tiny.yaml
out: runs-k$k
students: 1
lm: {mode: token-kd, alpha: 0.5, heldOut: 0.05}
training: {epochs: 1, batchSize: 16, learningRate: 0.003, warmupSteps: 1, progressBar: false}
YAML
done

for round in $(seq 1 "$ROUNDS"); do
  for k in "${KS[@]}"; do
    for side in new old; do
      if [ "$side" = old ] && [ -z "${OLD_ROOT:-}" ]; then continue; fi
      launcher="${NEW_ROOT:-$ROOT}/distill4j"
      [ "$side" = new ] || launcher="$OLD_ROOT/distill4j"
      for heap in ${HEAPS:-default}; do
        opts=""; label="$side k=$k"
        [ "$heap" = default ] || { opts="-Xmx$heap"; label="$side k=$k -Xmx$heap"; }
        rm -rf "$OUT/runs-k$k"
        (cd "$OUT" && DISTILL4J_JAVA_OPTS="${opts:-${DISTILL4J_JAVA_OPTS:--Xmx4g}}" $MEASURE "$label" "$RES" -- \
          "$launcher" train "train-k$k.yaml" > "$OUT/train-$side-k$k.log" 2>&1) || true
        tail -1 "$RES"
      done
    done
  done
done

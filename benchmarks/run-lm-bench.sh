#!/usr/bin/env bash
# The causal-LM training-step benchmark: DJL (JMH, LmTrainStepBenchmark) and its PyTorch twin
# (benchmarks/pytorch/lm_train_step.py) on the same presets, with the same number of intra-op threads,
# one after the other for each configuration, then a table of ms/step, tokens/s and the DJL/PyTorch ratio.
#
#   benchmarks/run-lm-bench.sh                      # all configurations, defaults below
#   CONFIGS="gpt2-student-4x256:8192" STEPS=5 benchmarks/run-lm-bench.sh
#
# Environment: THREADS (intra-op threads on both sides; default: what libtorch picks here, nproc),
# CONFIGS (preset[:vocab override, 0 = the preset's]), PHASES (step, fwdbwd, fwd), BATCH (16), WARMUP (3),
# STEPS (10 measured steps), ROUNDS (1; 2 repeats each pair with PyTorch first; ROUND_FROM=2 runs only
# that second round), BUILD (0 reuses the jar),
# PY (the Python with torch 2.13), OUT_DIR (benchmarks/target/lm-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
THREADS=${THREADS:-$(nproc)}
CONFIGS=${CONFIGS:-"gpt2-student-4x256:0 gpt2-student-4x256:8192 llama-student-4x256:0"}
PHASES=${PHASES:-step}
BATCH=${BATCH:-16}
WARMUP=${WARMUP:-3}
STEPS=${STEPS:-10}
ROUNDS=${ROUNDS:-1}
PY=${PY:-$ROOT/.venv/bin/python}
OUT_DIR=${OUT_DIR:-$ROOT/benchmarks/target/lm-bench}
export DJL_OFFLINE=true OPT_OUT_TRACKING=true DJL_CACHE_DIR=${DJL_CACHE_DIR:-$ROOT/.djl-cache}
mkdir -p "$OUT_DIR"
if [ "${BUILD:-1}" != 0 ] || [ ! -f benchmarks/target/benchmarks.jar ]; then
  mvn -B -q -pl benchmarks -am package -DskipTests
fi
{
  echo "date: $(date -u)"
  echo "machine: $(nproc) CPUs, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "python: $("$PY" -c 'import torch; print("torch", torch.__version__)')"
  echo "threads: $THREADS; batch $BATCH; warm-up $WARMUP; measured $STEPS"
} | tee "$OUT_DIR/env.txt"

djl() { # tag preset vocab phase
  # -Djmh.ignoreLock: other JMH runs on this shared machine hold /tmp/jmh.lock
  java -Djmh.ignoreLock=true -jar benchmarks/target/benchmarks.jar LmTrainStepBenchmark -f 1 -wi "$WARMUP" -i "$STEPS" \
    -p preset="models/$2.yaml" -p vocab="$3" -p batch="$BATCH" -p phase="$4" \
    -jvmArgsAppend "-Xmx2g --add-opens=java.base/java.nio=ALL-UNNAMED -Dai.djl.pytorch.num_threads=$THREADS -Ddistill4j.root=$ROOT" \
    -rf json -rff "$OUT_DIR/djl-$1.json" | grep -E '^#|LmTrainStep|Error|Exception' || true
}
twin() { # tag preset vocab phase
  "$PY" benchmarks/pytorch/lm_train_step.py --preset "models/$2.yaml" --vocab "$3" --batch "$BATCH" \
    --phase "$4" --threads "$THREADS" --warmup "$WARMUP" --steps "$STEPS" --json "$OUT_DIR/torch-$1.json"
}
for round in $(seq "${ROUND_FROM:-1}" "$ROUNDS"); do
  for cfg in $CONFIGS; do
    preset=${cfg%%:*}
    vocab=${cfg#*:}
    [ "$vocab" = "$cfg" ] && vocab=0
    for phase in $PHASES; do
      tag="$preset-v$vocab-$phase-r$round"
      echo "== $tag (load: $(cut -d' ' -f1-3 /proc/loadavg))"
      if [ $((round % 2)) = 1 ]; then djl "$tag" "$preset" "$vocab" "$phase"; twin "$tag" "$preset" "$vocab" "$phase"
      else twin "$tag" "$preset" "$vocab" "$phase"; djl "$tag" "$preset" "$vocab" "$phase"; fi
    done
  done
done
"$PY" benchmarks/pytorch/lm_bench_summary.py "$OUT_DIR" | tee "$OUT_DIR/summary.md"

#!/usr/bin/env bash
# On-policy GKD step, DJL (io.distill4j.bench.GkdStepTiming through OnPolicyDistiller) against its PyTorch twin
# (benchmarks/gkd/gkd_step.py), alternating, same sizes and intra-op threads; prints each side's median line.
#
#   PY=/work/venv/bin/python benchmarks/gkd/run-gkd-step.sh          # batch 8, prompt 16, 32 new tokens
#   SIZES="8 16 32 2 5" REPEATS=2 THREADS=1 benchmarks/gkd/run-gkd-step.sh
#
# Compiles the one class against the reactor's models and trainer classes (as benchmarks/lora/run-lora-memory.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SIZES=${SIZES:-"8 16 32 2 5"}
REPEATS=${REPEATS:-2}
THREADS=${THREADS:-1}
PY=${PY:-$ROOT/.venv/bin/python}
OUT_DIR=${OUT_DIR:-$ROOT/benchmarks/target/gkd}
CPUS=$(nproc)
export DJL_OFFLINE=true OPT_OUT_TRACKING=true DJL_CACHE_DIR=${DJL_CACHE_DIR:-$ROOT/.djl-cache}
export OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE
mkdir -p "$OUT_DIR/classes"
./mvnw -B -q -o compile -pl modules/models,modules/trainer -am -Dmaven.javadoc.skip=true >/dev/null
./mvnw -B -q -o dependency:build-classpath -pl modules/trainer -Dmdep.outputFile="$OUT_DIR/cp.txt" >/dev/null
CP="$ROOT/modules/models/target/classes:$ROOT/modules/trainer/target/classes:$(cat "$OUT_DIR/cp.txt")"
javac -d "$OUT_DIR/classes" -cp "$CP" benchmarks/src/main/java/io/distill4j/bench/GkdStepTiming.java
echo "date: $(date -u); $CPUS CPUs; threads $THREADS; sizes $SIZES"
for i in $(seq 1 "$REPEATS"); do
  # shellcheck disable=SC2086
  "$PY" benchmarks/gkd/gkd_step.py $SIZES 2>/dev/null | grep '^side='
  # shellcheck disable=SC2086
  java --add-opens=java.base/java.nio=ALL-UNNAMED -cp "$OUT_DIR/classes:$CP" io.distill4j.bench.GkdStepTiming $SIZES \
    2>/dev/null | grep '^side='
done

#!/usr/bin/env bash
# Memory of a LoRA training step against a full fine-tuning step of the same GPT-2 model
# (io.distill4j.bench.LoraMemory), each mode in its own JVM, REPEATS times alternating, then a ratio table.
#
#   benchmarks/lora/run-lora-memory.sh                  # 8 layers x 512, vocab 8192, context 128, batch 8
#   SIZES="4 256 8192 128 8 3" REPEATS=1 benchmarks/lora/run-lora-memory.sh
#
# Compiles the one class against the reactor's models and trainer classes (mvn compile of those modules
# and dependency:build-classpath of the trainer), so it needs no benchmarks jar. Environment: SIZES
# (layers width vocab context batch steps), REPEATS (2), OUT_DIR (benchmarks/target/lora-memory).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SIZES=${SIZES:-"8 512 8192 128 8 3"}
REPEATS=${REPEATS:-2}
OUT_DIR=${OUT_DIR:-$ROOT/benchmarks/target/lora-memory}
export DJL_OFFLINE=true OPT_OUT_TRACKING=true DJL_CACHE_DIR=${DJL_CACHE_DIR:-$ROOT/.djl-cache}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OMP_WAIT_POLICY=PASSIVE
mkdir -p "$OUT_DIR/classes"
MVN="./mvnw -B -q -o"
$MVN compile -pl modules/models,modules/trainer -am -Dmaven.javadoc.skip=true >/dev/null
$MVN dependency:build-classpath -pl modules/trainer -Dmdep.outputFile="$OUT_DIR/cp.txt" >/dev/null
CP="$ROOT/modules/models/target/classes:$ROOT/modules/trainer/target/classes:$(cat "$OUT_DIR/cp.txt")"
javac -d "$OUT_DIR/classes" -cp "$CP" benchmarks/src/main/java/io/distill4j/bench/LoraMemory.java
: > "$OUT_DIR/lines.txt"
for i in $(seq 1 "$REPEATS"); do
  for mode in full lora; do
    # shellcheck disable=SC2086
    java -Xms256m -Xmx256m -XX:+AlwaysPreTouch --add-opens=java.base/java.nio=ALL-UNNAMED -cp "$OUT_DIR/classes:$CP" \
      io.distill4j.bench.LoraMemory "$mode" $SIZES 2>/dev/null | grep '^mode=' | tee -a "$OUT_DIR/lines.txt"
  done
done
python3 - "$OUT_DIR/lines.txt" <<'PY'
import sys, statistics
rows = [dict(kv.split("=") for kv in l.split()) for l in open(sys.argv[1]) if l.strip()]
def med(mode, key):
    return statistics.median(float(r[key]) for r in rows if r["mode"] == mode)
print("| mode | trainable / total params | RSS after model (MiB) | peak RSS (MiB) | peak - model (MiB) |")
print("|---|---:|---:|---:|---:|")
for m in ("full", "lora"):
    r = next(r for r in rows if r["mode"] == m)
    print(f"| {m} | {int(r['trainable']):,} / {int(r['params']):,} | {med(m,'rss_model_kib')/1024:.0f} | "
          f"{med(m,'peak_kib')/1024:.0f} | {med(m,'step_kib')/1024:.0f} |")
print(f"\nLoRA / full: peak RSS {med('lora','peak_kib')/med('full','peak_kib'):.2f}, "
      f"step increase {med('lora','step_kib')/med('full','step_kib'):.2f} (medians of {len(rows)//2} runs each)")
PY

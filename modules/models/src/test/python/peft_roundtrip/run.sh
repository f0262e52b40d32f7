#!/usr/bin/env bash
# Checks that Hugging Face peft loads LoRA adapters saved by distill4j (PeftAdapter.save) and computes the same
# logits: SaveForPeft.java puts random adapters (r 3, alpha 5, q/k/v/o/mlp; rsLoRA on Llama) on the tiny test
# checkpoints, saves them with their logits; check_peft_loads.py loads them with PeftModel.from_pretrained.
# Not run by the tests (needs Python with torch, transformers, peft). Usage, from the repository root:
#   PY=/work/venv/bin/python modules/models/src/test/python/peft_roundtrip/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../../../../.."
ROOT=$PWD
PY=${PY:-python3}
OUT=$(mktemp -d)
export DJL_OFFLINE=true OPT_OUT_TRACKING=true DJL_CACHE_DIR=${DJL_CACHE_DIR:-$ROOT/.djl-cache} OMP_NUM_THREADS=1
./mvnw -B -q -o compile -pl modules/models -am -Dmaven.javadoc.skip=true >/dev/null
./mvnw -B -q -o dependency:build-classpath -pl modules/models -Dmdep.outputFile="$OUT/cp.txt" >/dev/null
CP="$ROOT/modules/models/target/classes:$(cat "$OUT/cp.txt")"
javac -d "$OUT/classes" -cp "$CP" modules/models/src/test/python/peft_roundtrip/SaveForPeft.java
java --add-opens=java.base/java.nio=ALL-UNNAMED -cp "$OUT/classes:$CP" SaveForPeft \
  "$ROOT/modules/models/src/test/resources/lm" "$OUT/adapters" 2>/dev/null
"$PY" modules/models/src/test/python/peft_roundtrip/check_peft_loads.py "$OUT/adapters"

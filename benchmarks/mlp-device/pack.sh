#!/usr/bin/env bash
# Builds .device-carry for benchmarks/mlp-device/run-on-device.sh: everything benchmarks/gpu/pack.sh packs
# (a jlink JRE, the DJL jars, the JNI generation inputs), plus
#   d4j/            the distill4j data, loss and trainer jars (reactor build) and their runtime
#                   dependencies that the engine reaches (log4j-api, jackson, progressbar, jline)
#   mlp-bench.jar   MlpDeviceBench (this folder's src/), compiled with plain javac
#   jni-gen/        stubs regenerated so that jni_extra.cc's native methods are implemented, not stubbed
# Usage (repo root): benchmarks/mlp-device/pack.sh     then run(..., carry=[".device-carry"]).
set -euo pipefail
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$ROOT"
HERE=$ROOT/benchmarks/mlp-device
OUT=$ROOT/.device-carry
M2=${M2_REPO:-$HOME/.m2/repository}
bash benchmarks/gpu/pack.sh
mvn -B -q -pl modules/trainer -am package -DskipTests
D=$OUT/d4j
mkdir -p "$D"
cp modules/data/target/distill4j-data-0.1.0-SNAPSHOT.jar modules/loss/target/distill4j-loss-0.1.0-SNAPSHOT.jar \
  modules/trainer/target/distill4j-trainer-0.1.0-SNAPSHOT.jar "$D/"
for j in org/apache/logging/log4j/log4j-api/2.24.3/log4j-api-2.24.3.jar \
  com/fasterxml/jackson/core/jackson-databind/2.21.2/jackson-databind-2.21.2.jar \
  com/fasterxml/jackson/core/jackson-core/2.21.2/jackson-core-2.21.2.jar \
  com/fasterxml/jackson/core/jackson-annotations/2.21/jackson-annotations-2.21.jar \
  me/tongfei/progressbar/0.10.1/progressbar-0.10.1.jar \
  org/jline/jline-terminal/3.24.1/jline-terminal-3.24.1.jar \
  org/jline/jline-native/3.24.1/jline-native-3.24.1.jar; do
  [ -f "$M2/$j" ] || { echo "missing $M2/$j (run the Maven build once)" >&2; exit 1; }
  cp "$M2/$j" "$D/"
done
CP=$(ls "$OUT"/lib/*.jar "$D"/*.jar | tr '\n' ':')
TMP=$(mktemp -d)
javac --release 17 -cp "$CP" -d "$TMP" $(find "$HERE/src" -name '*.java')
jar --create --file "$OUT/mlp-bench.jar" -C "$TMP" .
rm -rf "$TMP"
G=$OUT/jni-gen
python3 scripts/djl-jni/gen_stubs.py "$G/PyTorchLibrary.javap.txt" "$G" scripts/djl-jni/djl_torch_min.cc \
  "$HERE/jni_extra.cc"
echo "packed into $OUT ($(du -sm "$OUT" | cut -f1) MiB uncompressed)"

#!/usr/bin/env bash
# Builds what a `device` run needs into .device-carry/ (git-ignored, carried with `carry`):
#   .device-carry/jre/     a jlink JRE made from the local JDK 17
#   .device-carry/lib/     DJL api + pytorch-engine + pytorch-jni 2.7.1-0.35.1 and their runtime deps
#                          (commons-compress left out: DJL uses it only to untar downloads)
#                          (NOT the 111 MB pytorch-native-cpu jar: the machine's own libtorch is used)
#   .device-carry/djl-cache/pytorch/2.7.1-cu128-linux-x86_64/0.35.1-libdjl_torch.so
#                          DJL's CUDA JNI, pre-placed where LibUtils.findJniLibrary looks
#   .device-carry/bench.jar  the compiled benchmarks (src/: DjlGpuBench, ProjectGpuBench)
#   .device-carry/project/ the project's module jars (distill4j-loss, -data, -trainer from
#                          $PROJECT_MODULES/*/target, default <repo>/modules; build them first with
#                          `mvn -B -q -DskipTests package -pl modules/trainer -am`) and the third-party jars
#                          the code paths of ProjectGpuBench load (log4j-api, jackson, progressbar)
#   .device-carry/djl_torch_undefined.txt  the JNI's undefined dynamic symbols, checked on the device
#   .device-carry/jni-gen/  inputs to rebuild a minimal DJL JNI against the device's own libtorch
#                          (scripts/djl-jni/build-jni.sh): PyTorchLibrary_decls.h + stubs.cc generated from the
#                          engine jar's PyTorchLibrary.class, and the JDK's jni.h (no JDK there)
# Usage (repo root): benchmarks/gpu/pack.sh      then `run` with carry [".device-carry"].
set -euo pipefail
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
HERE=$ROOT/benchmarks/gpu
OUT=$ROOT/.device-carry
M2=${M2_REPO:-$HOME/.m2/repository}
JARS=(
  "$M2/ai/djl/api/0.35.1/api-0.35.1.jar"
  "$M2/ai/djl/pytorch/pytorch-engine/0.35.1/pytorch-engine-0.35.1.jar"
  "$M2/ai/djl/pytorch/pytorch-jni/2.7.1-0.35.1/pytorch-jni-2.7.1-0.35.1.jar"
  "$M2/com/google/code/gson/gson/2.13.1/gson-2.13.1.jar"
  "$M2/net/java/dev/jna/jna/5.17.0/jna-5.17.0.jar"
  "$M2/org/slf4j/slf4j-api/2.0.17/slf4j-api-2.0.17.jar"
  "$M2/org/slf4j/slf4j-simple/2.0.17/slf4j-simple-2.0.17.jar"
)
PROJECT_MODULES=${PROJECT_MODULES:-$ROOT/modules}
PROJECT_JARS=(
  "$PROJECT_MODULES/loss/target/distill4j-loss-0.1.0-SNAPSHOT.jar"
  "$PROJECT_MODULES/data/target/distill4j-data-0.1.0-SNAPSHOT.jar"
  "$PROJECT_MODULES/trainer/target/distill4j-trainer-0.1.0-SNAPSHOT.jar"
  "$M2/org/apache/logging/log4j/log4j-api/2.24.3/log4j-api-2.24.3.jar"
  "$M2/com/fasterxml/jackson/core/jackson-databind/2.21.2/jackson-databind-2.21.2.jar"
  "$M2/com/fasterxml/jackson/core/jackson-core/2.21.2/jackson-core-2.21.2.jar"
  "$M2/com/fasterxml/jackson/core/jackson-annotations/2.21/jackson-annotations-2.21.jar"
  "$M2/me/tongfei/progressbar/0.10.1/progressbar-0.10.1.jar"
  "$M2/org/jline/jline-terminal/3.24.1/jline-terminal-3.24.1.jar"
)
rm -rf "$OUT"
mkdir -p "$OUT/lib" "$OUT/project" "$OUT/classes"
for j in "${JARS[@]}"; do
  [ -f "$j" ] || { echo "missing $j (run the Maven build once to fetch it)" >&2; exit 1; }
  cp "$j" "$OUT/lib/"
done
for j in "${PROJECT_JARS[@]}"; do
  [ -f "$j" ] || { echo "missing $j (mvn -B -q -DskipTests package -pl modules/trainer -am)" >&2; exit 1; }
  cp "$j" "$OUT/project/"
done
CP=$(ls "$OUT"/lib/*.jar "$OUT"/project/*.jar | tr '\n' ':')

javac --release 17 -cp "$CP" -d "$OUT/classes" $(find "$HERE/src" -name '*.java')
jar --create --file "$OUT/bench.jar" -C "$OUT/classes" .
rm -rf "$OUT/classes"

# JRE: the modules jdeps finds, plus the ones DJL and JNA reach reflectively, minus java.desktop
# (DJL's BufferedImageFactory, ~10 MB, unused here), java.sql (gson's optional adapters) and
# java.compiler (annotation types only), to stay well inside the 64 MiB a call may carry.
JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
MODS=$(jdeps --multi-release 17 --ignore-missing-deps --print-module-deps "$OUT/bench.jar" "$OUT"/lib/*.jar \
  "$OUT"/project/distill4j-*.jar 2>/dev/null | tail -1)
MODS=$(echo "$MODS,java.base,java.logging,java.management,jdk.unsupported,java.net.http,jdk.zipfs" \
  | tr ',' '\n' | grep -v -x -e '' -e java.desktop -e java.sql -e java.compiler | sort -u | paste -sd, -)
echo "jlink modules: $MODS"
jlink --module-path "$JAVA_HOME/jmods" --add-modules "$MODS" --strip-debug --no-header-files --no-man-pages --compress=2 --output "$OUT/jre"
strip --strip-unneeded "$OUT/jre/lib/server/libjvm.so" 2>/dev/null || true

# DJL's CUDA JNI (the jar carries linux-x86_64/cpu and linux-x86_64/cu128), placed in the layout
# LibUtils uses: $DJL_CACHE_DIR/pytorch/<pytorch_version>-<flavor>-<classifier>/<djl_version>-libdjl_torch.so
J=$OUT/djl-cache/pytorch/2.7.1-cu128-linux-x86_64
mkdir -p "$J"
unzip -p "$M2/ai/djl/pytorch/pytorch-jni/2.7.1-0.35.1/pytorch-jni-2.7.1-0.35.1.jar" \
  jnilib/linux-x86_64/cu128/libdjl_torch.so > "$J/0.35.1-libdjl_torch.so"
nm -D --undefined-only "$J/0.35.1-libdjl_torch.so" | awk '{print $2}' | sort -u > "$OUT/djl_torch_undefined.txt"

# minimal JNI inputs: declarations and stubs for all native methods of the 0.35.1 engine
G=$OUT/jni-gen
mkdir -p "$G/jni-include/linux"
unzip -q -o "$M2/ai/djl/pytorch/pytorch-engine/0.35.1/pytorch-engine-0.35.1.jar" \
  ai/djl/pytorch/jni/PyTorchLibrary.class -d "$G/tmp"
javap -p -s -cp "$G/tmp" ai.djl.pytorch.jni.PyTorchLibrary > "$G/PyTorchLibrary.javap.txt"
rm -rf "$G/tmp"
python3 "$HERE/../../scripts/djl-jni/gen_stubs.py" "$G/PyTorchLibrary.javap.txt" "$G" "$HERE/../../scripts/djl-jni/djl_torch_min.cc" \
  "$HERE/../../scripts/djl-jni/djl_torch_project.cc"
cp "$JAVA_HOME/include/jni.h" "$G/jni-include/"
cp "$JAVA_HOME/include/linux/jni_md.h" "$G/jni-include/linux/"

du -sh "$OUT" "$OUT"/* | sort -h
echo "packed into $OUT ($(du -sm "$OUT" | cut -f1) MiB uncompressed)"

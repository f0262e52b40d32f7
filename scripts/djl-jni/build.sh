#!/usr/bin/env bash
# Builds a DJL PyTorch JNI (libdjl_torch.so) against a local libtorch, such as the one inside a
# `pip install torch` wheel, and installs it where DJL 0.35.1 looks for it, so that distill4j runs on that
# libtorch: a CUDA one (offline, or a PyTorch other than DJL's 2.7.1) or a CPU one.
#
# Why: DJL's own JNI (pytorch-jni 2.7.1-0.35.1) is compiled against libtorch 2.7.1 and inlines its header
# code; against another libtorch it fails at the first tensor (benchmarks/gpu/README.md, "Stock JNI").
# What is built: the JNI of this folder (djl_torch_min.cc + djl_torch_project.cc: the 174 of DJL's 265 native
# methods that DJL's training path and every distill4j module reach; the others throw
# UnsupportedOperationException naming themselves), compiled against the chosen torch's headers.
#
# Usage (repository root):  scripts/djl-jni/build.sh [PYTHON]
#   PYTHON   a python3 with torch installed (default: python3); its torch/lib is the libtorch used
# Needs: g++ (C++17), a JDK (javap, jni.h), the DJL engine jar (Maven's local repository after a build, or
# modules/cli/target/lib). Prints the two variables to export; then run e.g.
#   ./distill4j --gpu demo --device gpu        (CUDA libtorch)
#   ./distill4j --gpu demo --device cpu        (CPU libtorch, as tested here)
# Environment: DJL_CACHE_DIR (default .djl-cache of the repository), ENGINE_JAR (the pytorch-engine jar).
set -euo pipefail
PY=${1:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DJL_CACHE_DIR=${DJL_CACHE_DIR:-$ROOT/.djl-cache}
DJL_VERSION=$(sed -n 's:.*<djl.version>\(.*\)</djl.version>.*:\1:p' "$ROOT/pom.xml" | head -1)
TORCH_DJL=$(sed -n 's:.*<pytorch.native.version>\(.*\)</pytorch.native.version>.*:\1:p' "$ROOT/pom.xml" | head -1)

ENGINE_JAR=${ENGINE_JAR:-}
for j in "$HOME/.m2/repository/ai/djl/pytorch/pytorch-engine/$DJL_VERSION/pytorch-engine-$DJL_VERSION.jar" \
         "$ROOT/modules/cli/target/lib/pytorch-engine-$DJL_VERSION.jar"; do
  if [ -z "$ENGINE_JAR" ] && [ -f "$j" ]; then ENGINE_JAR=$j; fi
done
[ -f "$ENGINE_JAR" ] || { echo "build.sh: pytorch-engine-$DJL_VERSION.jar not found; build the project first (mvn -B -DskipTests -pl modules/cli -am package) or set ENGINE_JAR" >&2; exit 2; }
command -v g++ >/dev/null || { echo "build.sh: g++ is required" >&2; exit 2; }
JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
[ -f "$JAVA_HOME/include/jni.h" ] || { echo "build.sh: no JDK with include/jni.h (set JAVA_HOME)" >&2; exit 2; }

read -r TORCH_DIR TORCH_VERSION < <("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__), torch.__version__)')
# the flavour names the JNI's folder in DJL's cache; "cu" in it makes DJL load the CUDA libraries in order
case "$TORCH_VERSION" in
  *+cu*) FLAVOR="torch${TORCH_VERSION%%+*}-cu${TORCH_VERSION##*+cu}" ;;
  *+cpu) FLAVOR="torch${TORCH_VERSION%%+*}-cpu" ;;
  *) if [ -f "$TORCH_DIR/lib/libtorch_cuda.so" ]; then FLAVOR="torch${TORCH_VERSION%%+*}-cuda"; else FLAVOR="torch${TORCH_VERSION%%+*}-cpu"; fi ;;
esac

GEN=$(mktemp -d)
trap 'rm -rf "$GEN"' EXIT
mkdir -p "$GEN/jni-include/linux" "$GEN/classes"
unzip -q -o "$ENGINE_JAR" ai/djl/pytorch/jni/PyTorchLibrary.class -d "$GEN/classes"
"$JAVA_HOME/bin/javap" -p -s -cp "$GEN/classes" ai.djl.pytorch.jni.PyTorchLibrary > "$GEN/PyTorchLibrary.javap.txt"
python3 "$HERE/gen_stubs.py" "$GEN/PyTorchLibrary.javap.txt" "$GEN" "$HERE/djl_torch_min.cc" "$HERE/djl_torch_project.cc"
cp "$JAVA_HOME/include/jni.h" "$GEN/jni-include/"
cp "$JAVA_HOME/include/linux/jni_md.h" "$GEN/jni-include/linux/"

OUT="$DJL_CACHE_DIR/pytorch/$TORCH_DJL-$FLAVOR-linux-x86_64/$DJL_VERSION-libdjl_torch.so"
bash "$HERE/build-jni.sh" "$PY" "$GEN" "$OUT"
echo
echo "Installed for torch $TORCH_VERSION ($TORCH_DIR). Run distill4j on it with:"
echo "  export PYTORCH_LIBRARY_PATH=$TORCH_DIR/lib PYTORCH_FLAVOR=$FLAVOR"
echo "  ./distill4j --gpu <command> --device gpu     # or --device cpu for a CPU torch"

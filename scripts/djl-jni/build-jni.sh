#!/usr/bin/env bash
# Compiles the minimal DJL JNI (djl_torch_min.cc + djl_torch_project.cc + generated stubs.cc) against the libtorch of a
# Python PyTorch install. Needs g++ and the torch package's headers; no JDK (jni.h travels in
# GEN/jni-include). Usage:
#   build-jni.sh PYTHON GEN_DIR OUT_SO
#     PYTHON   the python3 whose torch to build against
#     GEN_DIR  folder with PyTorchLibrary_decls.h, stubs.cc and jni-include/ (made by pack.sh)
#     OUT_SO   where to write the library
set -euo pipefail
PY=$1
GEN=$2
OUT_SO=$3
HERE=$(cd "$(dirname "$0")" && pwd)
read -r TORCH ABI CUDA < <("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__), int(torch._C._GLIBCXX_USE_CXX11_ABI), int(torch.cuda.is_available() or os.path.exists(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cuda.so"))))')
echo "building against $TORCH (cxx11 abi $ABI, cuda libs $CUDA)"
LIBS=(-ltorch -ltorch_cpu -lc10)
if [ "$CUDA" = 1 ]; then LIBS+=(-ltorch_cuda -lc10_cuda); fi
CXXFLAGS=(-O2 -fPIC -std=c++17 -D_GLIBCXX_USE_CXX11_ABI="$ABI" -w
  -I"$GEN" -I"$GEN/jni-include" -I"$GEN/jni-include/linux"
  -isystem "$TORCH/include" -isystem "$TORCH/include/torch/csrc/api/include")
TMP=$(mktemp -d)
g++ "${CXXFLAGS[@]}" -c "$HERE/djl_torch_min.cc" -o "$TMP/min.o" & P1=$!
g++ "${CXXFLAGS[@]}" -c "$HERE/djl_torch_project.cc" -o "$TMP/project.o" & P3=$!
g++ "${CXXFLAGS[@]}" -c "$GEN/stubs.cc" -o "$TMP/stubs.o" & P2=$!
wait "$P1"; wait "$P2"; wait "$P3"
mkdir -p "$(dirname "$OUT_SO")"
g++ -shared -o "$OUT_SO" "$TMP/min.o" "$TMP/project.o" "$TMP/stubs.o" -L"$TORCH/lib" -Wl,--no-as-needed "${LIBS[@]}" \
  -Wl,-rpath,"$TORCH/lib"
rm -rf "$TMP"
echo "built $OUT_SO"

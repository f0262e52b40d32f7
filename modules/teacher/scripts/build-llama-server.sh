#!/usr/bin/env bash
# Builds llama.cpp's OpenAI-compatible llama-server offline and caches it.
#
# Source: the npm package node-llama-cpp ships llama.cpp's git history as llama/gitRelease.bundle.
# The binary lands in <repo>/.cache/llama.cpp/<commit>/bin/llama-server (git-ignored); the source tree
# stays next to it in src/ (its gguf-py is usable for inspecting models). Idempotent: when a complete
# build for the pinned package version exists, the script only prints its path.
#
# Environment:
#   NODE_LLAMA_CPP_VERSION  npm version of node-llama-cpp to take the source from (default 3.22.1)
#   DISTILL4J_LLAMA_CACHE   cache folder (default <repo>/.cache/llama.cpp)
#   BUILD_JOBS              parallel compile jobs (default 2)
#
# Resuming: the work folder <cache>/.work-<version> is kept until the build succeeds, so running the script again
# after a failure or an interruption (Ctrl-C, a killed session) continues where it stopped: the npm pack, the clone
# and the cmake configuration are reused and the compile is incremental. ccache is used when installed (set
# CCACHE_DIR to share it). The compile shows its own progress ([n/m] lines).
#
# Output: the last line of stdout is the absolute path of llama-server.
set -euo pipefail

VERSION="${NODE_LLAMA_CPP_VERSION:-3.22.1}"
JOBS="${BUILD_JOBS:-2}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../../.." && pwd)"
CACHE="${DISTILL4J_LLAMA_CACHE:-$REPO_ROOT/.cache/llama.cpp}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"

# A complete build is recorded as <cache>/node-llama-cpp-<version>.path -> the binary's path.
MARKER="$CACHE/node-llama-cpp-$VERSION.path"
if [[ -f "$MARKER" ]]; then
  BIN="$(cat "$MARKER")"
  if [[ -x "$BIN" ]]; then
    echo "llama-server already built: $BIN" >&2
    echo "$BIN"
    exit 0
  fi
fi

for tool in npm git cmake tar; do
  command -v "$tool" >/dev/null || { echo "build-llama-server.sh: '$tool' is required but not on PATH" >&2; exit 1; }
done

# Kept until success: a failed or interrupted build resumes from here.
WORK="$CACHE/.work-$VERSION"
mkdir -p "$WORK"
if [[ -f "$WORK/.started" ]]; then
  echo "resuming the build in $WORK (started $(cat "$WORK/.started"))" >&2
else
  date -u +%FT%TZ > "$WORK/.started"
fi
START=$(date +%s)

echo "[1/4] npm pack node-llama-cpp@$VERSION" >&2
BUNDLE="$WORK/package/llama/gitRelease.bundle"
if [[ ! -f "$BUNDLE.done" ]]; then
  rm -f "$WORK"/node-llama-cpp-*.tgz
  (cd "$WORK" && npm pack --silent "node-llama-cpp@$VERSION" >/dev/null)
  TARBALL="$(ls "$WORK"/node-llama-cpp-*.tgz)"
  tar -xzf "$TARBALL" -C "$WORK" package/llama/gitRelease.bundle
  [[ -f "$BUNDLE" ]] || { echo "build-llama-server.sh: $TARBALL has no llama/gitRelease.bundle" >&2; exit 1; }
  touch "$BUNDLE.done"
else
  echo "      (reused)" >&2
fi

echo "[2/4] git clone from the bundle" >&2
if ! git -C "$WORK/src" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  rm -rf "$WORK/src"
  git -c advice.detachedHead=false clone --quiet "$BUNDLE" "$WORK/src"
else
  echo "      (reused)" >&2
fi
COMMIT="$(git -C "$WORK/src" rev-parse HEAD)"
DEST="$CACHE/$COMMIT"
if [[ -x "$DEST/bin/llama-server" ]]; then
  echo "$DEST/bin/llama-server" > "$MARKER.tmp" && mv "$MARKER.tmp" "$MARKER"
  rm -rf "$WORK"
  echo "llama-server for $COMMIT already built: $DEST/bin/llama-server" >&2
  echo "$DEST/bin/llama-server"
  exit 0
fi

echo "[3/4] cmake configure (commit $COMMIT)" >&2
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
if [[ -f "$WORK/build/CMakeCache.txt" ]]; then
  GEN=()   # a configured build keeps its generator
fi
LAUNCH=()
if command -v ccache >/dev/null; then
  echo "      using ccache ($(ccache --version | head -1))" >&2
  LAUNCH=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$WORK/src" -B "$WORK/build" "${GEN[@]}" "${LAUNCH[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_CURL=OFF -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON >&2

echo "[4/4] build llama-server with $JOBS jobs" >&2
cmake --build "$WORK/build" --target llama-server -j "$JOBS" >&2

# Publish atomically: assemble in the work dir, then rename into place.
mkdir -p "$WORK/out/bin"
cp "$WORK/build/bin/llama-server" "$WORK/out/bin/"
mv "$WORK/src" "$WORK/out/src"
echo "node-llama-cpp $VERSION, llama.cpp $COMMIT, built $(date -u +%FT%TZ) in $(( $(date +%s) - START )) s" > "$WORK/out/BUILD_INFO"
rm -rf "$DEST"
mv "$WORK/out" "$DEST"
echo "$DEST/bin/llama-server" > "$MARKER.tmp" && mv "$MARKER.tmp" "$MARKER"
rm -rf "$WORK"   # only now: success
echo "built llama-server in $(( $(date +%s) - START )) s: $DEST/bin/llama-server" >&2
echo "$DEST/bin/llama-server"

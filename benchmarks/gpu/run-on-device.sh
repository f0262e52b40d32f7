#!/usr/bin/env bash
# Runs on the lent GPU machine (CUDA + Python PyTorch, no Java, no network), from the repo root,
# with .device-carry/ carried (made by benchmarks/gpu/pack.sh). The `run` call:
#   run(command="bash benchmarks/gpu/run-on-device.sh", carry=[".device-carry"])
# Steps, each logged to $OUT (at most 8 files come back):
#   1. machine facts: date, GPU, driver, torch version, libtorch folder, compiler
#   2. stock DJL CUDA JNI (pytorch-jni 2.7.1-0.35.1, linux-x86_64/cu128/libdjl_torch.so): which of
#      its undefined symbols the machine's libtorch lacks (nm), then a real DJL run with it
#   3. rebuild the minimal DJL JNI (scripts/djl-jni) against the machine's libtorch
#   4. DJL training steps on Device.gpu(0) through that JNI (MLP, GPT V=8192 and V=50257)
#   5. the PyTorch twin (twin.py) on the same GPU, same shapes
#   4b. the project's own students and training code (ProjectGpuBench: distill4j's TrainingSession,
#      StudentTrainer, CausalLm + AnswerLoss + TrainingSession, LmFineTuner) on gpu(0) -> project.jsonl
#   6. summary table (summarize.py): ms/step, DJL/PyTorch ratio, model FLOPs utilisation
# Env: BENCH_DEVICE=cpu runs a quick local dry run of steps 3-4 on the CPU (no twin), for testing
# the script where there is no GPU; PY overrides python3; STEPS/REPEATS/WARMUP shorten the runs;
# ROUNDS=N repeats steps 4-5 N times in the same machine (even rounds run the twin first), writing
# djl.rK.jsonl / twin.rK.jsonl / project.rK.jsonl; SKIP_STOCK=1 skips step 2b (stock-jni.log);
# SKIP_JNI_BUILD=1 reuses a JNI built by an earlier run in the same machine; PROJECT_TIMEOUT and
# TWIN_TIMEOUT (seconds, default 480 and 400) bound steps 4b and 5;
# SKIP_DJL=1 skips step 4 (DjlGpuBench and its twins); SKIP_PROJECT=1 skips step 4b (and the project
# twins); PROJECT_MODELS (default all; e.g. mlp,gpt,finetune) picks ProjectGpuBench's rows.
# The JNI build log goes into device.log (at most 8 files come back: device.log, summary.md and three
# JSON-lines files per round).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
C=$ROOT/.device-carry
OUT=${OUT:-/tmp/bench-out}
mkdir -p "$OUT"
PY=${PY:-python3}
PROJECT_ARGS=${PROJECT_ARGS:-}   # extra ProjectGpuBench arguments, e.g. "--gpt-batch 2 --ctx 32" for a CPU dry run
DEV=${BENCH_DEVICE:-gpu}
STEPS=${STEPS:-50}
REPEATS=${REPEATS:-5}
WARMUP=${WARMUP:-20}
VOCABS=${VOCABS:-8192,50257}
ROUNDS=${ROUNDS:-1}
SKIP_STOCK=${SKIP_STOCK:-0}
SKIP_DJL=${SKIP_DJL:-0}
SKIP_PROJECT=${SKIP_PROJECT:-0}
PROJECT_MODELS=${PROJECT_MODELS:-all}
LOG=$OUT/device.log
exec > >(tee -a "$LOG") 2>&1

echo "== 1. machine"
date -u +"%Y-%m-%dT%H:%M:%SZ"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null || echo "no nvidia-smi"
TORCH_LIB=$("$PY" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI, "gpu", torch.cuda.is_available() and torch.cuda.get_device_name(0))'
echo "libtorch: $TORCH_LIB"
ls "$TORCH_LIB"
g++ --version | head -1
uname -r

echo "== 2a. stock JNI: undefined symbols the machine's libtorch does not define"
SYM=$OUT/symbols.txt
{
  for f in libc10.so libc10_cuda.so libtorch.so libtorch_cpu.so libtorch_cuda.so; do
    [ -f "$TORCH_LIB/$f" ] && nm -D --defined-only "$TORCH_LIB/$f" | awk '{print $3}'
  done
} | sed 's/@.*//' | sort -u > /tmp/torch_defined.txt
sed 's/@.*//' "$C/djl_torch_undefined.txt" | sort -u | comm -23 - /tmp/torch_defined.txt \
  | grep -E '^_Z(N|NK|T[IVS]N?)?[0-9]+(c10|at|torch|caffe2)' > /tmp/missing.txt || true
{
  echo "# stock DJL JNI 2.7.1-0.35.1 (cu128) vs $TORCH_LIB"
  echo "# undefined symbols in the JNI: $(wc -l < "$C/djl_torch_undefined.txt"); torch/c10 ones not defined by the machine's libtorch: $(wc -l < /tmp/missing.txt)"
  while read -r s; do echo "$s  $(echo "$s" | c++filt)"; done < /tmp/missing.txt
} > "$SYM"
cat "$SYM"

JAVA=$C/jre/bin/java
CP="$C/bench.jar:$C/lib/*:$C/project/*"
# JNA (DJL's CudaUtils) looks for an unversioned libcudart.so; pip's CUDA runtime ships only .so.NN
JNA_DIR=/tmp/jna-cudart
mkdir -p "$JNA_DIR"
CUDART=$("$PY" - <<'EOF'
import glob, os, torch
base = os.path.dirname(os.path.dirname(torch.__file__))
c = sorted(glob.glob(os.path.join(base, "nvidia", "**", "libcudart.so*"), recursive=True))
print(c[0] if c else "")
EOF
)
[ -n "$CUDART" ] && ln -sf "$CUDART" "$JNA_DIR/libcudart.so" && echo "cudart for JNA: $CUDART"
JOPTS=(-Djna.library.path="$JNA_DIR" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
  -Dorg.slf4j.simpleLogger.log.ai.djl.pytorch.jni.LibUtils=info -Dai.djl.offline=true)
export DJL_OFFLINE=true OPT_OUT_TRACKING=true PYTORCH_LIBRARY_PATH="$TORCH_LIB" PYTORCH_FLAVOR=cu128
[ "$DEV" = cpu ] && export PYTORCH_FLAVOR=cpu
JNI_DIR_NAME=2.7.1-$PYTORCH_FLAVOR-linux-x86_64

if [ "$DEV" = gpu ] && [ "$SKIP_STOCK" != 1 ]; then
  echo "== 2b. stock JNI: DJL MLP on gpu(0) (timeout 180 s)"
  export DJL_CACHE_DIR=/tmp/djl-stock
  rm -rf "$DJL_CACHE_DIR"; mkdir -p "$DJL_CACHE_DIR/pytorch"
  cp -r "$C/djl-cache/pytorch/2.7.1-cu128-linux-x86_64" "$DJL_CACHE_DIR/pytorch/"
  timeout 180 "$JAVA" "${JOPTS[@]}" -XX:ErrorFile=/tmp/hs_err_stock_%p.log -cp "$CP" \
    io.distill4j.bench.gpu.DjlGpuBench --device gpu --model mlp --warmup 3 --repeats 1 --steps 5 \
    > "$OUT/stock-jni.log" 2>&1
  echo "exit code: $?" >> "$OUT/stock-jni.log"
  for f in /tmp/hs_err_stock_*.log; do
    [ -f "$f" ] && { echo "---- $f (head)"; head -60 "$f"; } >> "$OUT/stock-jni.log"
  done
  cat "$OUT/stock-jni.log" | head -120
fi

echo "== 3. build the minimal DJL JNI against $TORCH_LIB"
export DJL_CACHE_DIR=/tmp/djl-min
SO=$DJL_CACHE_DIR/pytorch/$JNI_DIR_NAME/0.35.1-libdjl_torch.so
if [ "${SKIP_JNI_BUILD:-0}" = 1 ] && [ -f "$SO" ]; then
  echo "reusing $SO (SKIP_JNI_BUILD=1)"; RC=0
else
  rm -rf "$DJL_CACHE_DIR"
  time bash scripts/djl-jni/build-jni.sh "$PY" "$C/jni-gen" "$SO" > /tmp/build-jni.log 2>&1
  RC=$?
  cat /tmp/build-jni.log
fi
[ $RC -eq 0 ] || { echo "JNI build failed ($RC)"; exit 1; }

run_djl() {
  echo "== 4. DJL on $DEV through the rebuilt JNI -> $1"
  timeout 420 "$JAVA" "${JOPTS[@]}" -XX:ErrorFile="$OUT/hs_err_min_%p.log" -cp "$CP" \
    io.distill4j.bench.gpu.DjlGpuBench --device "$DEV" --model all --vocab "$VOCABS" \
    --warmup "$WARMUP" --repeats "$REPEATS" --steps "$STEPS" > "$1"
  echo "djl exit code: $?"
}
run_project() {
  echo "== 4b. the project's students and training code on $DEV through the rebuilt JNI -> $1"
  timeout "${PROJECT_TIMEOUT:-480}" "$JAVA" "${JOPTS[@]}" -Xmx24g -XX:ErrorFile="$OUT/hs_err_proj_%p.log" -cp "$CP" \
    io.distill4j.bench.gpu.ProjectGpuBench --device "$DEV" --model "$PROJECT_MODELS" --vocab "$VOCABS" \
    --warmup "$WARMUP" --repeats "$REPEATS" --steps "$STEPS" $PROJECT_ARGS > "$1"
  echo "project exit code: $?"
}
run_twin() {
  echo "== 5. PyTorch twin -> $1"
  TWIN_FLAGS=()
  [ "$SKIP_PROJECT" != 1 ] && TWIN_FLAGS+=(--project)
  [ "$SKIP_DJL" = 1 ] && TWIN_FLAGS+=(--no-base)
  PYTHONUNBUFFERED=1 timeout "${TWIN_TIMEOUT:-400}" "$PY" benchmarks/gpu/twin.py --vocab "$VOCABS" --warmup "$WARMUP" \
    --repeats "$REPEATS" --steps "$STEPS" "${TWIN_FLAGS[@]}" > "$1"
  echo "twin exit code: $?"
}
run_java() {
  [ "$SKIP_DJL" = 1 ] || run_djl "$1"
  [ "$SKIP_PROJECT" = 1 ] || run_project "$2"
}
for ((r = 1; r <= ROUNDS; r++)); do
  if [ "$ROUNDS" = 1 ]; then SUF=; else SUF=.r$r; fi
  DJ=$OUT/djl$SUF.jsonl; TW=$OUT/twin$SUF.jsonl; PJ=$OUT/project$SUF.jsonl
  if [ "$DEV" != gpu ]; then
    run_java "$DJ" "$PJ"
  elif (( r % 2 == 1 )); then
    run_java "$DJ" "$PJ"; run_twin "$TW"
  else
    run_twin "$TW"; run_java "$DJ" "$PJ"
  fi
  if [ "$DEV" = gpu ]; then
    echo "== 6. summary (round $r)"
    { [ "$ROUNDS" = 1 ] || echo "### round $r"; "$PY" benchmarks/gpu/summarize.py "$DJ" "$TW" "$PJ"; echo; } >> "$OUT/summary.md"
  fi
done
if [ -f "$OUT/summary.md" ]; then cat "$OUT/summary.md"; fi

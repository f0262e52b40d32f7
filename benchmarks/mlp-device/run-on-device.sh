#!/usr/bin/env bash
# Runs on the lent GPU machine (16 CPU cores, CUDA, Python PyTorch; no Java, no network) from the repo root
# with .device-carry/ carried (made by benchmarks/mlp-device/pack.sh):
#   run(command="bash benchmarks/mlp-device/run-on-device.sh", carry=[".device-carry"])
# 1. machine facts; 2. rebuilds DJL's JNI against the machine's libtorch (scripts/djl-jni/djl_torch_min.cc
# plus jni_extra.cc); 3. the MLP training step (784-512-256-10, batch 256) through the distill4j engine and
# through PyTorch eager (benchmarks/pytorch/mlp_step.py) on the idle CPU, both pinned to the same cores with
# the same thread count, alternating which runs first; 4. fp32 vs fp16 training of the same MLP with the
# TrainingEngine on gpu(0); 5. summary.md with the ratios.
# Env: THREADS ("1 2 4 8"), ROUNDS (2), WARMUP (4 s), I (5 windows), SEC (2 s each), GPU (1; 0 skips step 4),
# PY (python3), OUT (/tmp/bench-out), SKIP_JNI_BUILD=1 (reuse the JNI built by an earlier call).
# Locally, without a GPU (the JNI then builds against the venv's CPU torch, the twin's own libtorch):
#   OUT=/tmp/mlpdev PY=$PWD/.venv/bin/python GPU=0 FLAVOR=cpu bash benchmarks/mlp-device/run-on-device.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
C=$ROOT/.device-carry
OUT=${OUT:-/tmp/bench-out}
mkdir -p "$OUT"
PY=${PY:-python3}
THREADS=${THREADS:-"1 2 4 8"}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-4}
I=${I:-5}
SEC=${SEC:-2}
GPU=${GPU:-1}
FLAVOR=${FLAVOR:-cu128}
exec > >(tee -a "$OUT/device.log") 2>&1

echo "== 1. machine"
date -u +"%Y-%m-%dT%H:%M:%SZ"
nproc; grep -m1 'model name' /proc/cpuinfo; cat /proc/loadavg
nvidia-smi --query-gpu=name,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
TORCH=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
"$PY" -c 'import torch; print("torch", torch.__version__, "threads", torch.get_num_threads(), "cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI)'

echo "== 2. build the DJL JNI against $TORCH"
export DJL_CACHE_DIR=/tmp/djl-mlp DJL_OFFLINE=true OPT_OUT_TRACKING=true PYTORCH_LIBRARY_PATH=$TORCH/lib PYTORCH_FLAVOR=$FLAVOR
SO=$DJL_CACHE_DIR/pytorch/2.7.1-$FLAVOR-linux-x86_64/0.35.1-libdjl_torch.so
mkdir -p "$(dirname "$SO")"
ABI=$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
LIBS=(-ltorch -ltorch_cpu -lc10)
[ -f "$TORCH/lib/libtorch_cuda.so" ] && LIBS+=(-ltorch_cuda -lc10_cuda)
G=$C/jni-gen
FLAGS=(-O2 -fPIC -std=c++17 -D_GLIBCXX_USE_CXX11_ABI="$ABI" -w -I"$G" -I"$G/jni-include" -I"$G/jni-include/linux"
  -isystem "$TORCH/include" -isystem "$TORCH/include/torch/csrc/api/include")
T=$(mktemp -d)
[ -n "${SKIP_JNI_BUILD:-}" ] && [ -f "$SO" ] && echo "reusing $SO" || time {
  g++ "${FLAGS[@]}" -c scripts/djl-jni/djl_torch_min.cc -o "$T/min.o" & P1=$!
  g++ "${FLAGS[@]}" -c benchmarks/mlp-device/jni_extra.cc -o "$T/extra.o" & P2=$!
  g++ "${FLAGS[@]}" -c "$G/stubs.cc" -o "$T/stubs.o" & P3=$!
  wait $P1 && wait $P2 && wait $P3 && g++ -shared -o "$SO" "$T/min.o" "$T/extra.o" "$T/stubs.o" -L"$TORCH/lib" \
    -Wl,--no-as-needed "${LIBS[@]}" -Wl,-rpath,"$TORCH/lib"
} || { echo "JNI build failed"; exit 1; }
ls -la "$SO"

JAVA=$C/jre/bin/java
CP="$C/mlp-bench.jar:$C/lib/*:$C/d4j/*"
JOPTS=(-Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dai.djl.offline=true -Xmx4g)
NCPU=$(nproc)
djl() {  # threads round
  taskset -c 0-$(($1 - 1)) "$JAVA" "${JOPTS[@]}" -cp "$CP" io.distill4j.bench.device.MlpDeviceBench --mode step \
    --threads "$1" --warmup "$WARMUP" --iterations "$I" --seconds "$SEC" > "$OUT/djl-r$2-t$1.json"
  echo "djl  t=$1 r=$2 rc=$? $(cat "$OUT/djl-r$2-t$1.json")"
}
twin() {  # threads round
  taskset -c 0-$(($1 - 1)) "$PY" benchmarks/pytorch/mlp_step.py --threads "$1" --warmup "$WARMUP" --iterations "$I" \
    --seconds "$SEC" > "$OUT/torch-r$2-t$1.json"
  echo "twin t=$1 r=$2 rc=$? $(cat "$OUT/torch-r$2-t$1.json")"
}
echo "== 3. MLP step on the CPU (threads: $THREADS of $NCPU cores, $ROUNDS rounds)"
for r in $(seq 1 "$ROUNDS"); do
  for t in $THREADS; do
    [ "$t" -le "$NCPU" ] || continue
    if (( r % 2 )); then djl "$t" "$r"; twin "$t" "$r"; else twin "$t" "$r"; djl "$t" "$r"; fi
  done
done

if [ "$GPU" = 1 ]; then
  echo "== 4. fp32 and fp16 training on gpu(0)"
  timeout 300 "$JAVA" "${JOPTS[@]}" -cp "$CP" io.distill4j.bench.device.MlpDeviceBench --mode fp16 --epochs 3 \
    > "$OUT/fp16.jsonl"
  echo "fp16 rc=$?"; cat "$OUT/fp16.jsonl"
fi

echo "== 5. summary"
"$PY" - "$OUT" <<'PYEOF' | tee "$OUT/summary.md"
import glob, json, os, re, statistics, sys
out = sys.argv[1]
d = {}
for f in glob.glob(os.path.join(out, "*-r*-t*.json")):
    side, r, t = re.search(r"(djl|torch)-r(\d+)-t(\d+)\.json", f).groups()
    try:
        j = json.load(open(f))
        d.setdefault(int(t), {}).setdefault(int(r), {})[side] = (j["ms_per_step"], j.get("cpu_ms_per_step", float("nan")))
    except (ValueError, KeyError):
        pass
print("| threads | round | distill4j engine ms/step (cpu ms) | PyTorch eager ms/step (cpu ms) | engine / PyTorch wall |"
      " engine / PyTorch cpu |")
print("|---:|---:|---:|---:|---:|---:|")
for t in sorted(d):
    ratios = []
    for r in sorted(d[t]):
        x = d[t][r]
        if "djl" in x and "torch" in x:
            (dw, dc), (pw, pc) = x["djl"], x["torch"]
            ratios.append((dw / pw, dc / pc))
            print(f"| {t} | {r} | {dw:.2f} ({dc:.2f}) | {pw:.2f} ({pc:.2f}) | {dw / pw:.3f} | {dc / pc:.3f} |")
    if ratios:
        print(f"| {t} | median | | | **{statistics.median(x[0] for x in ratios):.3f}** |"
              f" **{statistics.median(x[1] for x in ratios):.3f}** |")
PYEOF

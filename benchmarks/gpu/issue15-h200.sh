#!/usr/bin/env bash
# Issue 15, item 3: the project's GPT-2 student step on the lent GPU (an H200 with its own PyTorch), in ONE
# device call of at most ~8 minutes, against the PyTorch twin of the same step. Prepared and dry-run on the
# CPU (see benchmarks/gpu/README.md, "Issue 15"); not yet run on a GPU.
#
# Here, first (needs JDK 17 with jmods, python3, the project built):
#   mvn -B -q -DskipTests -pl modules/trainer -am package && benchmarks/gpu/pack.sh
# Then one call of the device tool:
#   run(command="bash benchmarks/gpu/issue15-h200.sh", carry=[".device-carry"], timeout_s=540)
#
# What it runs (benchmarks/gpu/run-on-device.sh with these settings):
#   - rebuilds the project's DJL JNI (scripts/djl-jni) against the machine's own libtorch (~20 s on the H100);
#   - ProjectGpuBench --model gpt,finetune on gpu(0): the GPT-2 preset (4 x 256, context 256, batch 16) at
#     V = 8,192 and 50,257: CausalLm + AnswerLoss + TrainingSession step in fp32 and in fp16 mixed precision
#     (Precision.FP16), fp32 forward+backward alone; LmFineTuner.train SFT and top-16 token KD, fp32 and fp16;
#   - twin.py --project --no-base: the same steps in PyTorch (fp16 = autocast float16 + GradScaler);
#   - summary.md: ms/step, project / PyTorch (target: at most 1.2), MFU against the H200's dense peaks
#     (FP32 67 TFLOP/s, FP16 989 TFLOP/s; summarize.py) and against the measured 8192^3 matmul.
# Knobs as in run-on-device.sh (STEPS, REPEATS, WARMUP, ROUNDS); the defaults below fit 8 minutes with the
# machine's start on the H100 (run4 took 230 s with more rows).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export SKIP_STOCK=${SKIP_STOCK:-1} SKIP_DJL=${SKIP_DJL:-1} PROJECT_MODELS=${PROJECT_MODELS:-gpt,finetune}
export STEPS=${STEPS:-30} REPEATS=${REPEATS:-3} WARMUP=${WARMUP:-10} VOCABS=${VOCABS:-8192,50257}
# hard limits per half, so that a stuck row cannot eat the call: 4 + 2.5 minutes
export PROJECT_TIMEOUT=${PROJECT_TIMEOUT:-240} TWIN_TIMEOUT=${TWIN_TIMEOUT:-150}
exec bash "$HERE/run-on-device.sh"

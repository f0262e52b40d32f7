#!/usr/bin/env bash
# Issue 14, item 5: `distill4j sample` on the local engine against `distill4j sample --engine spark://...` with 1 and 2
# executors of one core on a standalone master and worker on 127.0.0.1, in the same session, alternating the sides
# (local, 1 executor, 2 executors, then again) for ROUNDS rounds; each run samples the whole job into a fresh cache.
# Also Spark's start-up (driver context, as the engine logs it), the executors' start (from the job's submission to
# its first task, Spark's event log), the tasks' own sampling throughput (items over the span from the first task's
# launch to the last task's end, event log) and the executors' peak resident memory (VmHWM, polled from /proc every
# second); the executors get the launcher's heap settings (-Xmx4g, -XX:MaxNewSize=128m) as the local run does; per
# Spark run, the steady rate of the tasks after each executor's first (benchmarks/spark/task_rates.py on
# the run's event log, kept in OUT/event-logs/). Prints one line per run and a summary of medians; raw lines in
# OUT/runs.tsv, OUT/task-rates.txt.
#
# Usage: benchmarks/spark/run-spark-bench.sh [OUT_DIR] [ROUNDS] [K]   (default /tmp/distill4j-spark-bench, 3, 1024)
# Job: scikit-learn digits (1,438 training items), MC-dropout teacher 64-128-10 (trained once, not timed),
# batchSize 256, rowsPerShard 256 (6 shards), k samples per item. Needs the launcher's build with modules/spark
# (./distill4j builds it on the first `--engine` run). OMP_NUM_THREADS=1 everywhere.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-/tmp/distill4j-spark-bench}"
ROUNDS="${2:-3}"
K="${3:-1024}"
export OMP_NUM_THREADS=1 DJL_CACHE_DIR="${DJL_CACHE_DIR:-/work/.djl-cache}" SPARK_LOCAL_IP=127.0.0.1
unset SPARK_HOME
mkdir -p "$OUT"
RUNS="$OUT/runs.tsv"
printf 'round\tside\twall_s\tsampling_s\titems_per_s\tspark_start_s\texecutor_peak_rss_mib\tfirst_task_s\ttasks_span_s\n' > "$RUNS"

job_yaml() {   # $1 cache, $2 extra teacher line
  cat <<YAML
cache: $1
k: $K
seed: 0
batchSize: 256
rowsPerShard: 256
data: {dataset: digits, dir: $ROOT/datasets/sklearn, scale: 0.0625, testFraction: 0.2, splitSeed: 0, sample: train}
teacher:
  type: mc-dropout
  model: {hidden: [128], dropout: 0.2}
  train: {epochs: 20, batchSize: 64, learningRate: 0.01, weightDecay: 0.0001, seed: 0}
$2
YAML
}

# the teacher, trained once; and the launcher's build with Spark (not timed)
job_yaml "$OUT/teacher-cache" "" > "$OUT/teacher.yaml"
"$ROOT/distill4j" sample "$OUT/teacher.yaml" > "$OUT/teacher.log" 2>&1
job_yaml "$OUT/cache" "  checkpoint: $OUT/teacher-cache-teacher" > "$OUT/job.yaml"
rm -rf "$OUT/warm" && job_yaml "$OUT/warm" "  checkpoint: $OUT/teacher-cache-teacher" | sed 's/^k: .*/k: 2/' > "$OUT/warm.yaml"
"$ROOT/distill4j" sample --engine 'local[1]' "$OUT/warm.yaml" > "$OUT/warm.log" 2>&1   # builds modules/spark if needed

# a standalone master and a worker with 2 cores on 127.0.0.1 (SPARK_HOME: RELEASE and jars/ linking the launcher's
# jars and Spark's); stopped on exit
HOME_DIR="$OUT/spark-home"
rm -rf "$HOME_DIR" && mkdir -p "$HOME_DIR/jars"
echo "Spark 4.0.1 (jars from Maven Central: modules/spark/target/lib)" > "$HOME_DIR/RELEASE"
for j in "$ROOT"/modules/cli/target/lib/*.jar "$ROOT"/modules/spark/target/lib/*.jar; do
  ln -sf "$j" "$HOME_DIR/jars/"
done
PORT=$((20000 + RANDOM % 20000))
PIDS=()
stop() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
start_jvm() {   # $1 log name, then main class and arguments
  local name="$1"; shift
  SPARK_HOME="$HOME_DIR" SPARK_NO_DAEMONIZE=1 SPARK_SCALA_VERSION=2.13 \
    java -Xmx256m --add-opens=java.base/java.nio=ALL-UNNAMED -cp "$HOME_DIR/jars/*" "$@" > "$OUT/$name.log" 2>&1 &
  PIDS+=($!)
}
start_jvm master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$PORT" --webui-port $((PORT + 1))
start_jvm worker org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 2 --memory 8g \
  --webui-port $((PORT + 2)) --work-dir "$OUT/work" "spark://127.0.0.1:$PORT"
for _ in $(seq 1 240); do
  curl -s "http://127.0.0.1:$((PORT + 1))/json/" 2>/dev/null | grep -q '"aliveworkers" *: *1' && break
  sleep 0.5
done
curl -s "http://127.0.0.1:$((PORT + 1))/json/" | grep -q '"aliveworkers" *: *1' || { echo "worker did not register" >&2; exit 1; }

# peak VmHWM (MiB) of the executor JVMs (children of the worker) while a command runs, written to $1
watch_executors() {
  local out="$1" worker="${PIDS[1]}" peak=0
  while :; do
    for p in $(pgrep -P "$worker" 2>/dev/null); do
      if grep -q CoarseGrainedExecutorBackend "/proc/$p/cmdline" 2>/dev/null; then
        local kb; kb=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
        [ -z "$kb" ] || [ "$kb" -le "$peak" ] || peak=$kb
      fi
    done
    echo $((peak / 1024)) > "$out"
    sleep 1   # VmHWM keeps the peak: a slower poll loses nothing but the last second, and takes less of the 2 cores
  done
}

run_side() {   # $1 round, $2 side (local, 1, 2)
  local round="$1" side="$2" log="$OUT/r$1-$2.log" args=() opts="-Xmx4g" w=""
  rm -rf "$OUT/cache"
  if [ "$side" != local ]; then
    args=(--engine "spark://127.0.0.1:$PORT")
    rm -rf "$OUT/events" && mkdir -p "$OUT/events" "$OUT/event-logs"
    # the executors get the local run's heap (-Xmx4g) so that the sides differ only in where the sampler runs
    opts="-Xmx4g -Dspark.executor.cores=1 -Dspark.cores.max=$side -Dspark.executor.memory=4g"
    opts="$opts -Dspark.executor.extraJavaOptions=-XX:MaxNewSize=128m"
    opts="$opts -Dspark.eventLog.enabled=true -Dspark.eventLog.dir=file://$OUT/events -Dspark.eventLog.rolling.enabled=false -Dspark.eventLog.compress=false"
    watch_executors "$OUT/peak" & w=$!
  fi
  local t0 t1; t0=$(date +%s.%N)
  DISTILL4J_JAVA_OPTS="$opts" "$ROOT/distill4j" sample "${args[@]}" "$OUT/job.yaml" > "$log" 2>&1
  t1=$(date +%s.%N)
  local peak=-
  if [ -n "$w" ]; then kill "$w"; wait "$w" 2>/dev/null || true; peak=$(cat "$OUT/peak"); fi
  # "<cache>: N items x K samples (...) in S s, R items/s"
  local s r start
  s=$(sed -n 's/.* in \([0-9.]*\) s, \([0-9]*\) items\/s$/\1/p' "$log" | tail -1)
  r=$(sed -n 's/.* in \([0-9.]*\) s, \([0-9]*\) items\/s$/\2/p' "$log" | tail -1)
  start=$(sed -n 's/.*context on .* started in \([0-9.]*\) s$/\1/p' "$log" | tail -1)
  local wall; wall=$(echo "$t1 - $t0" | bc)
  local ev="- -"
  if [ "$side" != local ]; then
    # from the event log: job submitted -> first task launched, and first task launched -> last task finished
    ev=$(python3 - "$OUT"/events/* <<'PY'
import json, sys
sub = launch = finish = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["Event"] == "SparkListenerJobStart":
        sub = e["Submission Time"]
    elif e["Event"] == "SparkListenerTaskEnd":
        i = e["Task Info"]
        launch = i["Launch Time"] if launch is None else min(launch, i["Launch Time"])
        finish = i["Finish Time"] if finish is None else max(finish, i["Finish Time"])
print(f"{(launch - sub) / 1000:.1f} {(finish - launch) / 1000:.1f}")
PY
)
  fi
  if [ "$side" != local ]; then
    cp "$OUT"/events/* "$OUT/event-logs/r$round-$side.json"
    python3 "$ROOT/benchmarks/spark/task_rates.py" "$log" "$OUT/event-logs/r$round-$side.json" >> "$OUT/task-rates.txt"
  fi
  printf '%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$side" "$wall" "$s" "$r" "${start:--}" "$peak" \
    ${ev% *} ${ev#* } | tee -a "$RUNS"
}

uptime | sed 's/^/load before: /'
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then order=(local 1 2); else order=(2 1 local); fi
  for side in "${order[@]}"; do run_side "$round" "$side"; done
done
uptime | sed 's/^/load after: /'
cat "$OUT/task-rates.txt"
python3 - "$RUNS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
def med(side, key):
    v = [float(r[key]) for r in rows if r['side'] == side and r[key] not in ('', '-')]
    return statistics.median(v) if v else float('nan')
for side in ('local', '1', '2'):
    print(f"{side:>5}: median wall {med(side, 'wall_s'):.1f} s, sampling {med(side, 'sampling_s'):.2f} s "
          f"({med(side, 'items_per_s'):.0f} items/s), Spark start {med(side, 'spark_start_s'):.1f} s, "
          f"job to first task {med(side, 'first_task_s'):.1f} s, tasks span {med(side, 'tasks_span_s'):.1f} s, "
          f"executor peak RSS {med(side, 'executor_peak_rss_mib'):.0f} MiB")
# same-round ratios of sampling time (Spark / local)
for side in ('1', '2'):
    ratios = []
    for r in sorted({x['round'] for x in rows}):
        a = [float(x['sampling_s']) for x in rows if x['round'] == r and x['side'] == side and x['sampling_s']]
        b = [float(x['sampling_s']) for x in rows if x['round'] == r and x['side'] == 'local' and x['sampling_s']]
        if a and b:
            ratios.append(a[0] / b[0])
    print(f"{side} executor(s) / local, sampling time per round: " + ", ".join(f"{x:.2f}" for x in ratios)
          + (f"; median {statistics.median(ratios):.2f}" if ratios else ""))
    spans = []
    for r in sorted({x['round'] for x in rows}):
        a = [float(x['tasks_span_s']) for x in rows if x['round'] == r and x['side'] == side and x['tasks_span_s'] not in ('', '-')]
        b = [float(x['sampling_s']) for x in rows if x['round'] == r and x['side'] == 'local' and x['sampling_s']]
        if a and b:
            spans.append(a[0] / b[0])
    print(f"{side} executor(s) / local, tasks' span (first task launched to last task done) per round: "
          + ", ".join(f"{x:.2f}" for x in spans) + (f"; median {statistics.median(spans):.2f}" if spans else ""))
PY

#!/usr/bin/env bash
# Side by side (issue 13 item 5): `distill4j sample` with an HTTP teacher against the 40-line Python urllib client
# (plain_client.py), the same llama.cpp-shaped stub server (stub_server.py: n > 1 refused, LATENCY_MS per request),
# the same prompts, k seeded requests per prompt, the same concurrency, max_tokens and top-K. Alternates the two
# clients ROUNDS times and prints completions/s of each run and the ratio of means (distill4j / plain).
# distill4j's time is its sampling phase as `sample` reports it (JVM start and server negotiation excluded); the
# plain client's is from its first request to its last answer.
# Usage: benchmarks/http-client/run.sh   (env: PROMPTS=256 K=4 CONCURRENCY=4 MAX_TOKENS=16 TOP=5 LATENCY_MS=20 ROUNDS=3;
#        SPLIT=1: the stub writes headers and body separately, as Python's http.server does by default)
#        JAVA_OPTS: extra JVM options for distill4j, e.g. -XX:TieredStopAtLevel=1 (C1 only: less compilation at start)
#        BASELINE=/path/to/another/checkout: also run that checkout's built CLI each round (old against new)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PROMPTS="${PROMPTS:-256}" K="${K:-4}" CONCURRENCY="${CONCURRENCY:-4}" MAX_TOKENS="${MAX_TOKENS:-16}" TOP="${TOP:-5}"
LATENCY_MS="${LATENCY_MS:-20}" ROUNDS="${ROUNDS:-3}" PORT="${PORT:-18431}" PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for i in $(seq 1 "$PROMPTS"); do echo "Question $i: why does averaging teacher samples lower the variance?"; done > "$WORK/prompts.txt"
"$PYTHON" "$HERE/stub_server.py" "$PORT" "$LATENCY_MS" ${SPLIT:+split} &
SERVER=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
JAR="$ROOT/modules/cli/target/distill4j-cli.jar"
[ -f "$JAR" ] || { echo "build the CLI first (./distill4j --help)" >&2; exit 1; }
WRITES="one write per response"; [ -n "${SPLIT:-}" ] && WRITES="headers and body in two writes"
echo "stub: $WRITES; JAVA_OPTS ${JAVA_OPTS:-none}; prompts $PROMPTS, k $K, concurrency $CONCURRENCY, max_tokens $MAX_TOKENS, top-$TOP, latency ${LATENCY_MS} ms; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  "$PYTHON" "$HERE/plain_client.py" "http://127.0.0.1:$PORT" "$WORK/prompts.txt" "$K" "$CONCURRENCY" "$MAX_TOKENS" "$TOP"
  for SIDE in distill4j ${BASELINE:+baseline}; do
  SIDE_ROOT="$ROOT"; [ "$SIDE" = baseline ] && SIDE_ROOT="$BASELINE"
  rm -rf "$WORK/cache-$r"
  cat > "$WORK/job-$r.yaml" <<YAML
cache: cache-$r
k: $K
seed: $r
rowsPerShard: 64
prompts: {file: prompts.txt}
teacher: {type: http, server: "http://127.0.0.1:$PORT", maxTokens: $MAX_TOKENS, temperature: 1.0, topLogprobs: $TOP,
  concurrency: $CONCURRENCY, nMode: auto}
YAML
  OUT=$(DJL_OFFLINE=true OPT_OUT_TRACKING=true OMP_NUM_THREADS=1 java -Xmx1g ${JAVA_OPTS:-} --add-opens=java.base/java.nio=ALL-UNNAMED \
    -Dai.djl.offline=true -cp "$SIDE_ROOT/modules/cli/target/distill4j-cli.jar:$SIDE_ROOT/modules/cli/target/lib/*" \
    io.distill4j.cli.Main sample "$WORK/job-$r.yaml" 2>/dev/null)
  echo "$OUT" | "$PYTHON" -c "
import re, sys
line = sys.stdin.read().strip().splitlines()[-1]
m = re.search(r'\((\d+) new.* in ([0-9.]+) s', line)
n, s = int(m.group(1)) * $K, float(m.group(2))
print('$SIDE %d completions %.3f s %.1f completions/s' % (n, s, n / s))"
  done
done

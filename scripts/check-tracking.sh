#!/usr/bin/env bash
# Writes tracked training runs with distill4j (TrackingTest) and reads them back with TensorBoard's own reader.
# Needs Python with the tensorboard package, e.g.:
#   python3 -m venv /tmp/venv-tb && /tmp/venv-tb/bin/pip install tensorboard && PYTHON=/tmp/venv-tb/bin/python scripts/check-tracking.sh
# Not part of CI (CI has no Python packages); results are recorded in benchmarks/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
OUT="${1:-$(mktemp -d)}"
rm -rf "$OUT/straight" "$OUT/resumed"
mvn -B -q -pl modules/trainer -am test -Dtest=TrackingTest -Dsurefire.failIfNoSpecifiedTests=false \
    -Ddistill4j.tracking.keep="$OUT"
"$PYTHON" scripts/read_tracking.py "$OUT"

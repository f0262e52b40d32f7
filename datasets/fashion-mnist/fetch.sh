#!/usr/bin/env bash
# Fetches Fashion-MNIST (gzipped IDX files) from the Debian package dataset-fashion-mnist into
# datasets/fashion-mnist/raw/ and checks them against SHA256SUMS. Uses `apt-get download` (no root install)
# and dpkg-deb; runs `apt-get update` first when the package is unknown. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
raw="$here/raw"
mkdir -p "$raw"
if (cd "$raw" && sha256sum --quiet -c "$here/SHA256SUMS" >/dev/null 2>&1); then
  echo "fashion-mnist: $raw is complete and verified"
  exit 0
fi
tmp="$(mktemp -d)"
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
if ! apt-cache show dataset-fashion-mnist >/dev/null 2>&1; then
  apt-get update -qq
fi
(cd "$tmp" && apt-get download -qq dataset-fashion-mnist)
dpkg-deb -x "$tmp"/dataset-fashion-mnist_*.deb "$tmp/x"
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  cp "$tmp/x/usr/share/datasets/fashion-mnist/$f" "$raw/$f.part"
  mv "$raw/$f.part" "$raw/$f"
done
(cd "$raw" && sha256sum -c "$here/SHA256SUMS")
echo "fashion-mnist: fetched into $raw"

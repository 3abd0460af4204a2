#!/usr/bin/env bash
# Rebuilds the shipped PTX from kernels-cu/*.cu: src/main/resources/ptx/<name>.ptx plus
# <name>.ptx.sha256 (the SHA-256 of the .cu source it was built from, checked by the tests).
# compute_75 is the oldest virtual architecture nvcc 13 accepts; no --use_fast_math.
# Usage: ci/build-ptx.sh [output-dir]   (default: src/main/resources/ptx)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-src/main/resources/ptx}"
NVCC="${NVCC:-nvcc}"
command -v "$NVCC" >/dev/null || { echo "build-ptx: nvcc not found (set NVCC)" >&2; exit 2; }
mkdir -p "$out"
for cu in kernels-cu/*.cu; do
  name="$(basename "$cu" .cu)"
  "$NVCC" -ptx -arch=compute_75 -std=c++17 -o "$out/$name.ptx" "$cu"
  sha256sum "$cu" | cut -d' ' -f1 > "$out/$name.ptx.sha256"
  echo "build-ptx: $cu -> $out/$name.ptx ($(wc -c < "$out/$name.ptx") bytes)"
done

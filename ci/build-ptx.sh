#!/usr/bin/env bash
# Rebuilds the shipped PTX from kernels-cu/*.cu: src/main/resources/ptx/<name>.ptx plus
# <name>.ptx.sha256 (the SHA-256 of the .cu source followed by the shared kernels-cl headers, segloss_gen.h,
# segloss_terms.h, segloss_lovasz.h and segloss_edt.h: checked by PtxResourceTest).
# compute_75 is the oldest virtual architecture nvcc 13 accepts; no --use_fast_math.
# nvcc 13 stamps its PTX with ISA 9.0, which only CUDA 13 drivers (r580+) load, though the kernels use
# nothing newer than ISA 6.0 (shfl.sync, bar.warp.sync). The script restamps the PTX with ISA 8.0, the
# ISA of CUDA 12.0, so CUDA 12 drivers (r525+) load it too; ptxas checks every instruction against the
# declared ISA ("Feature X requires PTX ISA .version Y"), and ci/check-ptx.sh runs it on the result.
# Usage: ci/build-ptx.sh [output-dir]   (default: src/main/resources/ptx)
set -euo pipefail
PTX_ISA="8.0"   # CudaDriver.PTX_ISA
cd "$(dirname "$0")/.."
out="${1:-src/main/resources/ptx}"
NVCC="${NVCC:-nvcc}"
command -v "$NVCC" >/dev/null || { echo "build-ptx: nvcc not found (set NVCC)" >&2; exit 2; }
mkdir -p "$out"
for cu in kernels-cu/*.cu; do
  name="$(basename "$cu" .cu)"
  "$NVCC" -ptx -arch=compute_75 -std=c++17 -I kernels-cl -o "$out/$name.ptx.nvcc" "$cu"
  grep -q '^\.version 9\.0$' "$out/$name.ptx.nvcc" \
    || { echo "build-ptx: expected .version 9.0 from nvcc 13, got: $(grep '^\.version' "$out/$name.ptx.nvcc")" >&2; exit 1; }
  sed -e "s|^\.version 9\.0\$|// .version 9.0 of nvcc restamped to $PTX_ISA (CUDA 12.0) by ci/build-ptx.sh\n.version $PTX_ISA|" \
    "$out/$name.ptx.nvcc" > "$out/$name.ptx"
  rm "$out/$name.ptx.nvcc"
  cat "$cu" kernels-cl/segloss_gen.h kernels-cl/segloss_terms.h kernels-cl/segloss_lovasz.h kernels-cl/segloss_edt.h \
    | sha256sum | cut -d" " -f1 > "$out/$name.ptx.sha256"
  echo "build-ptx: $cu -> $out/$name.ptx ($(wc -c < "$out/$name.ptx") bytes)"
done

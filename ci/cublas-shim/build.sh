#!/usr/bin/env bash
# Builds ci/cublas-shim into OUT/libcublas.so.12 (see cublas12_shim.c). Usage: ci/cublas-shim/build.sh OUT
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$1"
mkdir -p "$out"
gcc -O2 -shared -fPIC -Wall -Werror -Wl,-soname,libcublas.so.12 -Wl,--version-script="$here/cublas12_shim.map" \
  -o "$out/libcublas.so.12" "$here/cublas12_shim.c" -ldl

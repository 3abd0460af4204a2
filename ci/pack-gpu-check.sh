#!/usr/bin/env bash
# Assembles everything ci/gpu-check.sh needs into one folder that can be carried to a GPU machine
# with no JDK and no network: a jlinked runtime, the compiled main and test classes (with the PTX),
# the runtime dependency jars (JCuda natives slimmed to libJCudaDriver), and the JUnit Platform
# Console Standalone jar (fetched from Maven Central with mvn here, at packaging time).
# Usage: ci/pack-gpu-check.sh [output-dir]   (default: target/gpu-check)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/gpu-check}"
CONSOLE_VERSION="${CONSOLE_VERSION:-1.11.4}"   # the JUnit Platform of junit-jupiter 5.11.4 in pom.xml
MVN="mvn -B -q"
[ "${OFFLINE:-0}" = 1 ] && MVN="$MVN -o"

rm -rf "$out"
mkdir -p "$out/lib" "$out/lib-test"

$MVN test-compile
jar --create --file "$out/lib/segloss-main.jar" -C target/classes .
jar --create --file "$out/lib-test/segloss-tests.jar" -C target/test-classes .

# runtime dependencies only (no JMH, no JUnit: the console standalone jar carries the JUnit Platform)
$MVN dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$out/lib"
# JCuda's natives jar holds libJCudaDriver (1.2 MB) plus NVRTC / PTX-compiler / runtime bindings (25 MB)
# this backend never loads: keep only the driver binding.
for natives in "$out"/lib/jcuda-natives-*.jar; do
  natives="$(readlink -f "$natives")"
  tmp="$(mktemp -d)"
  (cd "$tmp" && jar --extract --file "$natives" && find lib -type f ! -name 'libJCudaDriver-*' -delete)
  rm "$natives"
  jar --create --file "$natives" -C "$tmp" .
  rm -rf "$tmp"
done
# the test-scope jars the CUDA tests use besides JUnit itself
$MVN dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$CONSOLE_VERSION" \
  -DoutputDirectory="$out/lib-test"

# the OpenCL ICD loader, for GPU machines whose driver brings NVIDIA's OpenCL library but no loader
ocl_loader="$(/sbin/ldconfig -p | awk '/libOpenCL\.so\.1 .*x86-64/ { print $NF; exit }')"
if [ -n "$ocl_loader" ]; then
  mkdir -p "$out/opencl" && cp -L "$ocl_loader" "$out/opencl/libOpenCL.so.1"
else
  echo "pack-gpu-check: no libOpenCL.so.1 here (apt-get install ocl-icd-libopencl1); the OpenCL part needs the GPU machine's own" >&2
fi

# JCublas 12.6 needs libcublas.so.12; for GPU machines with only cuBLAS 13, a shim that forwards the calls of
# CublasSums (ci/cublas-shim/cublas12_shim.c), used by gpu-check.sh only where libcublas.so.12 is absent
ci/cublas-shim/build.sh "$out/cublas12-shim"

ci/make-runtime.sh "$out/runtime" >/dev/null
cp ci/gpu-check.sh "$out/gpu-check.sh"
chmod +x "$out/gpu-check.sh"
git rev-parse --short HEAD > "$out/COMMIT" 2>/dev/null || echo unknown > "$out/COMMIT"

runtime_mb="$(du -sm "$out/runtime" | cut -f1)"
jars_mb="$(du -cm "$out/lib" "$out/lib-test" | tail -1 | cut -f1)"
total_mb="$(du -sm "$out" | cut -f1)"
echo "pack-gpu-check: $out: runtime ${runtime_mb} MB + jars ${jars_mb} MB = ${total_mb} MB (limit 60 MB)"
[ "$total_mb" -lt 60 ] || { echo "pack-gpu-check: over the 60 MB limit" >&2; exit 1; }

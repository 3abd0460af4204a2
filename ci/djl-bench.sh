#!/usr/bin/env bash
# DJL adapter benchmark: forward+backward through SeglossLoss against the same loss composed from DJL NDArray
# ops on libtorch, on the CPU (org.segloss.djl.DjlBench, test scope). glibc's malloc thresholds are raised so
# that freed tensors are not returned to the kernel after every op (otherwise libtorch's times are mostly
# page faults). Usage: ci/djl-bench.sh [H (512)] [reps (7)]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -o test-compile 2>/dev/null || mvn -q -B test-compile
mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath >/dev/null
export MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=17179869184
exec java --add-modules jdk.incubator.vector -Dai.djl.offline=true -DDJL_CACHE_DIR="$PWD/target/djl-cache" \
  -cp "target/test-classes:target/classes:$(cat target/test.classpath)" org.segloss.djl.DjlBench "$@" 2>&1 \
  | grep -Ev '^WARNING: Using incubator|^SLF4J|NNPACK'

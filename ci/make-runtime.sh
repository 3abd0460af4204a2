#!/usr/bin/env bash
# Makes a small Java runtime with jlink for machines without a JDK (ci/gpu-check.sh):
#   java.base, java.logging (JCuda/JOCL/JUnit logging), jdk.incubator.vector (CPU kernels),
#   java.sql + java.xml (JUnit console reports, Jackson's optional date support), jdk.unsupported,
#   jdk.zipfs (the JUnit console scans test jars through the zip file system).
# Debug symbols stripped, no man pages or headers, compressed.
# Usage: ci/make-runtime.sh [output-dir]   (default: target/runtime). Needs a JDK 17+.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/runtime}"
# The JDK to link from: RUNTIME_JDK, else a Temurin JDK 17+ under /usr/lib/jvm, else the JDK of javac.
# Temurin's binaries need glibc 2.17 (any GPU machine from RHEL 7 / Ubuntu 16.04 on); Debian's JDK 17
# needs glibc 2.34 (Ubuntu 22.04, RHEL 9 or newer). The classes are Java 17, so either runs them.
jdk="${RUNTIME_JDK:-}"
if [ -z "$jdk" ]; then
  jdk="$(ls -d /usr/lib/jvm/temurin-*-jdk-* 2>/dev/null | sort -V | tail -1)"
  [ -n "$jdk" ] || jdk="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
fi
JLINK="$jdk/bin/jlink"
[ -x "$JLINK" ] || { echo "make-runtime: no jlink in $jdk (set RUNTIME_JDK to a JDK 17+)" >&2; exit 2; }
MODULES="java.base,java.logging,java.sql,java.xml,jdk.incubator.vector,jdk.unsupported,jdk.zipfs"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
if [ -d "$jdk/jmods" ]; then
  "$JLINK" --module-path "$jdk/jmods" --add-modules "$MODULES" \
    --strip-debug --strip-native-debug-symbols=exclude-debuginfo-files --no-man-pages --no-header-files --compress=2 \
    --output "$out"
else
  # a JDK 24+ without jmods links from its own run-time image (JEP 493); native symbols stripped below
  "$JLINK" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$out" \
    2>&1 | grep -v "incubator modules" || true
  find "$out" -name '*.so' -exec strip --strip-unneeded {} +
fi
glibc="$(find "$out" -name '*.so' -o -path '*/bin/*' -type f | xargs objdump -T 2>/dev/null \
  | grep -o 'GLIBC_[0-9.]*' | sort -V -u | tail -1)"
echo "make-runtime: $out ($(du -sm "$out" | cut -f1) MB, modules $MODULES, from $jdk; needs $glibc)"
